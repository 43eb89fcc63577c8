//! Export formats: `export STAGE to "PATH" as FORMAT { ... }`.
//!
//! `jsonl`, `parquet`, `csv` and `raw` write the records as they are; `chat`, `alpaca`,
//! `sharegpt` and `preference` reshape them for trainers, and write JSON Lines, or Parquet
//! when the path ends in `.parquet`.

pub mod alpaca;
pub mod chat;
pub mod columns;
pub mod csv;
pub mod dialogue;
pub mod jsonl;
pub mod parquet;
pub mod preference;
pub mod raw;
pub mod sharegpt;
pub mod spool;
pub mod write;

use dtac_interpreter::signature::{FieldSpec, Signature, Type};

pub const ALL: &[&Signature] = &[
    &alpaca::SIGNATURE,
    &chat::SIGNATURE,
    &csv::SIGNATURE,
    &jsonl::SIGNATURE,
    &parquet::SIGNATURE,
    &preference::SIGNATURE,
    &raw::SIGNATURE,
    &sharegpt::SIGNATURE,
];

pub const CARD: FieldSpec = FieldSpec::optional(
    "card",
    Type::Bool,
    "true",
    "Also write a dataset card, `PATH.md`: record counts, the recipe's hash, the teachers \
     and the stages that produced the data.",
);

/// Which fields of raw records to write.
pub const FIELDS: FieldSpec = FieldSpec::maybe(
    "fields",
    Type::List(&Type::Str),
    "Write only these fields, in this order; every field by default.",
);

pub const SYSTEM: FieldSpec = FieldSpec::maybe(
    "system",
    Type::Str,
    "A system message put first in every example.",
);

pub const PROMPT_FIELD: FieldSpec = FieldSpec::optional(
    "prompt_field",
    Type::Str,
    "\"question\"",
    "The field holding the user's turn (the problem).",
);

pub const RESPONSE_FIELD: FieldSpec = FieldSpec::optional(
    "response_field",
    Type::Str,
    "\"solution\"",
    "The field holding the assistant's turn (the solution).",
);
