//! `rewrite`: a teacher rewrites each solution in the student's style, keeping its
//! mathematics and final answer.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

use super::{EXTRACT, MAX_TOKENS, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("candidates", "The solutions to rewrite.").needing(&["solution"])],
    settings: &[
        FieldSpec::required("teacher", Type::Teacher, "The rewriter."),
        FieldSpec::maybe(
            "style",
            Type::Records,
            "A `style_probe` stage: its style guide, features and examples go into the prompt.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "The rewrite request, over the record's fields and the style profile. When left \
             out, the DTA rewrite prompt.",
        )
        .with_template_vars(&["style_guide", "features", "examples"]),
        FieldSpec::optional(
            "check_answer",
            Type::Bool,
            "true",
            "Re-extract the final answer after rewriting and compare it with the one before.",
        ),
        FieldSpec::optional(
            "on_changed_answer",
            Type::Enum(&["drop", "keep_original"]),
            "\"drop\"",
            "What happens to a rewrite whose final answer changed: `drop` the record (counted \
             in the report), or `keep_original` text.",
        ),
        EXTRACT,
        TEMPERATURE,
        MAX_TOKENS,
    ],
    output: Output::Extends(&[
        FieldSpec::output("solution", Type::Str, "The rewritten solution."),
        FieldSpec::output("original", Type::Str, "The solution before rewriting."),
        FieldSpec::output(
            "edit_ratio",
            Type::Float,
            "How much the text changed: word-level edit distance over the longer length, 0 to 1.",
        ),
        FieldSpec::output("rewriter", Type::Str, "The teacher that rewrote it."),
    ]),
    ..Signature::new(
        "rewrite",
        SignatureKind::Transform,
        "A teacher rewrites each solution to follow the student's style guide",
    )
};

const DOC: &str = r#"DTA phase II step 6, **rewrite** [paper]: each surviving solution is rewritten so its
intermediate steps and presentation follow the student's style (from `style_probe`),
while its mathematics and final answer stay. The default prompt gives the problem, the
solution, the style guide, the features and two of the student's answers as examples,
and asks for the rewritten solution only.

The final answer must survive [paper]: with `check_answer`, the answer extracted after
rewriting is compared with the one before using `verify`'s rules; a changed answer is
dropped or reverted per `on_changed_answer`, and counted.

Output fields: `solution` (rewritten), `original`, `edit_ratio`, `rewriter`.

```dta
stage aligned: rewrite(clean) { teacher = gpt, style = style }
```
"#;
