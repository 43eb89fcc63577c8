//! `consensus`: how much the candidates of one problem agree on the final answer.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

use super::EXTRACT;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "candidates",
        "Candidates of many problems; grouped by `id`.",
    )
    .needing(&["solution"])],
    settings: &[
        FieldSpec::optional(
            "by",
            Type::Enum(&["teacher", "sample"]),
            "\"teacher\"",
            "What votes: `teacher` counts each teacher's most common answer once, so a \
             teacher with many samples cannot outvote the others; `sample` counts every \
             candidate.",
        ),
        EXTRACT,
        FieldSpec::maybe(
            "min_agreement",
            Type::Float,
            "Drop candidates whose `agreement` is below this share (0 to 1).",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "agreement",
            Type::Float,
            "The share of voters (teachers or samples) whose answer equals this candidate's.",
        ),
        FieldSpec::output("majority", Type::Str, "The problem's most common answer."),
        FieldSpec::output(
            "in_majority",
            Type::Bool,
            "Whether this candidate's answer is it.",
        ),
    ]),
    groups_by: Some("problem id (`id` field)"),
    ..Signature::new(
        "consensus",
        SignatureKind::Transform,
        "Score each candidate by how many teachers agree with its final answer",
    )
};

const DOC: &str = r#"DTA phase I step 3, the second signal [paper: "agreement across teachers"]. For each
problem, the final answers of its candidates are extracted (the `extracted` field when
`verify` already ran, else the same rules as `verify`) and compared with `verify`'s
equivalence rules. Needs no reference answer, so it also works on problems without one.

The stage waits for all candidates of a problem (grouped by `id`) before emitting them.
Ties for the majority are broken by the answer's first appearance in input order.

Output fields: `agreement` in [0, 1], `majority`, `in_majority`.

```dta
stage agreed: consensus(candidates) { by = "teacher", min_agreement = 0.5 }
```
"#;
