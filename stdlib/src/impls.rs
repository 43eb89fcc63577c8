//! The stdlib's implementations, by op name: what `dtac run` builds each stage with.
//!
//! Every declared op has an implementation. A future op may be declared before its
//! implementation lands (so recipes using it check); it then refuses to build with
//! `BuildError::NotImplemented`, naming the issue that brings it, and `dtac run` reports
//! every such op before anything runs. Never a silent or fake result.

use std::sync::Arc;

use dtac_interpreter::resolve::{ExportNode, Node};
use dtac_runtime::op::{BuildError, Exporter, Implementations, StageImpl};

use crate::{formats, ops, sources};

/// The standard library's op implementations.
#[derive(Debug, Default)]
pub struct Stdlib;

const STDLIB_ISSUE: &str = "issue 5 (the DTA standard library)";

impl Implementations for Stdlib {
    fn build(&self, node: &Node) -> Result<StageImpl, BuildError> {
        let op = node.sig.name;
        match op {
            "jsonl" => sources::jsonl::build(node),
            "json" => sources::json::build(node),
            "csv" => sources::csv::build(node),
            "parquet" => sources::parquet::build(node),
            "generate" => ops::generate::build(node),
            "map" => ops::map::build(node),
            "judge" => ops::judge::build(node),
            "score" => ops::score::build(node),
            "perplexity" => ops::perplexity::build(node),
            "decontaminate" => ops::decontaminate::build(node),
            "dedup" => ops::dedup::build(node),
            "token_shift" => ops::token_shift::build(node),
            "peer_review" => ops::peer_review::build(node),
            "style_probe" => ops::style_probe::build(node),
            "vote" => ops::vote::build(node),
            "rewrite" => ops::rewrite::build(node),
            // A local model in-process, or an endpoint's prompt scoring.
            "informativeness" => ops::informativeness::build(node),
            "verify" => ops::verify::build(node),
            "consensus" => ops::consensus::build(node),
            "filter" => ops::filter::build(node),
            "distill" => ops::distill::build(node),
            "rollout" => ops::rollout::build(node),
            "refine" => ops::refine::build(node),
            "adapt" => ops::adapt::build(node),
            "divergence" => ops::divergence::build(node),
            "export_trainer" => ops::export_trainer::build(node),
            // `dtac check` knows no other op, so this is a signature without an
            // implementation: a bug, reported as one.
            other => Err(BuildError::Invalid {
                message: format!("internal error: op `{other}` has no implementation"),
                help: "please report this".into(),
            }),
        }
    }

    fn exporter(&self, export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
        match export.format.name {
            "jsonl" => formats::jsonl::build(export),
            "chat" => formats::chat::build(export),
            "csv" => formats::csv::build(export),
            "parquet" => formats::parquet::build(export),
            "alpaca" => formats::alpaca::build(export),
            "sharegpt" => formats::sharegpt::build(export),
            "preference" => formats::preference::build(export),
            "raw" => formats::raw::build(export),
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
