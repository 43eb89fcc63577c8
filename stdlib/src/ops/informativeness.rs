//! `informativeness`: how well the student predicts the instruction from the response
//! (reverse IFD, r-IFD).

use std::sync::Arc;

use dtac_interpreter::resolve::{ModelDecl, Node};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, Estimate, OpError, RecordOp, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;

use super::endpoint_scoring::text_of;
use super::scoring::Scorer;
use super::BATCH_TOKENS;
use crate::local::ScoreText;
use crate::settings::Settings;

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
        FieldSpec::optional(
            "chat_template",
            Type::Bool,
            "true",
            "Wrap the conditioning text in the model's chat template (user turn) and the \
             scored text in the assistant turn. An endpoint scores raw text: set `false` \
             there.",
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

Two backends behind one signature: a local model (a `student`, or a teacher with a
`path`), scored in-process by teacher forcing on candle and batched by `batch_tokens`;
with `chat_template = true` (the default) the conditioning text is the user turn of the
model's chat template and the scored text its answer, while the plain text is scored
alone, as raw text after the model's BOS token (a model without one, such as Qwen,
leaves its first token unscored). Or an endpoint that returns prompt log-probabilities
(vLLM `/v1/completions` with `echo = true`, `max_tokens = 0`). An endpoint receives raw
text, so no chat template can be applied there: such a stage must say
`chat_template = false`, and the conditioning text (`rev(y)`, or `x` for `ifd`) is
followed by a blank line and the scored text. Each record costs two scoring requests:
the conditioned text and the plain one. A perplexity is `exp(−mean log p)` over the
tokens the endpoint scores; the first token of a prompt has no context, so an endpoint
that adds no start token leaves the first token of the plain text unscored.

`informativeness = −ln(ratio)` is oriented for `vote`, where every weight rewards high
values.

```dta
stage informed: informativeness(aligned) { model = small }
```
"#;

/// The r-IFD wrapper of Selective Reflection-Tuning; `{response}` is replaced by `y`.
pub const REVERSE_PROMPT: &str = "Below is the response to an instruction, please guess the \
corresponding instruction for the given response.\n{response}\nGenerate the instruction for \
the above response.";

/// Which ratio is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// PPL(x | rev(y)) / PPL(x).
    Rifd,
    /// PPL(y | x) / PPL(y).
    Ifd,
}

/// Informativeness of a response to the student: measured by a local model in-process, or
/// on a teacher's scoring endpoint. Also used inline by `vote`.
#[derive(Debug)]
pub struct Informativeness {
    scorer: Scorer,
    metric: Metric,
    instruction: String,
    reverse: String,
    chat: bool,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    // An endpoint must be asked with `chat_template = false`: it scores raw text.
    let scorer = Scorer::of(node)?;
    let s = Settings(&node.settings);
    let metric = match s.str("metric") {
        Some("ifd") => Metric::Ifd,
        _ => Metric::Rifd,
    };
    let reverse = s
        .str("reverse_prompt")
        .unwrap_or(REVERSE_PROMPT)
        .to_string();
    if !reverse.contains("{response}") {
        return Err(BuildError::Invalid {
            message: "`reverse_prompt` has no `{response}`".into(),
            help: "write `{response}` where the response goes".into(),
        });
    }
    Ok(StageImpl::Each(Arc::new(Informativeness {
        scorer,
        metric,
        instruction: s.str("instruction").unwrap_or("question").to_string(),
        reverse,
        chat: s.bool("chat_template").unwrap_or(true),
    })))
}

impl Informativeness {
    /// r-IFD with the defaults on `model`, for ops that compute it inline
    /// (`vote { informativeness = ... }`): a local model with its chat template, an
    /// endpoint on raw text.
    pub fn with_defaults(model: Arc<ModelDecl>) -> Informativeness {
        let chat = super::scoring::is_local(&model);
        let scorer = if chat {
            Scorer::local(model, 16384)
        } else {
            Scorer::Endpoint(model)
        };
        Informativeness {
            scorer,
            metric: Metric::Rifd,
            instruction: "question".into(),
            reverse: REVERSE_PROMPT.into(),
            chat,
        }
    }

    /// The two texts scored: the target after the condition, and the target alone.
    fn texts(&self, record: &Record) -> Result<[ScoreText; 2], OpError> {
        let x = text_of(record, &self.instruction)?;
        let y = text_of(record, "solution")?;
        let (condition, target) = match self.metric {
            Metric::Rifd => (self.reverse.replace("{response}", &y), x),
            Metric::Ifd => (x, y),
        };
        Ok([
            ScoreText {
                context: Some(condition),
                target: target.clone(),
                chat: self.chat,
            },
            ScoreText {
                context: None,
                target,
                chat: self.chat,
            },
        ])
    }

    /// Scores `record`: both texts at once, so a local model batches them together.
    pub async fn measure(&self, cx: &StageCtx, record: &Record) -> Result<Measured, OpError> {
        let [conditioned, plain] = self.texts(record)?;
        let (conditioned, plain) = futures::future::join(
            self.scorer.logprobs(cx, record, conditioned),
            self.scorer.logprobs(cx, record, plain),
        )
        .await;
        Measured::from_logprobs(&conditioned?, &plain?).map_err(OpError::Record)
    }

    /// Two scoring requests per record.
    pub fn estimate(&self, inputs: u64) -> Estimate {
        self.scorer.estimate(inputs, 2)
    }
}

/// The two perplexities of one record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    pub ppl_conditioned: f64,
    pub ppl_plain: f64,
    /// ln(ppl_conditioned / ppl_plain), computed from the mean log-probabilities so that
    /// long texts cannot overflow it.
    pub ln_ratio: f64,
}

impl Measured {
    /// From the scored tokens' log-probabilities (natural log) with and without the
    /// condition.
    pub fn from_logprobs(conditioned: &[f64], plain: &[f64]) -> Result<Measured, String> {
        let mean = |lp: &[f64], which: &str| {
            if lp.is_empty() {
                return Err(format!("the {which} text has no scored tokens"));
            }
            let m = lp.iter().sum::<f64>() / lp.len() as f64;
            if m.is_finite() {
                Ok(m)
            } else {
                Err(format!("the {which} text has a non-finite log-probability"))
            }
        };
        let c = mean(conditioned, "conditioned")?;
        let p = mean(plain, "plain")?;
        Ok(Measured {
            ppl_conditioned: (-c).exp(),
            ppl_plain: (-p).exp(),
            ln_ratio: p - c,
        })
    }

    pub fn ratio(&self) -> f64 {
        self.ln_ratio.exp()
    }

    /// −ln(ratio): higher is more informative.
    pub fn informativeness(&self) -> f64 {
        -self.ln_ratio
    }

    /// Sets the output fields on `out`.
    pub fn apply(&self, out: &mut Record) {
        out.set("ifd_ratio", self.ratio());
        out.set("ppl_conditioned", self.ppl_conditioned);
        out.set("ppl_plain", self.ppl_plain);
        out.score("informativeness", self.informativeness());
    }
}

impl RecordOp for Informativeness {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let measured = self.measure(cx, &record).await?;
            let mut out = record.derive();
            measured.apply(&mut out);
            Ok(vec![out])
        })
    }

    fn estimate(&self, inputs: u64) -> Estimate {
        Informativeness::estimate(self, inputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_follows_from_mean_logprobs() {
        // Conditioned: mean −1 → PPL e; plain: mean −2 → PPL e².
        let m = Measured::from_logprobs(&[-0.5, -1.5], &[-2.0, -2.0, -2.0]).unwrap();
        assert!((m.ppl_conditioned - 1f64.exp()).abs() < 1e-12);
        assert!((m.ppl_plain - 2f64.exp()).abs() < 1e-12);
        assert!((m.ratio() - (-1f64).exp()).abs() < 1e-12);
        // The response helps: positive informativeness.
        assert!((m.informativeness() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_response_that_does_not_help_scores_zero_and_one_that_hurts_below() {
        let same = Measured::from_logprobs(&[-1.0, -3.0], &[-2.0]).unwrap();
        assert_eq!(same.informativeness(), 0.0);
        assert_eq!(same.ratio(), 1.0);
        let worse = Measured::from_logprobs(&[-4.0], &[-2.0]).unwrap();
        assert!(worse.informativeness() < 0.0 && worse.ratio() > 1.0);
    }

    #[test]
    fn long_texts_do_not_overflow() {
        let m = Measured::from_logprobs(&[-800.0], &[-1.0]).unwrap();
        assert!(m.ppl_conditioned.is_infinite());
        assert!((m.informativeness() + 799.0).abs() < 1e-9);
    }

    #[test]
    fn unscored_texts_are_errors() {
        let e = Measured::from_logprobs(&[], &[-1.0]).unwrap_err();
        assert!(e.contains("conditioned"), "{e}");
        let e = Measured::from_logprobs(&[-1.0], &[f64::NEG_INFINITY]).unwrap_err();
        assert!(e.contains("non-finite"), "{e}");
    }

    #[test]
    fn the_wrapper_has_its_marker() {
        assert_eq!(REVERSE_PROMPT.matches("{response}").count(), 1);
    }
}
