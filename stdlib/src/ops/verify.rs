//! `verify`: extract each candidate's final answer and compare it with the reference
//! answer after normalization.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

use super::EXTRACT;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("candidates", "The candidates to check.").needing(&["solution"])],
    settings: &[
        FieldSpec::maybe(
            "answer",
            Type::FieldRef,
            "The reference answers, as a field of another dataset (`train.answer`), joined \
             on `id`. When left out, each record's own `answer` field.",
        ),
        FieldSpec::optional(
            "keep",
            Type::Enum(&["correct", "all", "incorrect"]),
            "\"correct\"",
            "Which records leave the stage: `correct` drops wrong and unanswered candidates; \
             `all` only annotates.",
        ),
        EXTRACT,
        FieldSpec::optional(
            "tolerance",
            Type::Float,
            "1e-6",
            "Relative tolerance when both answers are numbers.",
        ),
        FieldSpec::maybe(
            "judge",
            Type::Teacher,
            "A model asked whether the answers are equivalent, only when the rules cannot \
             decide (neither side parses as a known form).",
        ),
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "extracted",
            Type::Str,
            "The final answer found, as written; empty when none.",
        ),
        FieldSpec::output("correct", Type::Bool, "Whether it matches the reference."),
        FieldSpec::output(
            "verify_rule",
            Type::Str,
            "Which extraction and comparison decided: `boxed/fraction`, `last_number/numeric`, \
             `judge`, `none` (nothing extracted).",
        ),
    ]),
    ..Signature::new(
        "verify",
        SignatureKind::Transform,
        "Extract each candidate's final answer and compare it with the reference",
    )
};

const DOC: &str = r#"DTA phase I step 3, **verify** [related]: the rule-based answer check of math evaluation
harnesses. Deterministic, no model call unless `judge` is given.

**Extraction** (`extract = "auto"`, first that succeeds): the last `\boxed{...}` (nested
braces balanced, `\fbox` too); the text after the last "final answer is" or
"answer:"; the last number in the text.

**Normalization** of both sides: surrounding `$`, `\(`…`\)`, `\text{}`, `\mathrm{}`,
`\left`/`\right`, `\!` and `\,` are removed; case and trailing punctuation are ignored;
thousands separators dropped; units after a number ignored.

**Comparison**, first rule that parses both sides: integers and decimals (relative
`tolerance`); fractions `a/b`, `\frac`, `\dfrac`, `\tfrac`; percent (`50%` = `0.5`);
scientific notation (`1.2e3`, `1.2 \times 10^{3}`); `\sqrt{}` and `\pi` in simple
products; intervals (open/closed ends must agree); sets `{…}` and unordered lists
(order-insensitive); tuples `(…)` (ordered); yes/no and true/false; otherwise normalized
text equality. The exact table is in the op's tests.

Output fields: `extracted`, `correct`, `verify_rule`. With `keep = "all"` the stage only
annotates, which TRD uses to report pass rates without filtering.

```dta
stage checked: verify(candidates) { answer = train.answer }
stage scored:  verify(rollouts) { keep = "all" }
```
"#;
