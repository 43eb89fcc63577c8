//! `informativeness`: how well the student predicts the instruction from the response
//! (reverse IFD, r-IFD).

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

use super::BATCH_TOKENS;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("candidates", "The candidates to score.").needing(&["solution"])],
    settings: &[
        FieldSpec::required(
            "model",
            Type::Model,
            "The student: a local `student` block, or a teacher whose endpoint returns prompt \
             log-probabilities (vLLM completions with `echo`).",
        ),
        FieldSpec::optional(
            "metric",
            Type::Enum(&["rifd", "ifd"]),
            "\"rifd\"",
            "`rifd`: PPL(x | rev(y)) / PPL(x); `ifd`: PPL(y | x) / PPL(y).",
        ),
        FieldSpec::optional(
            "instruction",
            Type::Str,
            "\"question\"",
            "The field holding the instruction x.",
        ),
        FieldSpec::maybe(
            "reverse_prompt",
            Type::Str,
            "Replaces the r-IFD wrapper around the response; `{response}` marks where it goes.",
        ),
        BATCH_TOKENS,
    ],
    output: Output::Extends(&[
        FieldSpec::output(
            "ifd_ratio",
            Type::Float,
            "The rIFD (or IFD) ratio; lower is more informative.",
        ),
        FieldSpec::output(
            "informativeness",
            Type::Float,
            "−ln(ratio): higher is more informative, 0 when the response does not help.",
        ),
        FieldSpec::output("ppl_conditioned", Type::Float, "The numerator perplexity."),
        FieldSpec::output("ppl_plain", Type::Float, "The denominator perplexity."),
    ]),
    ..Signature::new(
        "informativeness",
        SignatureKind::Transform,
        "Student-informativeness: r-IFD, how well the student recovers the question from the answer",
    )
};

const DOC: &str = r#"The *student-informativeness* signal of DTA phase II step 7 [paper concept]. The
standard form [related: r-IFD, Selective Reflection-Tuning (Li et al., 2024)]:

    rIFD(x, y) = PPL_S(x | rev(y)) / PPL_S(x)

where `x` is the instruction, `y` the response, and `rev(y)` wraps `y` in the student's
chat template as: "Below is the response to an instruction, please guess the
corresponding instruction for the given response. {y} Generate the instruction for the
above response." A response from which the student can recover the question is one it
can learn from: **lower rIFD is more informative**. With `metric = "ifd"`, the forward
IFD `PPL_S(y | x) / PPL_S(y)` (Cherry LLM) is computed instead.

Two backends behind one signature: a local `student` (teacher-forced scoring with
candle, batched by `batch_tokens`), or an endpoint that returns prompt log-probabilities
(vLLM `/v1/completions` with `echo = true`, `max_tokens = 0`).

`informativeness = −ln(ratio)` is oriented for `vote`, where every weight rewards high
values.

```dta
stage informed: informativeness(aligned) { model = small }
```
"#;
