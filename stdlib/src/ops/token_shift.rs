//! `token_shift`: which tokens' share moved most between raw teacher data and aligned
//! data.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[
        InputSpec::records(
            "baseline",
            "The reference data, e.g. raw teacher candidates.",
        ),
        InputSpec::records(
            "aligned",
            "The data compared with it, e.g. the rewritten candidates.",
        ),
    ],
    settings: &[
        FieldSpec::optional(
            "field",
            Type::Str,
            "\"solution\"",
            "The text field compared.",
        ),
        FieldSpec::maybe(
            "tokenizer",
            Type::Model,
            "Count this model's tokens; lowercase words when left out.",
        ),
        FieldSpec::optional(
            "top",
            Type::Int,
            "50",
            "How many tokens with the largest shifts are reported.",
        ),
        FieldSpec::optional(
            "min_count",
            Type::Int,
            "5",
            "Ignore tokens seen fewer times than this in both datasets together.",
        ),
        FieldSpec::optional(
            "markers",
            Type::List(&Type::Str),
            "[\"therefore\", \"thus\", \"hence\", \"so\", \"derived\", \"evaluated\"]",
            "Tokens always reported, whatever their shift (DTA's discourse markers).",
        ),
    ],
    output: Output::Fixed(&[
        FieldSpec::output("token", Type::Str, "The token or word."),
        FieldSpec::output(
            "baseline_rate",
            Type::Float,
            "Occurrences per 1,000 tokens in `baseline`.",
        ),
        FieldSpec::output(
            "aligned_rate",
            Type::Float,
            "Occurrences per 1,000 tokens in `aligned`.",
        ),
        FieldSpec::output("shift", Type::Float, "aligned_rate − baseline_rate."),
        FieldSpec::output(
            "log_ratio",
            Type::Float,
            "ln((aligned_rate + ε) / (baseline_rate + ε)), ε = 0.01 per 1,000.",
        ),
        FieldSpec::output(
            "marker",
            Type::Bool,
            "Whether the token is one of `markers`.",
        ),
    ]),
    ..Signature::new(
        "token_shift",
        SignatureKind::Transform,
        "Report the tokens whose frequency moved most between two datasets",
    )
};

const DOC: &str = r#"DTA phase II step 9, **token-shift analysis** [paper]: compare token frequencies of the
aligned data with the raw teacher data. The paper finds the gains concentrate on
logical-structural discourse markers ("therefore", "derived", "evaluated").

Both inputs are read completely; the stage then emits one record per reported token,
sorted by `|shift|`: the `top` largest shifts plus every token in `markers`. The table
also appears in the run report.

```dta
stage shifts: token_shift(candidates, aligned) { top = 30 }
export shifts to "out/token_shift.csv" as csv {}
```
"#;
