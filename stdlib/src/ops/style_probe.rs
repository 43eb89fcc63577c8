//! `style_probe`: measure and describe the student's own style from its answers.

use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};

use super::{MAX_TOKENS, SEED, TEMPERATURE};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records(
        "probes",
        "Probe questions, or the student's recorded answers (with `answers`).",
    )],
    settings: &[
        FieldSpec::maybe(
            "student",
            Type::Model,
            "The model whose style is probed; it answers the probe questions. Leave out \
             when `answers` names recorded answers.",
        ),
        FieldSpec::maybe(
            "answers",
            Type::Str,
            "A field of the input records already holding the student's answers; no model \
             is called.",
        ),
        FieldSpec::maybe(
            "prompt",
            Type::Prompt,
            "How a probe question is put to the student; `{{question}}` when left out.",
        ),
        FieldSpec::optional(
            "samples",
            Type::Int,
            "64",
            "How many probe records are used (a seeded sample when there are more).",
        ),
        FieldSpec::optional(
            "markers",
            Type::List(&Type::Str),
            "[\"therefore\", \"so\", \"thus\", \"hence\", \"we get\", \"since\"]",
            "Discourse markers whose rate per 1,000 words is measured.",
        ),
        FieldSpec::maybe(
            "writer",
            Type::Teacher,
            "A teacher that writes the style guide from the answers and the measured \
             features. Without it, `style_guide` is rendered from the features alone.",
        ),
        FieldSpec::maybe(
            "writer_prompt",
            Type::Prompt,
            "The writer's request; it sees `{{answers}}` (a selection of the student's \
             answers) and `{{features}}` (the measurements, as text).",
        )
        .with_template_vars(&["answers", "features"]),
        TEMPERATURE,
        MAX_TOKENS,
        SEED,
    ],
    output: Output::Fixed(&[
        FieldSpec::output(
            "features",
            Type::Any,
            "Measured features: words and lines (mean, median), steps, markdown lists and \
             headers per answer, LaTeX density, `\\boxed{}` rate, marker rates, language.",
        ),
        FieldSpec::output("style_guide", Type::Str, "The written style guide."),
        FieldSpec::output(
            "examples",
            Type::List(&Type::Str),
            "A few of the student's answers, chosen to be typical by length.",
        ),
        FieldSpec::output("probes", Type::Int, "How many answers were measured."),
    ]),
    ..Signature::new(
        "style_probe",
        SignatureKind::Transform,
        "Measure the student's own answer style and write a style guide (one profile record)",
    )
};

const DOC: &str = r#"DTA phase II step 5, **style probe** [paper]: before aligning teacher data to the
student, find out how the student writes. The student answers `samples` probe questions
(or its recorded answers are read from the `answers` field), and two things come out, in
one record:

- **features** [choice: the measured set]: length in words and lines, number of steps
  (paragraphs or numbered items), markdown lists and headers, LaTeX density (math
  characters per word), `\boxed{}` use, rate of each `markers` phrase per 1,000 words,
  and the dominant language;
- **style_guide**: a written description of tone, formatting, granularity of steps and
  answer convention, by `writer` when given.

The stage emits a single record after reading all probes; `rewrite { style = ... }` reads
it.

```dta
stage style: style_probe(train) { student = small, samples = 64, writer = gpt }
```
"#;
