//! The quickstart's wall time (the README's main command, minus the build), as a ratio
//! against a reference measured in the same run: reading and parsing its three data files
//! with serde_json and writing every record back out once, the floor any pipeline over
//! this data pays. Also the warm rerun, answered from the store.
//!
//! The recipe and its data are copied into a temp dir, so outputs never land in the
//! repository. Run: `cargo bench --bench quickstart`.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;
const FILES: [&str; 3] = ["problems.jsonl", "teachers.jsonl", "student.jsonl"];

fn main() {
    let dir = std::env::temp_dir().join(format!("dtac-bench-quickstart-{}", std::process::id()));
    let recipe = copy_quickstart(&dir);
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");

    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut reference = Vec::new();
    for round in 0..ROUNDS {
        let state = dir.join(format!("state-{round}"));
        let t = Instant::now();
        rt.block_on(support::execute(support::resolved(&recipe), &state));
        cold.push(t.elapsed());
        let t = Instant::now();
        rt.block_on(support::execute(support::resolved(&recipe), &state));
        warm.push(t.elapsed());
        let t = Instant::now();
        parse_and_write(&dir.join("data/champ"), &dir.join("reference.jsonl"));
        reference.push(t.elapsed());
    }
    let (cold, warm, reference) = (median(cold), median(warm), median(reference));
    println!("quickstart, median of {ROUNDS} (check + resolve + run + exports):");
    println!("  cold run (empty store)   {:>9.1} ms", ms(cold));
    println!("  warm run (all cached)    {:>9.1} ms", ms(warm));
    println!("  reference (parse+write)  {:>9.1} ms", ms(reference));
    println!(
        "  ratio cold / reference   {:>9.1}x",
        cold.as_secs_f64() / reference.as_secs_f64()
    );
    println!(
        "  ratio warm / reference   {:>9.1}x",
        warm.as_secs_f64() / reference.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn copy_quickstart(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
    let data = dir.join("data/champ");
    std::fs::create_dir_all(&data).expect("temp dir");
    for name in FILES {
        std::fs::copy(root.join("data/champ").join(name), data.join(name)).expect(name);
    }
    let path = dir.join("quickstart.dta");
    std::fs::copy(root.join("quickstart.dta"), &path).expect("recipe");
    path
}

/// Every line of the data files parsed as JSON and written back once.
fn parse_and_write(data: &Path, out: &Path) {
    let mut text = String::new();
    for name in FILES {
        let input = std::fs::read_to_string(data.join(name)).expect("data");
        for line in input.lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("JSON");
            text.push_str(&value.to_string());
            text.push('\n');
        }
    }
    std::fs::write(out, text).expect("write");
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
