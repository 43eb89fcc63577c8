//! `token_shift`: which tokens' share moved most between raw teacher data and aligned
//! data.

use std::collections::HashMap;
use std::sync::Arc;

use dtac_interpreter::resolve::{Node, Value};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, GroupOp, OpError, ReportTable, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;
use serde_json::{json, Map, Value as Json};

use super::token_units::Units;
use crate::settings::Settings;
use crate::text::field_text;

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
            "Tokens always reported, whatever their shift or count (DTA's discourse \
             markers). A marker of several words (\"we get\") counts occurrences of the \
             phrase.",
        ),
    ],
    output: Output::Fixed(&[
        FieldSpec::output("id", Type::Str, "The token, as the record's id."),
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

Tokens are the words of `field` after the normalization of `decontaminate` (lowercase,
punctuation and LaTeX markup removed). With `tokenizer = MODEL` (a student, or a teacher
with a `path`) they are that model's tokens instead, each counted by its text with
surrounding whitespace trimmed (so `Ġtherefore` and `therefore` are one row), and a
marker counts occurrences of its token sequence after a space. Rates are occurrences per
1,000 words (or tokens) of the dataset; a multi-word marker counts occurrences of the
phrase, per 1,000 words as well.

Both inputs are read completely; the stage then emits one record per reported token,
sorted by `|shift|` (ties by token): the `top` largest shifts among tokens seen at least
`min_count` times, plus every token in `markers`. The table also appears in the run
report. An empty `baseline` gives no records.

```dta
stage shifts: token_shift(candidates, aligned) { top = 30 }
export shifts to "out/token_shift.csv" as csv {}
```
"#;

/// ε of `log_ratio`, per 1,000 words: keeps the ratio finite for tokens one side lacks.
const EPSILON: f64 = 0.01;

/// The runnable op.
#[derive(Debug)]
pub struct TokenShift {
    field: String,
    /// The first input's name, for the report.
    baseline: String,
    /// The second input: the aligned records, complete before the op starts.
    aligned: String,
    top: usize,
    min_count: u64,
    /// Each marker's units (one or more), and its display form.
    markers: Vec<(Vec<String>, String)>,
    units: Units,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let units = match s.model("tokenizer") {
        Some(model) => Units::of_model(&model)?,
        None => Units::Words,
    };
    let aligned = match node.inputs.get(1) {
        Some(Value::Records(name)) => name.clone(),
        _ => {
            return Err(invalid(
                "`token_shift` needs two inputs",
                "write `token_shift(baseline, aligned)`",
            ))
        }
    };
    let mut markers = Vec::new();
    for m in s.strings("markers") {
        let w = units.marker(&m).map_err(|message| {
            invalid(
                &message,
                "markers are words or phrases; punctuation and LaTeX markup are not counted",
            )
        })?;
        let shown = units.shown(&m, &w);
        if !markers.iter().any(|(_, s)| *s == shown) {
            markers.push((w, shown));
        }
    }
    let count = |name: &str, default: i64| -> Result<u64, BuildError> {
        let v = s.int(name).unwrap_or(default);
        u64::try_from(v)
            .map_err(|_| invalid(&format!("`{name}` is {v}"), "use zero or a positive number"))
    };
    Ok(StageImpl::whole(Arc::new(TokenShift {
        field: s.str("field").unwrap_or("solution").to_string(),
        baseline: node.main_input().unwrap_or_default().to_string(),
        aligned,
        top: usize::try_from(count("top", 50)?).unwrap_or(usize::MAX),
        min_count: count("min_count", 5)?,
        markers,
        units,
    })))
}

fn invalid(message: &str, help: &str) -> BuildError {
    BuildError::Invalid {
        message: message.to_string(),
        help: help.to_string(),
    }
}

/// Word and phrase counts of one dataset.
#[derive(Debug, Default)]
struct Counts {
    words: HashMap<String, u64>,
    /// Occurrences of each multi-word marker, by display form.
    phrases: HashMap<String, u64>,
    total: u64,
}

impl Counts {
    fn of(
        records: &[Record],
        field: &str,
        markers: &[(Vec<String>, String)],
        units: &Units,
    ) -> Result<Counts, String> {
        let mut c = Counts::default();
        // The text's words in order, only needed to find phrases.
        let phrases = markers.iter().any(|(p, _)| p.len() > 1);
        let mut text_words: Vec<String> = Vec::new();
        for record in records {
            let Some(text) = field_text(record, field) else {
                continue;
            };
            text_words.clear();
            units.for_each(&text, |w| {
                match c.words.get_mut(w) {
                    Some(n) => *n += 1,
                    None => {
                        c.words.insert(w.to_string(), 1);
                    }
                }
                c.total += 1;
                if phrases {
                    text_words.push(w.to_string());
                }
            })?;
            for (phrase, shown) in markers.iter().filter(|(p, _)| p.len() > 1) {
                let n = text_words
                    .windows(phrase.len())
                    .filter(|w| w == phrase)
                    .count() as u64;
                *c.phrases.entry(shown.clone()).or_default() += n;
            }
        }
        Ok(c)
    }

    fn count(&self, token: &str) -> u64 {
        self.phrases
            .get(token)
            .or_else(|| self.words.get(token))
            .copied()
            .unwrap_or(0)
    }

    /// Occurrences per 1,000 words.
    fn rate(&self, token: &str) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.count(token) as f64 * 1000.0 / self.total as f64
    }
}

/// One reported token.
#[derive(Clone, Debug, PartialEq)]
pub struct Shift {
    pub token: String,
    pub baseline_rate: f64,
    pub aligned_rate: f64,
    pub shift: f64,
    pub log_ratio: f64,
    pub marker: bool,
}

impl TokenShift {
    /// The reported rows, in output order.
    pub fn shifts(&self, baseline: &[Record], aligned: &[Record]) -> Result<Vec<Shift>, String> {
        let b = Counts::of(baseline, &self.field, &self.markers, &self.units)?;
        let a = Counts::of(aligned, &self.field, &self.markers, &self.units)?;
        let row = |token: &str, marker: bool| {
            let (br, ar) = (b.rate(token), a.rate(token));
            Shift {
                token: token.to_string(),
                baseline_rate: br,
                aligned_rate: ar,
                shift: ar - br,
                log_ratio: ((ar + EPSILON) / (br + EPSILON)).ln(),
                marker,
            }
        };
        let is_marker = |t: &str| self.markers.iter().any(|(_, shown)| shown == t);
        let mut tokens: Vec<&String> = b.words.keys().collect();
        tokens.extend(a.words.keys().filter(|t| !b.words.contains_key(*t)));
        let mut rows: Vec<Shift> = tokens
            .into_iter()
            .filter(|t| b.count(t) + a.count(t) >= self.min_count)
            .map(|t| row(t, is_marker(t)))
            .collect();
        rows.sort_by(order);
        rows.truncate(self.top);
        for (_, shown) in &self.markers {
            if !rows.iter().any(|r| r.token == *shown) {
                rows.push(row(shown, true));
            }
        }
        rows.sort_by(order);
        Ok(rows)
    }
}

/// Largest `|shift|` first, then by token.
fn order(x: &Shift, y: &Shift) -> std::cmp::Ordering {
    y.shift
        .abs()
        .total_cmp(&x.shift.abs())
        .then_with(|| x.token.cmp(&y.token))
}

impl GroupOp for TokenShift {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let aligned = cx.side(&self.aligned)?;
            let shifts =
                self.shifts(&group, &aligned.records)
                    .map_err(|message| OpError::Fatal {
                        message: format!("token_shift: {message}"),
                        help: "the tokenizer could not read the text; count words instead by \
                           leaving `tokenizer` out"
                            .into(),
                    })?;
            let per = match &self.units {
                Units::Words => "per 1,000 words".to_string(),
                Units::Model(m) => format!("per 1,000 tokens of `{}`", m.model),
            };
            let mut table = ReportTable {
                title: format!(
                    "Token shift: `{}` against `{}` ({per})",
                    self.aligned, self.baseline
                ),
                columns: [
                    "token",
                    "baseline_rate",
                    "aligned_rate",
                    "shift",
                    "log_ratio",
                    "marker",
                ]
                .map(String::from)
                .to_vec(),
                rows: Vec::new(),
            };
            let mut out = Vec::with_capacity(shifts.len());
            for s in shifts {
                let values = vec![
                    json!(s.token),
                    json!(s.baseline_rate),
                    json!(s.aligned_rate),
                    json!(s.shift),
                    json!(s.log_ratio),
                    json!(s.marker),
                ];
                let mut fields = Map::new();
                fields.insert("id".into(), Json::String(s.token.clone()));
                for (name, value) in table.columns.iter().zip(&values) {
                    fields.insert(name.clone(), value.clone());
                }
                table.rows.push(values);
                out.push(Record {
                    fields,
                    meta: Default::default(),
                });
            }
            cx.report_table(table);
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::text::words::words;

    fn records(texts: &[&str]) -> Vec<Record> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let fields = json!({"id": format!("{i}"), "solution": t});
                Record::source(
                    "d",
                    "d.jsonl",
                    i as u64,
                    fields.as_object().cloned().unwrap(),
                )
            })
            .collect()
    }

    fn op(top: usize, min_count: u64, markers: &[&str]) -> TokenShift {
        TokenShift {
            field: "solution".into(),
            baseline: "raw".into(),
            aligned: "aligned".into(),
            top,
            min_count,
            markers: markers
                .iter()
                .map(|m| (words(m), words(m).join(" ")))
                .collect(),
            units: Units::Words,
        }
    }

    #[test]
    fn known_counts_give_known_rates_in_shift_order() {
        // Baseline: 7 words (a ×3, b ×2, we, get; "we get" once).
        let baseline = records(&["a a a b", "we get b"]);
        // Aligned: 6 words (a, b ×2, therefore, we, get; "we get" once).
        let aligned = records(&["A, b. Therefore we GET $b$"]);
        let rows = op(2, 2, &["therefore", "We get"])
            .shifts(&baseline, &aligned)
            .unwrap();
        let tokens: Vec<&str> = rows.iter().map(|r| r.token.as_str()).collect();
        // Top 2 of the tokens seen twice (a, b, we, get), then the markers whatever their
        // count; all sorted by |shift|.
        assert_eq!(tokens, ["a", "therefore", "b", "we get"]);
        let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
        let a = &rows[0];
        assert!(close(a.baseline_rate, 3000.0 / 7.0) && close(a.aligned_rate, 1000.0 / 6.0));
        assert!(close(a.shift, 1000.0 / 6.0 - 3000.0 / 7.0));
        assert!(!a.marker);
        let t = &rows[1];
        assert!(t.marker && close(t.baseline_rate, 0.0) && close(t.aligned_rate, 1000.0 / 6.0));
        assert!(close(t.log_ratio, ((1000.0 / 6.0 + 0.01) / 0.01f64).ln()));
        let we_get = &rows[3];
        assert!(we_get.marker);
        assert!(close(we_get.baseline_rate, 1000.0 / 7.0));
        assert!(close(we_get.aligned_rate, 1000.0 / 6.0));
    }

    #[test]
    fn ties_are_broken_by_token_and_min_count_filters() {
        let baseline = records(&["x y"]);
        let aligned = records(&["y x"]);
        // Equal rates: every shift is 0, so the order is by token.
        let rows = op(10, 0, &[]).shifts(&baseline, &aligned).unwrap();
        let tokens: Vec<&str> = rows.iter().map(|r| r.token.as_str()).collect();
        assert_eq!(tokens, ["x", "y"]);
        assert!(rows.iter().all(|r| r.shift == 0.0 && r.log_ratio == 0.0));
        assert!(op(10, 3, &[])
            .shifts(&baseline, &aligned)
            .unwrap()
            .is_empty());
        // A marker nobody wrote is still reported, at rate 0.
        let rows = op(0, 0, &["hence"]).shifts(&baseline, &aligned).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].baseline_rate, rows[0].aligned_rate), (0.0, 0.0));
    }
}
