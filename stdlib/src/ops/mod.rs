//! Stage ops: `stage NAME: op(inputs) { settings }`.
//!
//! DTA (METHODS.md §1): generate, peer_review, verify, consensus, decontaminate, dedup,
//! style_probe, rewrite, judge, informativeness, vote, token_shift. TRD (§2): rollout,
//! refine. TOPD (§3): divergence. DART (§4): adapt. Training: distill, export_trainer.
//! Plumbing and scoring: filter, map, perplexity, score.

pub mod adapt;
pub mod adapt_rules;
pub mod ask;
pub mod consensus;
pub mod decontaminate;
pub mod dedup;
pub mod distill;
pub mod distill_data;
pub mod distill_lint;
pub mod distill_run;
pub mod distill_topk;
pub mod divergence;
pub mod divergence_run;
pub mod edit_ratio;
pub mod endpoint_scoring;
pub mod export_trainer;
pub mod export_trainer_run;
pub mod filter;
pub mod fork_gate;
pub mod generate;
pub mod informativeness;
pub mod joined;
pub mod judge;
pub mod map;
pub mod peer_review;
pub mod perplexity;
pub mod refine;
pub mod refine_prompts;
pub mod review_schema;
pub mod rewrite;
pub mod rollout;
pub mod sampling;
pub mod score;
pub mod scoring;
pub mod style_features;
pub mod style_probe;
pub mod token_shift;
pub mod token_units;
pub mod trainer_mapping;
pub mod transport;
pub mod verify;
pub mod vote;
pub mod vote_rank;

use dtac_interpreter::signature::{FieldSpec, Signature, Type};

pub const ALL: &[&Signature] = &[
    &adapt::SIGNATURE,
    &consensus::SIGNATURE,
    &decontaminate::SIGNATURE,
    &dedup::SIGNATURE,
    &distill::SIGNATURE,
    &divergence::SIGNATURE,
    &export_trainer::SIGNATURE,
    &filter::SIGNATURE,
    &generate::SIGNATURE,
    &informativeness::SIGNATURE,
    &judge::SIGNATURE,
    &map::SIGNATURE,
    &peer_review::SIGNATURE,
    &perplexity::SIGNATURE,
    &refine::SIGNATURE,
    &rewrite::SIGNATURE,
    &rollout::SIGNATURE,
    &score::SIGNATURE,
    &style_probe::SIGNATURE,
    &token_shift::SIGNATURE,
    &verify::SIGNATURE,
    &vote::SIGNATURE,
];

/// Per-stage override of the model's sampling temperature.
pub const TEMPERATURE: FieldSpec = FieldSpec::maybe(
    "temperature",
    Type::Float,
    "Sampling temperature for this stage; the model's own setting when left out.",
);

/// Per-stage override of the model's answer length limit.
pub const MAX_TOKENS: FieldSpec = FieldSpec::maybe(
    "max_tokens",
    Type::Int,
    "The most tokens one answer may have in this stage; the model's own setting when left out.",
);

/// The base seed of sampling ops; sample `i` uses `seed + i`, and both are in the cache key.
pub const SEED: FieldSpec = FieldSpec::optional(
    "seed",
    Type::Int,
    "0",
    "The base sampling seed: sample i is drawn with seed + i (part of each request's cache key).",
);

/// The model whose log-probabilities the scoring ops read.
pub const SCORING_MODEL: FieldSpec = FieldSpec::required(
    "model",
    Type::Model,
    "A local student, or a teacher whose endpoint returns prompt log-probabilities.",
);

/// How many tokens of a local model are scored at once.
pub const BATCH_TOKENS: FieldSpec = FieldSpec::optional(
    "batch_tokens",
    Type::Int,
    "16384",
    "Token budget of one scoring batch on a local model (padding included).",
);

/// The answer-extraction setting shared by ops that compare final answers.
pub const EXTRACT: FieldSpec = FieldSpec::optional(
    "extract",
    Type::Enum(&["auto", "boxed", "last_number"]),
    "\"auto\"",
    "How the final answer is found in `solution`: `auto` tries the last `\\boxed{}`, then \
     \"final answer is\" / \"answer:\", then the last number; `boxed` and `last_number` use \
     one rule only. See `verify`.",
);
