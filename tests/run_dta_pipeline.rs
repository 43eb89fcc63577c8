//! The whole DTA data phase through `dtac run` against the local test server, every
//! answer scripted: three teachers generate, `verify` drops a wrong and an unanswered
//! candidate, peer review (never by the author) drops one of low credibility,
//! decontamination drops one that quotes a benchmark item, the style is probed from
//! recorded student answers with a writer, a rewrite that changes the answer is dropped,
//! and an inline judge with credibility decides the vote. The exports, the run report and
//! the requests sent are checked, and a second run sends nothing.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use dtac_testkit::{RecordedRequest, RequestView, Rule, Script, TestServer};
use serde_json::{json, Value as Json};
use support::{dtac_env, TempDir};

/// The teachers: recipe name and model, each on the test server.
const TEACHERS: [(&str, &str); 3] = [
    ("alpha", "m-alpha"),
    ("beta", "m-beta"),
    ("gamma", "m-gamma"),
];

/// The problems: id, question, reference answer.
const PROBLEMS: [(&str, &str, &str); 4] = [
    ("p1", "What is 6 times 7?", "42"),
    ("p2", "What is 15 plus 27 minus 2?", "40"),
    ("p3", "How many sides does a hexagon have?", "6"),
    ("p4", "What is 100 divided by 4?", "25"),
];

/// The benchmark item `p2`'s candidate by gamma quotes (14 words after normalization, so
/// it shares 13-grams with it).
const LEAKED: &str =
    "A cyclist rides forty two kilometres in three hours along a flat coastal road; what is her average speed?";

/// One teacher's candidate and everything scripted about it. `reviews` are the other
/// two teachers' (credibility, verdict) in teacher order; `rewrite` is alpha's rewrite
/// and `judged` beta's overall score of that rewrite.
struct Candidate {
    problem: &'static str,
    teacher: &'static str,
    solution: &'static str,
    reviews: Option<[(f64, &'static str); 2]>,
    rewrite: Option<&'static str>,
    judged: Option<u32>,
}

const fn cand(problem: &'static str, teacher: &'static str, solution: &'static str) -> Candidate {
    Candidate {
        problem,
        teacher,
        solution,
        reviews: None,
        rewrite: None,
        judged: None,
    }
}

impl Candidate {
    const fn reviewed(mut self, reviews: [(f64, &'static str); 2]) -> Self {
        self.reviews = Some(reviews);
        self
    }

    const fn rewritten(mut self, rewrite: &'static str, judged: Option<u32>) -> Self {
        self.rewrite = Some(rewrite);
        self.judged = judged;
        self
    }

    fn id(&self) -> String {
        format!("{}/{}/0", self.problem, self.teacher)
    }

    fn model(&self) -> &'static str {
        model_of(self.teacher)
    }
}

fn model_of(teacher: &str) -> &'static str {
    TEACHERS
        .iter()
        .find(|(t, _)| *t == teacher)
        .map(|(_, m)| *m)
        .expect("a teacher")
}

fn candidates() -> Vec<Candidate> {
    const GOOD: (f64, &str) = (0.9, "correct");
    vec![
        cand(
            "p1",
            "alpha",
            "Adding six sevens: 7 + 7 + 7 + 7 + 7 + 7 = 42. \\boxed{42}",
        )
        .reviewed([GOOD, GOOD])
        .rewritten(
            "Step 1: multiply, 6 x 7 = 42.\n\nSo the product is \\boxed{42}.",
            Some(6),
        ),
        cand(
            "p1",
            "beta",
            "Six times seven is forty-two, so the product is \\boxed{42}.",
        )
        .reviewed([(0.8, "correct"), (0.8, "correct")])
        .rewritten(
            "Step 1: six sevens make 42.\n\nSo the product is \\boxed{42}.",
            Some(9),
        ),
        // Wrong: dropped by verify.
        cand("p1", "gamma", "Six times seven is \\boxed{48}."),
        cand(
            "p2",
            "alpha",
            "First 15 + 27 = 42, then 42 - 2 = 40. \\boxed{40}",
        )
        .reviewed([(0.7, "correct"), (0.7, "flawed")])
        .rewritten(
            "Step 1: 15 + 27 = 42.\nStep 2: 42 - 2 = 40.\n\nSo the result is \\boxed{40}.",
            Some(8),
        ),
        cand(
            "p2",
            "beta",
            "Subtract first: 27 - 2 = 25, and 15 + 25 = 40. \\boxed{40}",
        )
        .reviewed([(0.95, "correct"), (0.95, "correct")])
        .rewritten(
            "Step 1: 27 - 2 = 25.\nStep 2: 15 + 25 = 40.\n\nSo the result is \\boxed{40}.",
            Some(5),
        ),
        // Credible, but it quotes benchmark item b2: dropped by decontaminate.
        cand(
            "p2",
            "gamma",
            "Just as a cyclist rides forty two kilometres in three hours along a flat coastal \
             road, we go step by step: 15 + 27 = 42 and 42 - 2 = 40. \\boxed{40}",
        )
        .reviewed([GOOD, GOOD]),
        cand(
            "p3",
            "alpha",
            "A hexagon is a polygon with \\boxed{6} sides.",
        )
        .reviewed([GOOD, GOOD])
        .rewritten(
            "Step 1: a hexagon has six sides.\n\nSo the count is \\boxed{6}.",
            Some(7),
        ),
        // Right answer, but its reviewers doubt it: 0.3 on average, dropped.
        cand(
            "p3",
            "beta",
            "Hexagons have six corners and so \\boxed{6} sides.",
        )
        .reviewed([(0.4, "flawed"), (0.2, "wrong")]),
        // No final answer at all: dropped by verify.
        cand("p3", "gamma", "I am not sure how to count them."),
        cand("p4", "alpha", "Dividing, 100 / 4 = 25. \\boxed{25}")
            .reviewed([(0.85, "correct"), (0.85, "correct")])
            .rewritten(
                "Step 1: 100 / 4 = 25.\n\nSo each part is \\boxed{25}.",
                Some(4),
            ),
        cand(
            "p4",
            "beta",
            "Four quarters of 100 are 25 each. \\boxed{25}",
        )
        .reviewed([(0.75, "correct"), (0.75, "correct")])
        .rewritten(
            "Step 1: a quarter of 100 is 25.\n\nSo each part is \\boxed{25}.",
            Some(4),
        ),
        // The rewrite changes the answer from 25 to 26: dropped by rewrite.
        cand(
            "p4",
            "gamma",
            "One hundred split four ways gives \\boxed{25}.",
        )
        .reviewed([(0.8, "correct"), (0.8, "correct")])
        .rewritten(
            "Step 1: 100 / 4 = 26.\n\nSo each part is \\boxed{26}.",
            None,
        ),
    ]
}

/// The student's recorded answers, for the style probe.
const STUDENT: [&str; 3] = [
    "Step 1: add the numbers.\n\nSo the answer is \\boxed{5}.",
    "Step 1: count the edges.\n\nSo the answer is \\boxed{12}.",
    "Step 1: halve it.\n\nSo the answer is \\boxed{3}.",
];

const GUIDE: &str = "Use one short numbered step per line and end with the boxed answer.";

// Markers of each kind of request, from the recipe's prompt and the ops' default ones.
const GENERATE: &str = "Solve the problem step by step.";
const REVIEW: &str = "Solution under review:";
const WRITER: &str = "Measurements of the student's answers:";
const REWRITE: &str = "Solution to rewrite:";
const JUDGE: &str = "Solution to grade:";

fn review(credibility: f64, verdict: &str) -> String {
    json!({"credibility": credibility, "verdict": verdict, "rationale": "checked"}).to_string()
}

fn judgement(overall: u32) -> String {
    json!({"scores": {"correctness": overall, "completeness": overall, "clarity": overall,
                      "conciseness": overall},
           "overall": overall, "rationale": "scripted"})
    .to_string()
}

/// A rule for requests to `model` whose user message holds `marker` and `text`.
fn asked(model: &'static str, marker: &'static str, text: &str) -> Rule {
    let text = text.to_string();
    Rule::matching(move |v: &RequestView| {
        v.model == model && v.last_user.contains(marker) && v.last_user.contains(&text)
    })
}

/// The other two teachers, in teacher order.
fn reviewers_of(author: &str) -> Vec<&'static str> {
    TEACHERS
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| *t != author)
        .collect()
}

fn script(cands: &[Candidate]) -> Script {
    let mut script = Script::new();
    for c in cands {
        let question = PROBLEMS
            .iter()
            .find(|p| p.0 == c.problem)
            .expect("problem")
            .1;
        script = script.rule(asked(c.model(), GENERATE, question).reply(c.solution));
        if let Some(reviews) = c.reviews {
            for (reviewer, (credibility, verdict)) in
                reviewers_of(c.teacher).into_iter().zip(reviews)
            {
                script = script.rule(
                    asked(model_of(reviewer), REVIEW, c.solution)
                        .reply(review(credibility, verdict)),
                );
            }
        }
        if let Some(rewrite) = c.rewrite {
            script = script.rule(asked("m-alpha", REWRITE, c.solution).reply(rewrite));
            if let Some(overall) = c.judged {
                script = script.rule(asked("m-beta", JUDGE, rewrite).reply(judgement(overall)));
            }
        }
    }
    script
        .rule(asked("m-alpha", WRITER, "").reply(GUIDE))
        // Anything else is a request nobody expected.
        .rule(Rule::any().reply("UNSCRIPTED"))
}

const RECIPE: &str = r#"version = 1

teacher alpha { model = "m-alpha", endpoint = env("DTAC_TEST_ENDPOINT") }
teacher beta { model = "m-beta", endpoint = env("DTAC_TEST_ENDPOINT") }
teacher gamma { model = "m-gamma", endpoint = env("DTAC_TEST_ENDPOINT") }

dataset train: jsonl("train.jsonl") { schema = { id: str, question: str, answer: str } }
dataset bench: jsonl("bench.jsonl") { schema = { id: str, question: str, answer: str } }
dataset recorded: jsonl("student.jsonl")

prompt solve """
    Solve the problem step by step. The correct final answer is {{answer}}; derive it and
    put it in \boxed{}.

    Problem: {{question}}
    """

stage candidates: generate(train) { teachers = [alpha, beta, gamma], prompt = solve, n = 1 }
stage checked: verify(candidates) { answer = train.answer }
stage agreed: consensus(checked)
stage reviewed: peer_review(agreed) {
    reviewers = [alpha, beta, gamma]
    exclude_author = true
    aggregate = "mean"
    min_credibility = 0.6
}
stage clean: decontaminate(reviewed) { against = [bench], ngram = 13 }
stage style: style_probe(recorded) { answers = "response", writer = alpha }
stage aligned: rewrite(clean) { teacher = alpha, style = style }
stage ranked: vote(aligned) {
    weights = { reward = 0.7, credibility = 0.3 }
    normalize = "rank"
    judge = beta
    keep = 1
}

export ranked to "out/sft.jsonl" as chat
export ranked to "out/preference.jsonl" as preference
export ranked to "out/ranked.jsonl" as jsonl { card = false }
"#;

struct Case {
    dir: TempDir,
    recipe: String,
    server: TestServer,
}

impl Case {
    fn new() -> Self {
        let dir = TempDir::new();
        let train: String = PROBLEMS
            .iter()
            .map(|(id, q, a)| format!("{}\n", json!({"id": id, "question": q, "answer": a})))
            .collect();
        dir.write("train.jsonl", &train);
        let bench = [
            json!({"id": "b1", "question": "What is the sum of the first ten positive integers?", "answer": "55"}),
            json!({"id": "b2", "question": LEAKED, "answer": "14 km/h"}),
        ];
        dir.write("bench.jsonl", &lines(&bench));
        let student: Vec<Json> = STUDENT
            .iter()
            .enumerate()
            .map(|(i, r)| json!({"id": format!("s{i}"), "question": format!("Probe {i}"), "response": r}))
            .collect();
        dir.write("student.jsonl", &lines(&student));
        let recipe = dir.write("dta.dta", RECIPE);
        Case {
            dir,
            recipe,
            server: TestServer::spawn(script(&candidates())),
        }
    }

    fn run(&self) -> support::Run {
        let base = self.server.base_url();
        dtac_env(
            &["run", self.recipe.as_str()],
            &[("DTAC_TEST_ENDPOINT", base.as_str())],
        )
    }

    fn output(&self, name: &str) -> Vec<Json> {
        let text = std::fs::read_to_string(Path::new(&self.dir.path).join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    fn report(&self) -> Json {
        let path = Path::new(&self.dir.path).join(".dtac/report.json");
        let text = std::fs::read_to_string(path).expect("report.json");
        serde_json::from_str(&text).expect("report JSON")
    }
}

fn lines(records: &[Json]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

/// A chat request as sent: its model and its last user message.
fn asked_of(r: &RecordedRequest) -> (String, String) {
    let body = r.json().expect("a JSON body");
    let user = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string();
    (body["model"].as_str().unwrap_or_default().to_string(), user)
}

fn teacher_of(model: &str) -> &'static str {
    TEACHERS
        .iter()
        .find(|(_, m)| *m == model)
        .map(|(t, _)| *t)
        .unwrap_or_else(|| panic!("no teacher serves {model}"))
}

fn stage<'a>(report: &'a Json, name: &str) -> &'a Json {
    report["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no stage `{name}` in the report"))
}

fn rewrite_of(cands: &[Candidate], id: &str) -> &'static str {
    cands
        .iter()
        .find(|c| c.id() == id)
        .and_then(|c| c.rewrite)
        .expect("a rewritten candidate")
}

fn question_of(problem: &str) -> &'static str {
    PROBLEMS
        .iter()
        .find(|p| p.0 == problem)
        .map(|p| p.1)
        .expect("a problem")
}

#[test]
fn dta_keeps_the_verified_credible_clean_faithful_and_best_judged_candidates() {
    let cands = candidates();
    let c = Case::new();
    let run = c.run();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // The survivors: per problem, the judge's favourite (p1: beta 9 over alpha 6; p2:
    // alpha 8 over beta 5); p3's only candidate left; p4's judge tie (4 and 4) broken by
    // credibility (alpha 0.85 over beta 0.75).
    let survivors = [
        ("p1", "p1/beta/0", Some("p1/alpha/0")),
        ("p2", "p2/alpha/0", Some("p2/beta/0")),
        ("p3", "p3/alpha/0", None),
        ("p4", "p4/alpha/0", Some("p4/beta/0")),
    ];
    let sft = c.output("out/sft.jsonl");
    let expected: Vec<Json> = survivors
        .iter()
        .map(|(id, kept, _)| {
            json!({"id": id, "messages": [
                {"role": "user", "content": question_of(id)},
                {"role": "assistant", "content": rewrite_of(&cands, kept)},
            ]})
        })
        .collect();
    assert_eq!(sft, expected);
    let pairs = c.output("out/preference.jsonl");
    let expected: Vec<Json> = survivors
        .iter()
        .filter_map(|(id, kept, lost)| {
            Some(json!({"id": id,
                "prompt": [{"role": "user", "content": question_of(id)}],
                "chosen": [{"role": "assistant", "content": rewrite_of(&cands, kept)}],
                "rejected": [{"role": "assistant", "content": rewrite_of(&cands, (*lost)?)}],
            }))
        })
        .collect();
    assert_eq!(pairs, expected, "p3 has nothing to pair with");

    // Why they won: reward = (overall - 1) / 9 at weight 0.7, credibility at 0.3, both
    // rank-normalized within the problem (a tie and a lone candidate get 0.5).
    let ranked = c.output("out/ranked.jsonl");
    let kept: Vec<(&str, &str)> = ranked
        .iter()
        .map(|r| {
            (
                r["candidate_id"].as_str().unwrap(),
                r["teacher"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [
            ("p1/beta/0", "beta"),
            ("p2/alpha/0", "alpha"),
            ("p3/alpha/0", "alpha"),
            ("p4/alpha/0", "alpha")
        ]
    );
    let close = |a: &Json, b: f64| (a.as_f64().expect("a number") - b).abs() < 1e-9;
    for (r, (score, reward, credibility)) in ranked.iter().zip([
        (0.7, 8.0 / 9.0, 0.8),
        (0.7, 7.0 / 9.0, 0.7),
        (0.5, 6.0 / 9.0, 0.9),
        (0.35 + 0.3, 3.0 / 9.0, 0.85),
    ]) {
        assert!(close(&r["vote_score"], score), "{r}");
        assert!(close(&r["reward"], reward), "{r}");
        assert!(close(&r["credibility"], credibility), "{r}");
        assert_eq!((&r["vote_rank"], &r["chosen"]), (&json!(1), &json!(true)));
        assert_eq!(r["agreement"], 1.0, "verified candidates all agree");
        assert_eq!(
            (&r["rewriter"], &r["reverted"]),
            (&json!("alpha"), &json!(false))
        );
        let original = cands
            .iter()
            .find(|k| r["candidate_id"] == k.id())
            .map(|k| k.solution);
        assert_eq!(r["original"].as_str(), original);
    }

    // The report: every stage's funnel, why records left and the notes on them.
    let report = c.report();
    assert_eq!(report["outcome"], "completed");
    let funnel = [
        ("candidates", 4, 12, json!({})),
        (
            "checked",
            12,
            10,
            json!({"wrong answer": 1, "no answer": 1}),
        ),
        ("agreed", 10, 10, json!({})),
        ("reviewed", 10, 9, json!({"low credibility": 1})),
        ("clean", 9, 8, json!({"contaminated": 1})),
        ("style", 3, 1, json!({})),
        ("aligned", 8, 7, json!({"answer changed by rewrite": 1})),
        ("ranked", 7, 4, json!({"not chosen": 3})),
    ];
    for (name, records_in, records_out, dropped) in &funnel {
        let s = stage(&report, name);
        assert_eq!(
            (
                &s["records_in"],
                &s["records_out"],
                &s["dropped"],
                &s["errors"]
            ),
            (&json!(records_in), &json!(records_out), dropped, &json!(0)),
            "{name}: {s}"
        );
    }
    let note = |name: &str| {
        let notes = stage(&report, name)["drop_notes"].clone();
        assert_eq!(notes.as_array().map(Vec::len), Some(1), "{name}: {notes}");
        notes[0].clone()
    };
    let low = note("reviewed");
    assert_eq!(
        (&low["record"], &low["reason"]),
        (&json!("p3/beta/0"), &json!("low credibility"))
    );
    assert!(close(&low["detail"]["credibility"], 0.3), "{low}");
    assert_eq!(
        low["detail"]["verdicts"],
        json!([{"reviewer": "alpha", "verdict": "flawed"}, {"reviewer": "gamma", "verdict": "wrong"}])
    );
    let leak = note("clean");
    assert_eq!(
        leak,
        json!({"record": "p2/gamma/0", "reason": "contaminated", "detail": {
            "benchmark": "bench", "benchmark_id": "b2", "field": "solution",
            "ngram": "a cyclist rides forty two kilometres in three hours along a flat coastal"}})
    );
    let changed = note("aligned");
    assert_eq!(
        changed,
        json!({"record": "p4/gamma/0", "reason": "answer changed by rewrite",
               "detail": {"before": "25", "after": "26"}})
    );

    // The requests: each kind exactly as often as the funnel says, each to the right
    // model, and nothing unscripted.
    let sent: Vec<(String, String)> = c.server.requests().iter().map(asked_of).collect();
    assert_eq!(c.server.total(), sent.len() as u64, "all requests recorded");
    let of_kind = |marker: &str| -> Vec<&(String, String)> {
        sent.iter()
            .filter(|(_, text)| text.contains(marker))
            .collect()
    };
    let generated = of_kind(GENERATE);
    assert_eq!(generated.len(), 12);
    let mut asked_for: Vec<(String, &str)> = generated
        .iter()
        .map(|(model, text)| {
            let problem = PROBLEMS
                .iter()
                .find(|p| text.contains(p.1))
                .expect("a problem");
            (model.clone(), problem.0)
        })
        .collect();
    asked_for.sort();
    asked_for.dedup();
    assert_eq!(asked_for.len(), 12, "each teacher asked each problem once");
    let writer = of_kind(WRITER);
    assert_eq!(writer.len(), 1);
    assert_eq!(writer[0].0, "m-alpha");
    assert!(
        STUDENT.iter().all(|a| writer[0].1.contains(a)),
        "{}",
        writer[0].1
    );
    let rewrites = of_kind(REWRITE);
    assert_eq!(rewrites.len(), 8, "the clean candidates");
    assert!(rewrites
        .iter()
        .all(|(m, t)| m == "m-alpha" && t.contains(GUIDE)));
    let judged = of_kind(JUDGE);
    assert_eq!(judged.len(), 7, "the faithful rewrites");
    assert!(judged.iter().all(|(m, _)| m == "m-beta"));
    let reviews = of_kind(REVIEW);
    // Peer review: every reviewed candidate went to exactly the two teachers that did not
    // write it, and never to its author.
    let mut pairs_seen = BTreeSet::new();
    for (model, text) in &reviews {
        let under_review: Vec<&Candidate> =
            cands.iter().filter(|k| text.contains(k.solution)).collect();
        assert_eq!(under_review.len(), 1, "{text}");
        let author = under_review[0].teacher;
        let reviewer = teacher_of(model);
        assert_ne!(reviewer, author, "{reviewer} reviewed its own candidate");
        assert!(
            pairs_seen.insert((under_review[0].id(), reviewer)),
            "asked twice"
        );
    }
    let expected: BTreeSet<(String, &str)> = cands
        .iter()
        .filter(|k| k.reviews.is_some())
        .flat_map(|k| reviewers_of(k.teacher).into_iter().map(|r| (k.id(), r)))
        .collect();
    assert_eq!(pairs_seen, expected);
    assert_eq!(reviews.len(), 20);
    assert_eq!(
        generated.len() + writer.len() + rewrites.len() + judged.len() + reviews.len(),
        sent.len(),
        "only the expected kinds of request"
    );

    // A second run answers everything from the store: no request, same outputs.
    let before = c.server.total();
    let again = c.run();
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(c.server.total(), before, "the second run sent requests");
    assert_eq!(c.output("out/sft.jsonl"), sft);
    assert_eq!(c.output("out/preference.jsonl"), pairs);
    assert_eq!(c.output("out/ranked.jsonl"), ranked);
    let report = c.report();
    for (name, ..) in &funnel {
        assert_eq!(stage(&report, name)["cached"], true, "{name}");
    }
}
