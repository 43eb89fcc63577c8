//! Benchmark: `dtac check` on generated recipes of 2,500 to 20,000 stages.
//!
//! Prints, per size, the median time to parse alone and to load + check (parse, resolve,
//! type-check, graph, schemas, templates), their ratio, and the time per stage, so growth
//! can be read as linear or not. Ratios against parsing measured in the same run mean more
//! than absolute times on a shared machine. Run: `cargo bench --bench check`.

use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use dtac_interpreter::{check_text, CheckOptions};

/// A recipe with `stages` stages: a chain of generate → verify pairs reading one dataset,
/// each with a prompt, so every check (names, settings, templates, fields, graph) runs.
fn recipe(stages: usize) -> String {
    let mut s = String::from(
        "version = 1\nparam samples: int = 4\nteacher gpt { model = \"gpt-4o\", rpm = 500 }\n\
         dataset train: jsonl(\"train.jsonl\") { schema = { id: str, question: str, answer: str } }\n\
         prompt solve \"\"\"\n    Solve: {{question}} (answer: {{answer}})\n    \"\"\"\n",
    );
    let mut previous = "train".to_string();
    for i in 0..stages / 2 {
        let _ = writeln!(
            s,
            "stage gen{i}: generate({previous}) {{ teachers = [gpt], prompt = solve, n = samples }}\n\
             stage ver{i}: verify(gen{i}) {{ answer = train.answer }}"
        );
        previous = format!("ver{i}");
    }
    let _ = writeln!(s, "export {previous} to \"out.jsonl\" as jsonl");
    s
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let registry = dtac_stdlib::registry();
    let options = CheckOptions::default();
    println!(
        "{:>7} {:>10} {:>10} {:>13} {:>14}",
        "stages", "parse", "check", "check/parse", "check/stage"
    );
    for stages in [2_500, 5_000, 10_000, 20_000] {
        let text = recipe(stages);
        let checked = check_text(Path::new("bench.dta"), &text, &registry, &options);
        assert!(!checked.has_errors(), "generated recipe must be clean");
        let parse = time(7, || {
            dtac_grammar::parse(&text).expect("parses");
        });
        let check = time(7, || {
            check_text(Path::new("bench.dta"), &text, &registry, &options);
        });
        println!(
            "{stages:>7} {:>8.1}ms {:>8.1}ms {:>12.2}x {:>11.2}µs",
            parse.as_secs_f64() * 1e3,
            check.as_secs_f64() * 1e3,
            check.as_secs_f64() / parse.as_secs_f64(),
            check.as_secs_f64() * 1e6 / stages as f64,
        );
    }
}
