//! `dedup`: drop exact and near-duplicate records.
//!
//! `scope = "all"` streams: one [`Deduper`] behind a mutex sees every record. It must see
//! them in input order, and does: the executor pushes each record's `run` future into a
//! `FuturesOrdered` in input order, and that queue polls new futures first in the order
//! they were pushed (futures-util's ready queue is FIFO); this op does all its work in
//! the synchronous part of `run`, before the first await point, so the decisions are
//! taken in input order. `tests/text_ops.rs` guards this with many records in flight.
//! `scope = "problem"` is a grouped op: a fresh `Deduper` per `id`.

use std::sync::{Arc, Mutex};

use dtac_interpreter::resolve::Node;
use dtac_interpreter::signature::{FieldSpec, InputSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, GroupOp, OpError, RecordOp, StageCtx, StageImpl};
use dtac_runtime::record::Record;
use futures::future::BoxFuture;
use serde_json::json;

use crate::settings::Settings;
use crate::text::dedup::{Deduper, Fingerprint, Method, Verdict};
use crate::text::field_text;

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[InputSpec::records("records", "The records to deduplicate.")],
    settings: &[
        FieldSpec::optional(
            "field",
            Type::Str,
            "\"solution\"",
            "The field whose text is compared.",
        ),
        FieldSpec::optional(
            "method",
            Type::Enum(&["exact", "minhash"]),
            "\"minhash\"",
            "`exact`: equal after normalization (a hash); `minhash`: estimated Jaccard \
             similarity of word n-gram sets at least `threshold` (MinHash LSH).",
        ),
        FieldSpec::optional(
            "threshold",
            Type::Float,
            "0.85",
            "The Jaccard similarity from which two texts are near-duplicates (minhash), above \
             0 and at most 1.",
        ),
        FieldSpec::optional(
            "shingle",
            Type::Int,
            "5",
            "Words per shingle (minhash), 1 to 1,000.",
        ),
        FieldSpec::optional(
            "permutations",
            Type::Int,
            "128",
            "MinHash signature length, 1 to 4,096; bands and rows are chosen for `threshold`.",
        ),
        FieldSpec::optional(
            "scope",
            Type::Enum(&["all", "problem"]),
            "\"all\"",
            "`all` compares every record with every other; `problem` only candidates of the \
             same `id`.",
        ),
        FieldSpec::optional(
            "seed",
            Type::Int,
            "0",
            "The seed of the MinHash permutations.",
        ),
    ],
    // Records leave unchanged: a kept record streams on before its duplicates arrive.
    output: Output::Extends(&[]),
    ..Signature::new(
        "dedup",
        SignatureKind::Transform,
        "Drop exact or near-duplicate records (normalized hash or MinHash LSH)",
    )
};

const DOC: &str = r#"Removes duplicates, keeping the first record of each cluster in input order
(deterministic). Normalization as in `decontaminate` (case, punctuation, LaTeX markup,
whitespace).

- `exact`: a 64-bit hash of the normalized text.
- `minhash` [related]: MinHash signatures over `shingle`-word shingles (a text shorter
  than `shingle` words is one shingle), banded LSH to find candidate pairs, then the
  signature's Jaccard estimate against `threshold`. Bands and rows are chosen to minimise
  the chance of a false candidate below `threshold` plus that of a missed one above it.

Only kept records are compared against, so a dropped record always names a kept one.
A record whose `field` is missing, null or has no words is kept and never compared.

Records pass through unchanged, as soon as they are known to be first of their kind.
Dropped records appear in the run report with the record they duplicate (`of`: its
provenance id, `of_id`: its `id`) and the estimated similarity.

```dta
stage unique: dedup(candidates) { method = "minhash", threshold = 0.9, scope = "problem" }
```
"#;

/// How a record's text is reduced and compared.
#[derive(Debug)]
struct Config {
    field: String,
    method: Method,
}

/// A kept record, as duplicates name it.
#[derive(Debug)]
struct Kept {
    provenance: String,
    id: String,
}

/// `scope = "all"`: one set of kept texts for the whole stream.
#[derive(Debug)]
pub struct DedupAll {
    config: Config,
    state: Mutex<(Deduper, Vec<Kept>)>,
}

/// `scope = "problem"`: kept texts per `id` group.
#[derive(Debug)]
pub struct DedupPerProblem {
    config: Config,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let s = Settings(&node.settings);
    let field = s.str("field").unwrap_or("solution").to_string();
    let method = match s.str("method").unwrap_or("minhash") {
        "exact" => Method::Exact,
        _ => {
            let threshold = s.float("threshold").unwrap_or(0.85);
            if !(threshold > 0.0 && threshold <= 1.0) {
                return Err(invalid(
                    &format!("`threshold` is {threshold}"),
                    "a Jaccard similarity: more than 0, at most 1 (0.85 is usual)",
                ));
            }
            let shingle = positive(&s, "shingle", 5, 1_000)?;
            let permutations = positive(&s, "permutations", 128, MAX_PERMUTATIONS)?;
            let seed = s.int("seed").unwrap_or(0) as u64;
            Method::minhash(shingle, threshold, permutations, seed)
        }
    };
    let config = Config { field, method };
    Ok(match s.str("scope").unwrap_or("all") {
        "problem" => StageImpl::Group {
            op: Arc::new(DedupPerProblem { config }),
            by: "id".into(),
        },
        _ => StageImpl::Each(Arc::new(DedupAll {
            state: Mutex::new((Deduper::new(config.method.clone()), Vec::new())),
            config,
        })),
    })
}

/// Beyond this a signature costs more than it gains (the estimate's error is already
/// under 0.01), and the choice of bands, which tries every split, stays instant.
const MAX_PERMUTATIONS: i64 = 4_096;

fn positive(s: &Settings, name: &str, default: i64, max: i64) -> Result<usize, BuildError> {
    let v = s.int(name).unwrap_or(default);
    if !(1..=max).contains(&v) {
        return Err(invalid(
            &format!("`{name}` is {v}"),
            &format!("use a number from 1 to {max} (default {default})"),
        ));
    }
    Ok(v as usize)
}

fn invalid(message: &str, help: &str) -> BuildError {
    BuildError::Invalid {
        message: message.to_string(),
        help: help.to_string(),
    }
}

impl Config {
    fn fingerprint(&self, record: &Record) -> Fingerprint {
        match field_text(record, &self.field) {
            Some(text) => self.method.fingerprint(&text, &mut Vec::new()),
            None => Fingerprint::Empty,
        }
    }

    /// Passes `record` on when it is the first of its kind; reports it when not.
    fn judge(
        &self,
        cx: &StageCtx,
        deduper: &mut Deduper,
        kept: &mut Vec<Kept>,
        record: &Record,
        fingerprint: &Fingerprint,
    ) -> Option<Record> {
        match deduper.decide(fingerprint) {
            Verdict::First { .. } => {
                kept.push(Kept {
                    provenance: record.meta.id.clone(),
                    id: record.key_of("id"),
                });
                Some(record.derive())
            }
            Verdict::Empty => Some(record.derive()),
            Verdict::Duplicate { of, similarity } => {
                let of = kept.get(of);
                cx.drop_because(
                    record,
                    "duplicate",
                    json!({
                        "of": of.map(|k| k.provenance.as_str()),
                        "of_id": of.map(|k| k.id.as_str()),
                        "similarity": similarity,
                    }),
                );
                None
            }
        }
    }
}

impl RecordOp for DedupAll {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        // All work happens here, before the future is returned: see the module docs for
        // why that keeps the decisions in input order.
        let fingerprint = self.config.fingerprint(&record);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (deduper, kept) = &mut *state;
        let out = self
            .config
            .judge(cx, deduper, kept, &record, &fingerprint)
            .into_iter()
            .collect();
        Box::pin(std::future::ready(Ok(out)))
    }
}

impl GroupOp for DedupPerProblem {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        let mut deduper = Deduper::new(self.config.method.clone());
        let mut kept = Vec::new();
        let out = group
            .iter()
            .filter_map(|record| {
                let fingerprint = self.config.fingerprint(record);
                self.config
                    .judge(cx, &mut deduper, &mut kept, record, &fingerprint)
            })
            .collect();
        Box::pin(std::future::ready(Ok(out)))
    }
}
