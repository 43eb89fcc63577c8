//! The model-calling DTA ops through `dtac run` against the local test server, with
//! scripted answers: peer review (who reviews whom, low credibility dropped), the style
//! probe (a student on an endpoint and a writer), voting with an inline judge,
//! informativeness through prompt scoring, and rewriting that must keep the answer.

mod support;

use std::path::Path;

use dtac_testkit::{logprob, tokenize, Matcher, RecordedRequest, Rule, Script, TestServer};
use serde_json::{json, Value as Json};
use support::{dtac_env, TempDir};

struct Case {
    dir: TempDir,
    recipe: String,
    server: TestServer,
}

fn case(data: &[Json], recipe: &str, script: Script) -> Case {
    let dir = TempDir::new();
    let lines: String = data.iter().map(|r| format!("{r}\n")).collect();
    dir.write("data.jsonl", &lines);
    let recipe = dir.write("r.dta", recipe);
    Case {
        dir,
        recipe,
        server: TestServer::spawn(script),
    }
}

impl Case {
    fn run(&self) -> support::Run {
        let base = self.server.base_url();
        dtac_env(
            &["run", self.recipe.as_str()],
            &[("DTAC_TEST_ENDPOINT", base.as_str())],
        )
    }

    fn output(&self, name: &str) -> Vec<Json> {
        let text =
            std::fs::read_to_string(Path::new(&self.dir.path).join(name)).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    /// The stage's entry in `.dtac/report.json`.
    fn report_stage(&self, stage: &str) -> Json {
        let text = std::fs::read_to_string(Path::new(&self.dir.path).join(".dtac/report.json"))
            .unwrap_or_default();
        let report: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
        report["stages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == stage)
            .cloned()
            .unwrap_or(Json::Null)
    }

    /// Chat requests to `model`, as sent.
    fn chats_to(&self, model: &str) -> Vec<RecordedRequest> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.path == "/v1/chat/completions")
            .filter(|r| r.json().is_some_and(|b| b["model"] == model))
            .collect()
    }
}

fn teacher(name: &str, model: &str) -> String {
    format!("teacher {name} {{ model = \"{model}\", endpoint = env(\"DTAC_TEST_ENDPOINT\") }}\n")
}

fn review(credibility: f64, verdict: &str) -> String {
    json!({"credibility": credibility, "verdict": verdict, "rationale": "checked"}).to_string()
}

#[test]
fn peer_review_never_asks_the_author_and_drops_low_credibility() {
    let data: Vec<Json> = ["p0", "p1"]
        .iter()
        .flat_map(|p| {
            ["a", "b"].map(|t| {
                json!({"id": p, "question": format!("Question {p}"), "teacher": t,
                       "solution": format!("Solution by {t} for {p}")})
            })
        })
        .collect();
    let asked = |model: &str| Matcher::Model(model.to_string());
    let script = Script::new()
        // c cannot review b's candidate for p1: its review, and the repair turn's, are
        // never valid.
        .rule(
            Rule::contains("Solution by b for p1")
                .and(asked("m-c"))
                .reply("no idea"),
        )
        .rule(
            Rule::contains("Solution under review")
                .and(asked("m-a"))
                .reply(review(0.9, "correct")),
        )
        .rule(
            Rule::contains("Solution under review")
                .and(asked("m-b"))
                .reply(review(0.2, "wrong")),
        )
        .rule(
            Rule::contains("Solution under review")
                .and(asked("m-c"))
                .reply(review(0.5, "flawed")),
        );
    let recipe = format!(
        r#"version = 1
{}{}{}dataset cands: jsonl("data.jsonl")
stage reviewed: peer_review(cands) {{ reviewers = [a, b, c], min_credibility = 0.6 }}
export reviewed to "out/r.jsonl" as jsonl {{ card = false }}
"#,
        teacher("a", "m-a"),
        teacher("b", "m-b"),
        teacher("c", "m-c")
    );
    let c = case(&data, &recipe, script);
    let run = c.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    // a's candidates: b (0.2) and c (0.5) → 0.35, dropped. b's: a (0.9) and c (0.5) →
    // 0.7 for p0; for p1 c's review failed, so a's 0.9 alone.
    let out = c.output("out/r.jsonl");
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out.iter().all(|r| r["teacher"] == "b"));
    assert!((out[0]["credibility"].as_f64().unwrap() - 0.7).abs() < 1e-9);
    assert_eq!(out[1]["credibility"], 0.9);
    let reviewers: Vec<&Json> = out[0]["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["reviewer"])
        .collect();
    assert_eq!(reviewers, [&json!("a"), &json!("c")]);
    let failed = &out[1]["reviews"][1];
    assert_eq!(failed["reviewer"], "c");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("did not follow the schema `review`")),
        "{failed}"
    );
    // Nobody reviewed their own candidate; c reviewed all four (one repair turn more).
    for (model, own, count) in [("m-a", "by a", 2), ("m-b", "by b", 2), ("m-c", "", 5)] {
        let sent = c.chats_to(model);
        assert_eq!(sent.len(), count, "requests to {model}");
        if !own.is_empty() {
            assert!(sent.iter().all(|r| !r.body_text().contains(own)), "{model}");
        }
    }
    let body = c.chats_to("m-a")[0].json().expect("JSON");
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["properties"]["verdict"]["enum"],
        json!(["correct", "flawed", "wrong"])
    );
    let stage = c.report_stage("reviewed");
    assert_eq!(stage["dropped"]["low credibility"], 2, "{stage}");
    let note = &stage["drop_notes"][0];
    assert_eq!(note["reason"], "low credibility");
    assert!((note["detail"]["credibility"].as_f64().unwrap() - 0.35).abs() < 1e-9);
    assert_eq!(note["detail"]["verdicts"][0]["verdict"], "wrong");
}

#[test]
fn style_probe_asks_a_student_endpoint_and_a_writer() {
    let data: Vec<Json> = (0..5)
        .map(|i| {
            json!({"id": format!("p{i}"), "question": format!("What is {i} + {i}?"),
                        "solution": format!("{i} + {i} = {}", 2 * i)})
        })
        .collect();
    let script =
        Script::new()
            .rule(Rule::model("student-m").reply(
                "We add the two numbers.\n\nTherefore the sum is \\boxed{4}, so we are done.",
            ))
            .rule(Rule::model("writer-m").reply("  Use short paragraphs and box the answer.\n"));
    let recipe = format!(
        r#"version = 1
{}student small {{ path = "models/small", endpoint = env("DTAC_TEST_ENDPOINT"), model = "student-m" }}
dataset train: jsonl("data.jsonl")
stage style: style_probe(train) {{ student = small, samples = 3, writer = w, temperature = 0.5 }}
stage recorded: style_probe(train) {{ answers = "solution" }}
export style to "out/style.jsonl" as jsonl {{ card = false }}
export recorded to "out/recorded.jsonl" as jsonl {{ card = false }}
"#,
        teacher("w", "writer-m")
    );
    let c = case(&data, &recipe, script);
    c.dir.tiny_checkpoint("models/small");
    let run = c.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = c.output("out/style.jsonl");
    assert_eq!(out.len(), 1);
    let style = &out[0];
    assert_eq!(style["id"], "style");
    assert_eq!(style["probes"], 3);
    assert_eq!(
        style["style_guide"],
        "Use short paragraphs and box the answer."
    );
    assert_eq!(style["features"]["boxed_rate"], 1.0);
    assert_eq!(style["features"]["language"], "en");
    assert_eq!(style["features"]["steps"]["median"], 2.0);
    assert_eq!(style["examples"].as_array().map(Vec::len), Some(3));
    let student = c.chats_to("student-m");
    assert_eq!(student.len(), 3, "a sample of three probes");
    assert!(student
        .iter()
        .all(|r| r.json().is_some_and(|b| b["temperature"] == 0.5)));
    let writer = c.chats_to("writer-m");
    assert_eq!(writer.len(), 1);
    let asked = writer[0].body_text();
    assert!(asked.contains("answers measured: 3"), "{asked}");
    assert!(asked.contains("--- answer 1 ---"), "{asked}");
    // Recorded answers: no model, a guide from the features alone.
    let recorded = c.output("out/recorded.jsonl");
    assert_eq!(recorded[0]["probes"], 5);
    let guide = recorded[0]["style_guide"].as_str().unwrap_or_default();
    assert!(guide.contains("without LaTeX"), "{guide}");
    assert!(guide.contains("rather than in \\boxed{}"), "{guide}");
}

fn judgement(overall: u32) -> String {
    json!({"scores": {"correctness": overall, "completeness": overall, "clarity": overall,
                      "conciseness": overall},
           "overall": overall, "rationale": "fine"})
    .to_string()
}

#[test]
fn vote_judges_inline_and_keeps_the_best_per_problem() {
    let cand = |id: &str, teacher: &str, sample: u32| {
        json!({"id": id, "question": format!("Question {id}"), "teacher": teacher,
               "sample": sample, "candidate_id": format!("{id}/{teacher}/{sample}"),
               "solution": format!("Solution {id} {teacher}{sample}")})
    };
    let data = vec![
        cand("p0", "b", 0),
        cand("p0", "a", 0),
        cand("p0", "a", 1),
        cand("p1", "b", 0),
        cand("p1", "a", 0),
    ];
    let script = Script::new()
        .rule(Rule::contains("Solution p0 a0").reply(judgement(9)))
        .rule(Rule::contains("Solution p0 b0").reply(judgement(5)))
        // Never valid, even after the repair turn: a0's rival has no reward.
        .rule(Rule::contains("Solution p0 a1").reply("a fine solution"))
        .rule(Rule::contains("Solution p1").reply(judgement(7)));
    let recipe = format!(
        r#"version = 1
{}dataset cands: jsonl("data.jsonl")
stage ranked: vote(cands) {{ weights = {{ reward = 1.0 }}, judge = j, keep = 1 }}
export ranked to "out/v.jsonl" as jsonl {{ card = false }}
"#,
        teacher("j", "judge-m")
    );
    let c = case(&data, &recipe, script);
    let run = c.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = c.output("out/v.jsonl");
    let kept: Vec<&str> = out
        .iter()
        .filter_map(|r| r["candidate_id"].as_str())
        .collect();
    // p1's candidates tie on reward: teacher `a` comes before `b`.
    assert_eq!(kept, ["p0/a/0", "p1/a/0"]);
    assert!(out
        .iter()
        .all(|r| r["chosen"] == true && r["vote_rank"] == 1));
    assert_eq!(out[0]["rejected"], json!(["Solution p0 b0"]));
    assert_eq!(out[1]["rejected"], json!(["Solution p1 b0"]));
    assert!((out[0]["reward"].as_f64().unwrap() - 8.0 / 9.0).abs() < 1e-9);
    assert_eq!(out[0]["judge_scores"]["clarity"], 9);
    // Rank-normalized: the best of two gets 1, a tie 0.5.
    assert_eq!(out[0]["vote_score"], 1.0);
    assert_eq!(out[1]["vote_score"], 0.5);
    let stage = c.report_stage("ranked");
    assert_eq!(stage["dropped"]["not chosen"], 2, "{stage}");
    assert_eq!(stage["dropped"]["missing score"], 1, "{stage}");
    let note = &stage["drop_notes"][0];
    assert_eq!(note["detail"]["score"], "reward");
    assert!(note["detail"]["error"]
        .as_str()
        .is_some_and(|e| e.contains("judgement")));
}

/// Mean log-probability of `target` after `context` as the test server scores it: the
/// prompt's tokens from the target's first character on, the very first token excepted.
fn mean_logprob(context: &str, target: &str) -> f64 {
    let prompt = format!("{context}{target}");
    let start = context.chars().count();
    let mut offset = 0;
    let mut scored = Vec::new();
    for (pos, tok) in tokenize(&prompt).into_iter().enumerate() {
        if pos > 0 && offset >= start {
            scored.push(logprob(tok, pos));
        }
        offset += tok.chars().count();
    }
    scored.iter().sum::<f64>() / scored.len() as f64
}

const REVERSE: &str = "Below is the response to an instruction, please guess the corresponding \
instruction for the given response.\n{response}\nGenerate the instruction for the above response.";

#[test]
fn informativeness_is_read_from_prompt_logprobs() {
    let data: Vec<Json> = (0..2)
        .flat_map(|i| {
            (0..2).map(move |k| {
                json!({"id": format!("p{i}"), "question": format!("What is {i} plus {i} in total?"),
                       "teacher": "t", "sample": k,
                       "solution": format!("Adding {i} and {i} gives {}.{}", 2 * i, " Indeed.".repeat(k))})
            })
        })
        .collect();
    let recipe = format!(
        r#"version = 1
{}dataset cands: jsonl("data.jsonl")
stage informed: informativeness(cands) {{ model = s, chat_template = false }}
stage forward: informativeness(cands) {{ model = s, chat_template = false, metric = "ifd" }}
stage ranked: vote(cands) {{ weights = {{ informativeness = 1.0 }}, informativeness = s, emit = "all" }}
export informed to "out/i.jsonl" as jsonl {{ card = false }}
export forward to "out/f.jsonl" as jsonl {{ card = false }}
export ranked to "out/v.jsonl" as jsonl {{ card = false }}
"#,
        teacher("s", "scorer")
    );
    let c = case(&data, &recipe, Script::new());
    let run = c.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let informed = c.output("out/i.jsonl");
    assert_eq!(informed.len(), 4);
    for r in &informed {
        let x = r["question"].as_str().unwrap();
        let y = r["solution"].as_str().unwrap();
        let conditioned = mean_logprob(&format!("{}\n\n", REVERSE.replace("{response}", y)), x);
        let plain = mean_logprob("", x);
        let expected = conditioned - plain;
        let got = r["informativeness"].as_f64().unwrap();
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
        let ratio = r["ifd_ratio"].as_f64().unwrap();
        assert!((ratio - (-expected).exp()).abs() < 1e-9);
        assert!((r["ppl_plain"].as_f64().unwrap() - (-plain).exp()).abs() < 1e-9);
    }
    for r in &c.output("out/f.jsonl") {
        let x = r["question"].as_str().unwrap();
        let y = r["solution"].as_str().unwrap();
        let expected = mean_logprob(&format!("{x}\n\n"), y) - mean_logprob("", y);
        assert!((r["informativeness"].as_f64().unwrap() - expected).abs() < 1e-9);
    }
    // Scoring only: per record the conditioned text and the plain one, which candidates
    // of one problem share for r-IFD (the plain question). Vote's inline scores are the
    // same requests as `informed`'s.
    let sent = c.server.requests();
    assert!(sent.iter().all(|r| r.path == "/v1/completions"));
    let mut bodies: Vec<String> = sent.iter().map(|r| r.body_text()).collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), (4 + 2) + (4 + 4));
    // Vote with the same scores inline: each problem's best informativeness is chosen.
    let voted = c.output("out/v.jsonl");
    assert_eq!(voted.len(), 4);
    for r in &voted {
        let same = informed
            .iter()
            .find(|i| i["id"] == r["id"] && i["sample"] == r["sample"])
            .expect("the same candidate");
        assert_eq!(r["informativeness"], same["informativeness"]);
        let rival = informed
            .iter()
            .find(|i| i["id"] == r["id"] && i["sample"] != r["sample"])
            .expect("its rival");
        // Texts of different lengths put the question at different positions, so the
        // two never tie.
        assert_ne!(r["informativeness"], rival["informativeness"]);
        let better = r["informativeness"].as_f64() > rival["informativeness"].as_f64();
        assert_eq!(r["chosen"], better, "{r}");
        assert_eq!(r["vote_rank"], if better { 1 } else { 2 });
    }
}

#[test]
fn informativeness_refuses_templates_on_endpoints_and_scores_local_students() {
    // A question of several tokens: Qwen has no BOS, so the first token of the plain
    // text is not scored.
    let data = vec![json!({"id": "p0", "question": "What is two plus two?", "solution": "Four."})];
    let recipe = format!(
        r#"version = 1
{}dataset cands: jsonl("data.jsonl")
stage informed: informativeness(cands) {{ model = s }}
export informed to "out/i.jsonl" as jsonl {{ card = false }}
"#,
        teacher("s", "scorer")
    );
    let c = case(&data, &recipe, Script::new());
    let refused = c.run();
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("chat_template = false"),
        "{}",
        refused.stderr
    );
    c.dir.write(
        "r.dta",
        r#"version = 1
student small { path = "models/small" }
dataset cands: jsonl("data.jsonl")
stage informed: informativeness(cands) { model = small }
export informed to "out/i.jsonl" as jsonl { card = false }
"#,
    );
    // A local student is scored in-process, with its chat template: no request is sent.
    c.dir.tiny_checkpoint("models/small");
    let local = c.run();
    assert_eq!(local.code, 0, "{}", local.stderr);
    let scored = c.output("out/i.jsonl");
    assert!(
        scored[0]["ifd_ratio"].as_f64().is_some_and(f64::is_finite),
        "{scored:?}"
    );
    assert_eq!(c.server.stats().total, 0, "nothing was sent");
}

#[test]
fn rewrite_follows_the_style_profile_and_keeps_the_answer() {
    let data: Vec<Json> = (0..2)
        .map(|i| {
            json!({"id": format!("p{i}"), "question": format!("Question p{i}"), "teacher": "t",
                   "solution": format!("We add {i} and {i}. Therefore the sum is \\boxed{{{}}}.", 2 * i)})
        })
        .collect();
    let script = Script::new()
        .rule(Rule::contains("Question p0").reply("  So the sum is \\boxed{0}.\n"))
        // Changes p1's answer from 2 to 5.
        .rule(Rule::contains("Question p1").reply("So the sum is \\boxed{5}."));
    let recipe = format!(
        r#"version = 1
{}dataset cands: jsonl("data.jsonl")
stage style: style_probe(cands) {{ answers = "solution" }}
stage aligned: rewrite(cands) {{ teacher = r, style = style }}
stage reverted: rewrite(cands) {{ teacher = r, style = style, on_changed_answer = "keep_original" }}
export aligned to "out/a.jsonl" as jsonl {{ card = false }}
export reverted to "out/k.jsonl" as jsonl {{ card = false }}
"#,
        teacher("r", "rewriter-m")
    );
    let c = case(&data, &recipe, script);
    let run = c.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let aligned = c.output("out/a.jsonl");
    assert_eq!(aligned.len(), 1, "p1's answer changed: dropped");
    let r = &aligned[0];
    assert_eq!(r["solution"], "So the sum is \\boxed{0}.");
    assert_eq!(r["original"], data[0]["solution"]);
    assert_eq!(
        (r["rewriter"].as_str(), r["reverted"].as_bool()),
        (Some("r"), Some(false))
    );
    // 10 words before, 5 after, sharing the last 4: six edits over ten words.
    assert_eq!(r["edit_ratio"], 0.6);
    let stage = c.report_stage("aligned");
    assert_eq!(stage["dropped"]["answer changed by rewrite"], 1, "{stage}");
    let note = &stage["drop_notes"][0];
    assert_eq!(
        (
            note["record"].as_str(),
            note["detail"]["before"].as_str(),
            note["detail"]["after"].as_str()
        ),
        (Some("p1"), Some("2"), Some("5"))
    );
    // The prompt carried the profile: the guide, the features and an example.
    let asked = c.chats_to("rewriter-m")[0].body_text();
    assert!(
        asked.contains("style guide:\\nWrite in English."),
        "{asked}"
    );
    assert!(asked.contains("boxed_rate"), "{asked}");
    assert!(asked.contains("--- example 1 ---"), "{asked}");
    let kept = c.output("out/k.jsonl");
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[1]["reverted"], true);
    assert_eq!(kept[1]["solution"], data[1]["solution"]);
    assert_eq!(kept[1]["edit_ratio"], 0.0);
}
