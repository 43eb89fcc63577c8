//! Comments kept, idempotence and unchanged meaning on awkward inputs; regression tests are
//! named after what broke.

use super::check;

#[test]
fn messy_spacing_and_separators() {
    for src in [
        "teacher t{a=1,b=2,}",
        "teacher t {\n a = 1\n b = 2\n}",
        "teacher t { a = 1 b = 2 , c = 3, }",
        "stage s : op ( a , b , ) { n = 1 }",
        "stage s: op(\n a,\n b\n)",
        "param p: int=-4\nparam q: float = 1e-4\nparam r: float = 2.50\nparam d: duration = 1.5m",
        "teacher t { x = a.b.c, y = true, z = false, w = env(\"A\", 30s), v = env( \"B\" , ) }",
        "teacher t { s = { a: list[list[int]?]?, b: str } }",
        "\t\tversion\t=\t1\r\n\r\nimport \"a\"\r\n",
    ] {
        check(src);
    }
}

#[test]
fn comments_everywhere() {
    for src in [
        "# a\n# b\nversion = 1 # c\n# d",
        "teacher # name\n  t { a = 1 }",
        "teacher t # before block\n{ a = 1 }",
        "param p: # ty\n int = # val\n 4 # after\n",
        "param p: int # no default\n\nparam q: int",
        "stage s: op # no args\nstage t: op(a) # c\n { n = 1 }",
        "stage s: op( # open\n a, # a\n # own\n b # b\n ) { # blk\n n = 1 # n\n }",
        "teacher t { a = [ # open\n 1, # one\n\n # two\n 2\n # end\n ] }",
        "teacher t { a = { # r\n x = 1 }, b = { x: int # s\n } }",
        "teacher t { a = env(\"X\", # stray\n [1, # in list\n 2]) }",
        "teacher t { a = 1 # one\n , # comma\n b = 2 }",
        "teacher t {\n # only a comment\n}",
        "teacher t { a = [\n # only\n ] }",
        "stage s: op(\n # only\n)",
        "export s to \"p\" as f # x\n { # y\n }",
        "export s to # p\n \"p\" as # f\n f",
        "teacher t { a = 1 }\n\n\n\n# far\n\n\n\nteacher u { b = 2 }\n\n\n",
        "teacher t {\n\n\n a = 1\n\n\n\n b = 2\n\n\n}",
        "teacher t { s = { a: int, # a\n\n b: str? # b\n } }",
        "prompt p \"\"\"\n  # not a comment\n  \"\"\" # a comment",
        "teacher t { a = [[1, # deep\n 2], [3]] }",
    ] {
        check(src);
    }
}

#[test]
fn block_strings_round_trip() {
    for src in [
        "prompt p \"\"\"\n\"\"\"",
        "prompt p \"\"\"\n    \"\"\"",
        "prompt p \"\"\"\n\n\n    \"\"\"",
        "prompt p \"\"\"\n  a\n\n  \"\"\"",
        "prompt p \"\"\"\n  a\n\n\n  \"\"\"",
        "prompt p \"\"\"\n  a\n    b\n  \"\"\"",
        "prompt p \"\"\"\n    a\n  b\n  c\"\"\"",
        "prompt p \"\"\"\n\ta\n  b\n\"\"\"",
        "prompt p \"\"\"\n  trailing spaces   \n  \"\"\"",
        "prompt p \"\"\"  \n  after blank opener\n  \"\"\"",
        "prompt p \"\"\"\r\n  crlf\r\n  lines\r\n  \"\"\"",
        "prompt p \"\"\"\n  a\rb\n  \"\"\"",
        "prompt p \"\"\"\n  \\boxed{x} \"quoted\" \"\"\n  \"\"\"",
        "import \"\"\"\n  lib/a.dta\n  \"\"\"",
        "export s to \"\"\"\n  out\n  \"\"\" as f { a = 1 }",
        "stage s: op(\"\"\"\n  arg\n  \"\"\", b) { p = env(\"\"\"\n  X\n  \"\"\") }",
        "teacher t { a = { b = { c = [\"\"\"\n  deep\n  \"\"\"] } } }",
    ] {
        check(src);
    }
}

#[test]
fn unusual_values() {
    for src in [
        "teacher t { a = \"\", b = \"\\u{0}\\u{1f}\\u{7f}\\u{85}\", c = \"\\u{1F600} \\\"\" }",
        "teacher t { true = 1, env = env, to = to, stage = prompt }",
        "stage to: as(to) { as = to }",
        "teacher t { a = {}, b = [], c = [{}], d = [[]] }",
        "teacher t {\n}\nstage s: op(\n)\n",
        "teacher t { a = \"{{x}} \\\\{{y}} {{{z}}}\" }",
    ] {
        check(src);
    }
}

#[test]
fn long_arguments_break_before_the_block() {
    let args: Vec<String> = (0..10).map(|i| format!("argument_{i}")).collect();
    let src = format!("stage s: op({}) {{ n = 1 }}", args.join(", "));
    let out = check(&src);
    assert!(out.starts_with("stage s: op(\n    argument_0,\n"), "{out}");
    assert!(out.contains("\n) { n = 1 }\n"), "{out}");
}

#[test]
fn regression_two_trailing_comments_for_one_field_stay_two() {
    let out = check("teacher t { a = 1 # one\n , # two\n b = 2 }");
    assert!(out.contains("a = 1 # one\n    # two\n"), "{out}");
}

#[test]
fn regression_pest_span_swallows_the_comment_after_an_optional_tail() {
    // `param p: int` ends in an optional default, so pest's span runs over `# c`.
    assert_eq!(
        check("param p: int # c\nparam q: int"),
        "param p: int # c\nparam q: int\n"
    );
    assert_eq!(
        check("stage s: op # c\n\nstage t: op"),
        "stage s: op # c\n\nstage t: op\n"
    );
    assert_eq!(
        check("teacher t { s = { a: int # c\n b: str } }"),
        "teacher t {\n    s = {\n        a: int # c\n        b: str\n    }\n}\n"
    );
}

#[test]
fn stray_comments_move_before_their_item() {
    assert_eq!(
        check("version = 1\n\nteacher # x\n t { a = 1 }"),
        "version = 1\n\n# x\nteacher t { a = 1 }\n"
    );
}

#[test]
fn deepest_accepted_nesting_formats() {
    let depth = crate::MAX_NESTING - 1;
    let src = format!(
        "param p: list = {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    check(&src);
    let src = format!(
        "param p: list = {}1,\n{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    check(&src);
}
