//! The stdlib's implementations, by op name: what `dtac run` builds each stage with.
//!
//! An op that is declared but not implemented yet (so recipes using it check) refuses to
//! build, naming the issue that brings it; `dtac run` reports every such op before
//! anything runs. Never a silent or fake result.

use std::sync::Arc;

use dtac_interpreter::resolve::{ExportNode, Node};
use dtac_runtime::op::{BuildError, Exporter, Implementations, StageImpl};

use crate::{formats, ops, sources};

/// The standard library's op implementations.
#[derive(Debug, Default)]
pub struct Stdlib;

const STDLIB_ISSUE: &str = "issue 5 (the DTA standard library)";
const NUMERIC_ISSUE: &str = "issue 6 (the numeric core)";
const TRAINING_ISSUE: &str = "issue 7 (training and the trajectory methods)";

impl Implementations for Stdlib {
    fn build(&self, node: &Node) -> Result<StageImpl, BuildError> {
        let op = node.sig.name;
        match op {
            "jsonl" => sources::jsonl::build(node),
            "json" => sources::json::build(node),
            "generate" => ops::generate::build(node),
            "map" => ops::map::build(node),
            "judge" => ops::judge::build(node),
            "score" => ops::score::build(node),
            "perplexity" => ops::perplexity::build(node),
            // Declared, not yet runnable (one name per line).
            "csv" => not_yet(op, STDLIB_ISSUE),
            "parquet" => not_yet(op, STDLIB_ISSUE),
            "verify" => not_yet(op, STDLIB_ISSUE),
            "consensus" => not_yet(op, STDLIB_ISSUE),
            "peer_review" => not_yet(op, STDLIB_ISSUE),
            "decontaminate" => not_yet(op, STDLIB_ISSUE),
            "dedup" => not_yet(op, STDLIB_ISSUE),
            "style_probe" => not_yet(op, STDLIB_ISSUE),
            "rewrite" => not_yet(op, STDLIB_ISSUE),
            "vote" => not_yet(op, STDLIB_ISSUE),
            "filter" => ops::filter::build(node),
            "token_shift" => not_yet(op, STDLIB_ISSUE),
            "informativeness" => not_yet(op, NUMERIC_ISSUE),
            _ => not_yet(op, TRAINING_ISSUE),
        }
    }

    fn exporter(&self, export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
        match export.format.name {
            "jsonl" => formats::jsonl::build(export),
            "chat" => formats::chat::build(export),
            other => Err(BuildError::NotImplemented {
                op: format!("export format {other}"),
                issue: STDLIB_ISSUE,
            }),
        }
    }

    fn version(&self, _op: &str) -> u32 {
        // Bump an op's number here when a fix changes what it produces.
        1
    }
}

fn not_yet(op: &str, issue: &'static str) -> Result<StageImpl, BuildError> {
    Err(BuildError::NotImplemented {
        op: op.to_string(),
        issue,
    })
}
