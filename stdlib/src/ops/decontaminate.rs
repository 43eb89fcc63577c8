//! `decontaminate`: drop records that share an n-gram with any evaluation benchmark item.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("records", "The records to clean.")],
    settings: &[
        FieldSpec::required(
            "against",
            Type::List(&Type::Records),
            "The benchmarks: datasets or stages whose items must not leak into the data.",
        ),
        FieldSpec::optional(
            "ngram",
            Type::Int,
            "13",
            "n, in words after normalization. 13 as in GPT-3 and lm-eval-harness; 8 and 10 \
             are also in use.",
        ),
        FieldSpec::optional(
            "fields",
            Type::List(&Type::Str),
            "[\"question\", \"solution\"]",
            "The fields of each record whose text is checked; missing ones are skipped.",
        ),
        FieldSpec::maybe(
            "against_fields",
            Type::List(&Type::Str),
            "The benchmark fields to index; every string field by default.",
        ),
        FieldSpec::optional(
            "action",
            Type::Enum(&["drop", "flag"]),
            "\"drop\"",
            "`drop` removes contaminated records (each removal is reported); `flag` keeps \
             them with `contaminated = true`.",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output("contaminated", Type::Bool, "Whether an n-gram matched."),
        FieldSpec::output(
            "contamination",
            Type::Any,
            "The first match: `{ ngram, field, benchmark, benchmark_id }`; absent when clean.",
        ),
    ]),
    ..Signature::new(
        "decontaminate",
        SignatureKind::Transform,
        "Drop records sharing an n-gram with any benchmark item, reporting each match",
    )
};

const DOC: &str = r#"DTA phase I step 4, **decontaminate** [related]: the n-gram overlap test of GPT-3 and
lm-eval-harness. Text is normalized (lowercase, punctuation and LaTeX markup to spaces,
whitespace collapsed) and split into words; a record is contaminated when any `ngram`
consecutive words of a checked field also occur in any indexed field of any `against`
record. Texts shorter than `ngram` words are compared whole.

Every removal is reported in the run report with the matching n-gram and the benchmark
record's `id`, so a reviewer can see why. The benchmark index is built once, before the
first record is checked; checking streams.

Output fields: `contaminated`, `contamination` (only on flagged records with
`action = "flag"`; dropped records appear in the report).

```dta
dataset bench: jsonl("data/test.jsonl")
stage clean: decontaminate(reviewed) { against = [bench], ngram = 13 }
```
"#;
