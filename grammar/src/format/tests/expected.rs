//! Exact outputs: what canonical `.dta` looks like.

use super::check;

const TELEMATH: &str = r#"# telemath.dta
version = 1
param samples: int = 4

teacher gpt   { model = "gpt-4o-2024-08-06", rpm = 500, max_concurrency = 64 }  # trailing
teacher qwen  { model = "Qwen/Qwen3-32B", endpoint = env("VLLM_URL") }

dataset train: jsonl("data/train.jsonl") { schema = { id: str, question: str, answer: str } }

prompt solve """
    Solve the problem step by step. The correct final answer is {{answer}}; derive it.
    Problem: {{question}}
    """

stage candidates: generate(train)        { teachers = [gpt, qwen], prompt = solve, n = samples }
stage ranked:     vote(candidates)          { weights = { informativeness = 0.4, reward = 0.6 },
                                           informativeness = small, judge = gpt, keep = 1 }
export ranked to "out/telemath.jsonl" as chat
"#;

#[test]
fn telemath_sample() {
    let expected = r#"# telemath.dta
version = 1
param samples: int = 4

teacher gpt { model = "gpt-4o-2024-08-06", rpm = 500, max_concurrency = 64 } # trailing
teacher qwen { model = "Qwen/Qwen3-32B", endpoint = env("VLLM_URL") }

dataset train: jsonl("data/train.jsonl") { schema = { id: str, question: str, answer: str } }

prompt solve """
    Solve the problem step by step. The correct final answer is {{answer}}; derive it.
    Problem: {{question}}
    """

stage candidates: generate(train) { teachers = [gpt, qwen], prompt = solve, n = samples }
stage ranked: vote(candidates) {
    weights = { informativeness = 0.4, reward = 0.6 }
    informativeness = small
    judge = gpt
    keep = 1
}
export ranked to "out/telemath.jsonl" as chat
"#;
    assert_eq!(check(TELEMATH), expected);
}

#[test]
fn items_take_their_canonical_forms() {
    let src = "version=2\nimport   \"lib/t.dta\"\nparam  n :int\nparam m: list[ str ] ?=[ ]\n\
               student  s{}\nobjective o : loss\nstage a: op()\nexport a to \"x\" as  jsonl{ n=1 }\n";
    let expected = "version = 2\nimport \"lib/t.dta\"\nparam n: int\nparam m: list[str]? = []\n\
                    student s {}\nobjective o: loss\nstage a: op()\nexport a to \"x\" as jsonl { n = 1 }\n";
    assert_eq!(check(src), expected);
}

#[test]
fn broken_containers_put_one_child_per_line() {
    let src = "teacher t { a = [1,\n 2], b = { x: int,\n y: str? }, c = { p = 1\n q = 2 } }\n";
    let expected = "\
teacher t {
    a = [
        1,
        2,
    ]
    b = {
        x: int
        y: str?
    }
    c = {
        p = 1
        q = 2
    }
}
";
    assert_eq!(check(src), expected);
}

#[test]
fn comments_keep_their_places() {
    let src = "\n\n# head\n\n\nteacher t {   # open\n  # lead\n\n\n  a = 1 # after a\n  \
               b = [x, # after x\n y]\n\n  # last\n\n}   # after t\n# end\n";
    let expected = "\
# head

teacher t { # open
    # lead

    a = 1 # after a
    b = [
        x, # after x
        y,
    ]

    # last
} # after t
# end
";
    assert_eq!(check(src), expected);
}

#[test]
fn block_strings_are_indented_under_their_line() {
    let src =
        "teacher t { system = \"\"\"\n  one\n\n    two\n  \"\"\", tags = [\"\"\"\nx\n\"\"\"] }\n";
    let expected = "\
teacher t {
    system = \"\"\"
        one

          two
        \"\"\"
    tags = [
        \"\"\"
            x
            \"\"\",
    ]
}
";
    assert_eq!(check(src), expected);
}

#[test]
fn line_strings_are_escaped_canonically() {
    let src = r#"prompt p "tab\u{9} nl\n cr\r q\" bs\\ bell\u{7} e\u{e9}""#;
    let expected = "prompt p \"tab\\t nl\\n cr\\r q\\\" bs\\\\ bell\\u{07} e\u{e9}\"\n";
    assert_eq!(check(src), expected);
}

#[test]
fn long_lines_break_the_outer_container_first() {
    let names: Vec<String> = (0..12).map(|i| format!("teacher_number_{i}")).collect();
    let src = format!(
        "stage s: generate(d) {{ teachers = [{}] }}\n",
        names.join(", ")
    );
    let out = check(&src);
    let expected = format!(
        "stage s: generate(d) {{\n    teachers = [\n{}    ]\n}}\n",
        names
            .iter()
            .map(|n| format!("        {n},\n"))
            .collect::<String>()
    );
    assert_eq!(out, expected);
    assert!(out.lines().all(|l| l.len() <= 100));
}

#[test]
fn a_line_of_exactly_one_hundred_columns_stays() {
    // `teacher t { a = "…" }` padded to exactly 100 columns, then one more.
    let fill = "x".repeat(100 - "teacher t { a = \"\" }".len());
    let src = format!("teacher t {{ a = \"{fill}\" }}\n");
    assert_eq!(check(&src), src);
    let src = format!("teacher t {{ a = \"{fill}y\" }}\n");
    assert_eq!(
        check(&src),
        format!("teacher t {{\n    a = \"{fill}y\"\n}}\n")
    );
}

#[test]
fn empty_file_stays_empty() {
    assert_eq!(check(""), "");
    assert_eq!(check("\n\n  \n"), "");
    assert_eq!(check("# only\n\n\n# comments"), "# only\n\n# comments\n");
}

#[test]
fn a_container_after_a_closing_triple_quote_indents_from_that_line() {
    let src =
        "export s to \"\"\"\n  out\n  \"\"\" as f {\n a = env(\"\"\"\n X\n \"\"\", [1,\n 2]) }";
    let expected = "\
export s to \"\"\"
    out
    \"\"\" as f {
        a = env(\"\"\"
            X
            \"\"\", [
                1,
                2,
            ])
    }
";
    assert_eq!(check(src), expected);
}
