//! The checker against a small registry of its own, so these tests pin the checker's
//! behaviour independently of the stdlib's signatures.

use std::path::Path;

use dtac_interpreter::report::{render_human, Style};
use dtac_interpreter::signature::*;
use dtac_interpreter::{check_text, CheckOptions, Checked, Registry};

const JSONL: Signature = Signature {
    inputs: &[InputSpec::path("path", "file")],
    settings: &[
        FieldSpec::maybe("schema", Type::Schema, "fields"),
        FieldSpec::maybe("limit", Type::Int, "max records"),
    ],
    output: Output::FromSchema,
    ..Signature::new("jsonl", SignatureKind::Source, "read jsonl")
};

const GENERATE: Signature = Signature {
    inputs: &[InputSpec::records("records", "problems")],
    settings: &[
        FieldSpec::required(
            "teachers",
            Type::List(&Type::Teacher),
            "who writes. More text.",
        ),
        FieldSpec::required("prompt", Type::Prompt, "what to ask").with_template_vars(&["sample"]),
        FieldSpec::optional("n", Type::Int, "1", "samples"),
        FieldSpec::optional("mode", Type::Enum(&["fast", "slow"]), "\"fast\"", "speed"),
        FieldSpec::maybe("timeout", Type::Duration, "limit"),
    ],
    output: Output::Extends(&[FieldSpec::output("solution", Type::Str, "text")]),
    ..Signature::new("generate", SignatureKind::Transform, "generate")
};

const VERIFY: Signature = Signature {
    inputs: &[InputSpec::records("records", "candidates").needing(&["solution"])],
    settings: &[FieldSpec::required(
        "answer",
        Type::FieldRef,
        "reference answer",
    )],
    output: Output::Extends(&[FieldSpec::output("correct", Type::Bool, "verdict")]),
    ..Signature::new("verify", SignatureKind::Transform, "verify")
};

const MERGE: Signature = Signature {
    inputs: &[InputSpec::records("parts", "records").variadic()],
    settings: &[FieldSpec::maybe(
        "against",
        Type::List(&Type::Records),
        "others",
    )],
    output: Output::Extends(&[]),
    ..Signature::new("merge", SignatureKind::Transform, "merge")
};

fn top_k_lint(v: &dyn LintValues) -> Vec<Lint> {
    if v.int("k") == Some(1) && v.bool("tail") != Some(true) {
        vec![Lint {
            setting: Some("k"),
            message: "a renormalized top-1 KL is identically zero".into(),
            help: "set `tail = true` or raise `k`".into(),
        }]
    } else {
        Vec::new()
    }
}

const TOP_K: Signature = Signature {
    settings: &[
        FieldSpec::optional("k", Type::Int, "32", "support"),
        FieldSpec::optional("tail", Type::Bool, "false", "tail bucket"),
    ],
    lint: Some(top_k_lint),
    ..Signature::new("top_k", SignatureKind::Objective, "top-k KL")
};

const TEACHER: Signature = Signature {
    settings: &[
        FieldSpec::required("model", Type::Str, "model name"),
        FieldSpec::maybe("endpoint", Type::Str, "base url"),
        FieldSpec::maybe("api_key", Type::Secret, "key"),
        FieldSpec::maybe(
            "price",
            Type::Record(&[
                FieldSpec::required("input", Type::Float, "per M"),
                FieldSpec::required("output", Type::Float, "per M"),
            ]),
            "prices",
        ),
    ],
    ..Signature::new("teacher", SignatureKind::Teacher, "teacher")
};

const CHAT: Signature = Signature::new("chat", SignatureKind::ExportFormat, "chat");

fn registry() -> Registry {
    let mut r = Registry::new();
    for sig in [&JSONL, &GENERATE, &VERIFY, &MERGE, &TOP_K, &TEACHER, &CHAT] {
        r.register(sig);
    }
    r
}

fn check_with(src: &str, overrides: &[(&str, &str)]) -> Checked {
    let options = CheckOptions {
        overrides: overrides
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        env_present: Box::new(|name| name == "PRESENT"),
        resources: true,
    };
    check_text(Path::new("test.dta"), src, &registry(), &options)
}

fn codes(src: &str) -> Vec<String> {
    check_with(src, &[]).diags().map(|d| d.code()).collect()
}

fn rendered(src: &str) -> String {
    let c = check_with(src, &[]);
    c.diags()
        .map(|d| render_human(d, &c.program.sources, Style::default()))
        .collect()
}

const GOOD: &str = r#"
version = 1
param samples: int = 4
teacher gpt { model = "gpt-4o", api_key = env("PRESENT"), price = { input = 2.5, output = 10 } }
dataset train: jsonl("train.jsonl") { schema = { id: str, question: str, answer: str } }
prompt solve """
    Solve {{question}}; the answer is {{answer}} (sample {{sample}}).
    """
stage candidates: generate(train) { teachers = [gpt], prompt = solve, n = samples }
stage checked: verify(candidates) { answer = train.answer }
export checked to "out.jsonl" as chat
"#;

#[test]
fn a_good_recipe_has_no_diagnostics() {
    let c = check_with(GOOD, &[]);
    let all: Vec<String> = c.diags().map(|d| d.error.to_string()).collect();
    assert!(all.is_empty(), "{all:?}");
    let g = &c.output.graph;
    assert_eq!(g.graph.node_count(), 4);
    assert_eq!(
        g.graph.edge_count(),
        4,
        "train→candidates, train→checked, candidates→checked, checked→export"
    );
}

#[test]
fn unknown_names_suggest_the_close_one() {
    let src = GOOD.replace("teachers = [gpt]", "teachers = [gtp]");
    let out = rendered(&src);
    assert!(out.contains("unknown teacher `gtp`"), "{out}");
    assert!(out.contains("did you mean `gpt`?"), "{out}");
}

#[test]
fn unknown_op_and_setting_suggest() {
    let src = GOOD.replace("generate(train)", "generat(train)");
    assert!(rendered(&src).contains("did you mean `generate`?"));
    let src = GOOD.replace("n = samples", "nn = samples");
    let out = rendered(&src);
    assert!(out.contains("unknown setting `nn`"), "{out}");
}

#[test]
fn all_problems_are_reported_at_once() {
    let src = GOOD
        .replace("teachers = [gpt]", "teachers = [gtp]")
        .replace("n = samples", "n = \"four\"")
        .replace("answer = train.answer", "answer = train.answr");
    let codes: Vec<String> = check_with(&src, &[]).diags().map(|d| d.code()).collect();
    assert_eq!(
        codes,
        [
            "dta::check::unknown_name",
            "dta::check::wrong_type",
            "dta::check::unknown_field"
        ]
    );
}

#[test]
fn duplicate_names_point_at_both() {
    let src = format!("{GOOD}\nprompt solve \"again\"\n");
    let out = rendered(&src);
    assert!(
        out.contains("declared again here") && out.contains("first declared here"),
        "{out}"
    );
}

#[test]
fn template_variables_must_reach_the_prompt() {
    let src = GOOD.replace("{{question}}", "{{questoin}}");
    let out = rendered(&src);
    assert!(
        out.contains("`{{questoin}}` is not a field of the records that reach `candidates`"),
        "{out}"
    );
    assert!(out.contains("did you mean `question`?"), "{out}");
}

#[test]
fn cycles_are_shown_as_a_path() {
    let src = r#"
teacher gpt { model = "m" }
prompt p "x"
stage a: generate(c) { teachers = [gpt], prompt = p }
stage b: generate(a) { teachers = [gpt], prompt = p }
stage c: generate(b) { teachers = [gpt], prompt = p }
"#;
    let out = rendered(src);
    assert!(
        out.contains("dependency cycle: `a` → `b` → `c` → `a`"),
        "{out}"
    );
}

#[test]
fn missing_required_settings_and_wrong_arity() {
    let src = r#"
teacher gpt { model = "m" }
dataset d: jsonl("x")
stage a: generate(d, d) { teachers = [gpt] }
"#;
    let codes = codes(src);
    assert!(
        codes.contains(&"dta::check::wrong_arity".to_string()),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"dta::check::missing_setting".to_string()),
        "{codes:?}"
    );
}

#[test]
fn secrets_and_environment() {
    let src = GOOD.replace("env(\"PRESENT\")", "\"sk-123\"");
    let out = rendered(&src);
    assert!(out.contains("`api_key` is a secret"), "{out}");
    assert!(
        !out.contains("sk-123 "),
        "the literal is shown only as source context"
    );
    let src = GOOD.replace("env(\"PRESENT\")", "env(\"ABSENT_VAR\")");
    assert!(rendered(&src).contains("environment variable `ABSENT_VAR` is not set"));
    let src = GOOD.replace("env(\"PRESENT\")", "env(\"ABSENT_VAR\", \"fallback\")");
    assert!(codes(&src).iter().all(|c| c != "dta::check::missing_env"));
}

#[test]
fn unused_declarations_warn_but_do_not_fail() {
    let src = format!("{GOOD}\nteacher spare {{ model = \"m\" }}\n");
    let c = check_with(&src, &[]);
    let diags: Vec<_> = c.diags().collect();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code(), "dta::check::unused");
    assert!(!c.has_errors());
}

#[test]
fn enums_records_and_durations_are_typed() {
    let src = GOOD.replace("n = samples", "mode = \"fsat\", timeout = 30");
    let out = rendered(&src);
    assert!(out.contains("did you mean \"fast\"?"), "{out}");
    assert!(out.contains("add a unit"), "{out}");
    let src = GOOD.replace("output = 10", "outptu = 10");
    let codes = codes(&src);
    assert!(
        codes.contains(&"dta::check::unknown_setting".to_string()),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"dta::check::missing_setting".to_string()),
        "{codes:?}"
    );
}

#[test]
fn overrides_replace_defaults_and_are_typed() {
    let c = check_with(GOOD, &[("samples", "8")]);
    assert!(!c.has_errors());
    let c = check_with(GOOD, &[("samples", "many")]);
    let out: Vec<String> = c.diags().map(|d| d.error.to_string()).collect();
    assert_eq!(out, ["`--set samples=many`: not a valid `int` value"]);
    let c = check_with(GOOD, &[("sample", "8")]);
    let help: Vec<String> = c
        .diags()
        .filter_map(|d| d.error.help().map(|h| h.to_string()))
        .collect();
    assert_eq!(help, ["did you mean `samples`?"]);
}

#[test]
fn signature_lints_warn() {
    let src = "objective o: top_k { k = 1 }\n";
    let c = check_with(src, &[]);
    let msgs: Vec<String> = c.diags().map(|d| d.error.to_string()).collect();
    assert!(
        msgs.contains(&"a renormalized top-1 KL is identically zero".to_string()),
        "{msgs:?}"
    );
}

#[test]
fn wrong_kind_of_name() {
    let src = GOOD.replace("teachers = [gpt]", "teachers = [solve]");
    let out = rendered(&src);
    assert!(out.contains("`solve` is a prompt, not a teacher"), "{out}");
}

#[test]
fn needed_input_fields_are_checked() {
    let src = r#"
dataset train: jsonl("t") { schema = { id: str, answer: str } }
stage checked: verify(train) { answer = train.answer }
"#;
    let out = rendered(src);
    assert!(
        out.contains("`solution` is not a field of `train`"),
        "{out}"
    );
}

#[test]
fn open_schemas_never_guess() {
    let src = GOOD.replace(" { schema = { id: str, question: str, answer: str } }", "");
    assert!(codes(&src).is_empty(), "{:?}", codes(&src));
}
