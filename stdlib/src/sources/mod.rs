//! Dataset sources: `dataset NAME: jsonl("path") { ... }` reads records from a file.
//!
//! Every source takes the settings in this module (schema, renames, `limit`, `sample`,
//! `split`, the id field); each format adds its own. The order of application is fixed:
//! rename, check against `schema`, `split`, `sample`, `limit`.

pub mod csv;
pub mod json;
pub mod jsonl;
pub mod parquet;
pub mod read;

use std::path::PathBuf;

use dtac_interpreter::resolve::{Node, Value};
use dtac_interpreter::signature::{FieldSpec, InputSpec, Signature, Type};
use dtac_runtime::op::{BuildError, OpError};

/// The source's file: its one input, already absolute.
pub(crate) fn input_path(node: &Node) -> Result<PathBuf, BuildError> {
    match node.inputs.first() {
        Some(Value::Str(p)) => Ok(PathBuf::from(p)),
        _ => Err(BuildError::Invalid {
            message: "the source has no file path".into(),
            help: "write the path as the source's argument: `jsonl(\"data.jsonl\")`".into(),
        }),
    }
}

/// Opens a source file, with a message naming it when that fails.
pub(crate) fn open(path: &std::path::Path) -> Result<std::fs::File, OpError> {
    std::fs::File::open(path).map_err(|e| OpError::Fatal {
        message: format!("cannot open `{}`: {e}", path.display()),
        help: "check the path; it is relative to the recipe file".into(),
    })
}

pub const ALL: &[&Signature] = &[
    &csv::SIGNATURE,
    &json::SIGNATURE,
    &jsonl::SIGNATURE,
    &parquet::SIGNATURE,
];

/// The one input of every source.
pub const PATH: InputSpec = InputSpec::path(
    "path",
    "The file to read, relative to the recipe. Its digest is pinned in the lockfile.",
);

pub const SCHEMA: FieldSpec = FieldSpec::maybe(
    "schema",
    Type::Schema,
    "The fields every record must have, after renaming: `{ id: str, question: str, answer: str }`. \
     A record that lacks one is an error naming the file and line. Declaring it lets \
     `dtac check` verify the fields that later stages and prompts use.",
);

pub const FIELDS: FieldSpec = FieldSpec::maybe(
    "fields",
    Type::Map(&Type::Str),
    "Renames: `{ question = \"problem\" }` makes the file's `problem` field the record's \
     `question`. Fields not named keep their names.",
);

pub const ID_FIELD: FieldSpec = FieldSpec::optional(
    "id_field",
    Type::Str,
    "\"id\"",
    "The field (after renaming) that identifies a problem; copied to `id`. When the records \
     have no such field, `id` is the record's line or row number, counted from 1.",
);

pub const SPLIT: FieldSpec = FieldSpec::maybe(
    "split",
    Type::Record(&[
        FieldSpec::required(
            "take",
            Type::Enum(&["train", "test"]),
            "Which side of the split this dataset keeps.",
        ),
        FieldSpec::optional(
            "test",
            Type::Float,
            "0.2",
            "The fraction of records in the test side, between 0 and 1.",
        ),
        FieldSpec::optional(
            "seed",
            Type::Int,
            "0",
            "Salt of the hash that assigns records to sides.",
        ),
    ]),
    "A deterministic train/test split: a record goes to the test side when the hash of its \
     `id` and `seed` falls below `test`. Two datasets over the same file with the same `test` \
     and `seed`, one with `take = \"train\"` and one with `take = \"test\"`, are disjoint and \
     together hold every record, whatever the file's order.",
);

pub const SAMPLE: FieldSpec = FieldSpec::maybe(
    "sample",
    Type::Int,
    "Keep a uniform random sample of this many records (all of them when there are fewer), \
     drawn with `seed`, in file order.",
);

pub const SEED: FieldSpec = FieldSpec::optional("seed", Type::Int, "0", "The seed of `sample`.");

pub const LIMIT: FieldSpec = FieldSpec::maybe(
    "limit",
    Type::Int,
    "Keep at most this many records: the first ones, after `split` and `sample`.",
);
