//! The executor's paths that the stdlib's runnable ops do not exercise yet, driven through
//! the library API with test implementations of two declared ops:
//! - a stage that waits for a side input that is itself upstream of its streaming input
//!   (`verify(tidy) { answer = train.answer }` where `tidy` streams from `train`), with
//!   far more records than a channel holds: it must not deadlock;
//! - a grouped stage (`vote`, grouped by `id`), fed group by group from the store;
//! - a fatal op error stopping the run with the stage named.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use dtac_interpreter::resolve::{resolve, ExportNode, Node, Value};
use dtac_interpreter::{check_path, CheckOptions};
use dtac_runtime::exec::{Outcome, RunResult};
use dtac_runtime::op::{
    BuildError, Exporter, GroupOp, Implementations, OpError, RecordOp, StageCtx, StageImpl,
};
use dtac_runtime::progress::Quiet;
use dtac_runtime::record::Record;
use dtac_runtime::session::{prepare, Options};
use dtac_runtime::stop::Stop;
use futures::future::BoxFuture;

/// Compares `answer` with the side input's record of the same id.
#[derive(Debug)]
struct Verify {
    side: String,
    field: String,
}

impl RecordOp for Verify {
    fn run<'a>(
        &'a self,
        cx: &'a StageCtx,
        record: Record,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            let side = cx.side(&self.side)?;
            let reference = side
                .by_id(&record.key_of("id"))
                .and_then(|r| r.str(&self.field).map(str::to_string))
                .ok_or_else(|| OpError::Record("no reference".into()))?;
            if record.str("guess") == Some(reference.as_str()) {
                let mut r = record.derive();
                r.score("correct", 1.0);
                Ok(vec![r])
            } else {
                cx.drop_record("wrong answer");
                Ok(vec![])
            }
        })
    }
}

/// Keeps the first record of each group, and counts the group's size.
#[derive(Debug)]
struct First;

impl GroupOp for First {
    fn run<'a>(
        &'a self,
        _cx: &'a StageCtx,
        group: Vec<Record>,
    ) -> BoxFuture<'a, Result<Vec<Record>, OpError>> {
        Box::pin(async move {
            if group.iter().any(|r| r.str("note") == Some("boom")) {
                return Err(OpError::Fatal {
                    message: "the judge exploded".into(),
                    help: "a test".into(),
                });
            }
            let n = group.len();
            let mut first = group
                .into_iter()
                .next()
                .map(|r| r.derive())
                .into_iter()
                .collect::<Vec<_>>();
            for r in &mut first {
                r.set("group_size", n);
            }
            Ok(first)
        })
    }
}

#[derive(Debug)]
struct TestImpls;

impl Implementations for TestImpls {
    fn build(&self, node: &Node) -> Result<StageImpl, BuildError> {
        match node.sig.name {
            "verify" => {
                let Some(Value::Field { records, field }) = node.get("answer") else {
                    panic!("test recipe gives `answer`");
                };
                Ok(StageImpl::Each(Arc::new(Verify {
                    side: records.clone(),
                    field: field.clone(),
                })))
            }
            "vote" => Ok(StageImpl::Group {
                op: Arc::new(First),
                by: "id".into(),
            }),
            _ => dtac_stdlib::impls::Stdlib.build(node),
        }
    }

    fn exporter(&self, export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
        dtac_stdlib::impls::Stdlib.exporter(export)
    }

    fn version(&self, _op: &str) -> u32 {
        1
    }
}

const RECORDS: usize = 3000;

fn write_case(dir: &std::path::Path, poison: bool) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut data = String::new();
    for i in 0..RECORDS {
        // Three candidates per problem id; two of them right.
        let id = i / 3;
        let note = if poison && i == RECORDS - 3 {
            "boom"
        } else {
            ""
        };
        let guess = if i % 3 == 2 {
            "wrong".to_string()
        } else {
            format!("{}", id * 2)
        };
        data.push_str(&format!(
            "{{\"id\":\"p{id}\",\"guess\":\"{guess}\",\"note\":\"{note}\",\"answer\":\"{}\"}}\n",
            id * 2
        ));
    }
    std::fs::write(dir.join("data.jsonl"), data).unwrap();
    let recipe = dir.join("r.dta");
    std::fs::write(
        &recipe,
        "version = 1\n\
         dataset train: jsonl(\"data.jsonl\")\n\
         stage tidy: map(train) { drop = [\"unused\"] }\n\
         stage checked: verify(tidy) { answer = train.answer }\n\
         stage voted: vote(checked) { weights = { correct = 1.0 } }\n\
         export voted to \"out/voted.jsonl\" as jsonl { card = false }\n",
    )
    .unwrap();
    recipe
}

async fn run(recipe: &std::path::Path) -> RunResult {
    let registry = dtac_stdlib::registry();
    let checked = check_path(recipe, &registry, &CheckOptions::default());
    assert!(
        !checked.has_errors(),
        "{:?}",
        checked.diags().collect::<Vec<_>>()
    );
    let resolved = resolve(&checked, &registry, &|_| None).unwrap();
    let options = Options {
        state_dir: recipe.parent().unwrap().join(".dtac"),
        ..Options::default()
    };
    let prepared = prepare(resolved, &TestImpls, &options, true).await.unwrap();
    let started = prepared.start(
        dtac_stdlib::provider_factory(),
        &options,
        Arc::new(Quiet),
        Stop::new(),
    );
    tokio::time::timeout(Duration::from_secs(60), started.execute())
        .await
        .expect("the pipeline finishes (no deadlock)")
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("dtac-exec-{name}-{}", std::process::id()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn side_inputs_upstream_of_the_stream_do_not_deadlock_and_groups_see_whole_groups() {
    let dir = temp("ok");
    let recipe = write_case(&dir, false);
    let result = run(&recipe).await;
    assert_eq!(result.outcome, Outcome::Completed);
    let by_name: BTreeMap<&str, _> = result.stages.iter().map(|s| (s.name.as_str(), s)).collect();
    assert_eq!(by_name["checked"].records_in, RECORDS as u64);
    assert_eq!(by_name["checked"].records_out, 2 * RECORDS as u64 / 3);
    assert_eq!(
        by_name["checked"].dropped["wrong answer"],
        RECORDS as u64 / 3
    );
    assert_eq!(by_name["voted"].records_out, RECORDS as u64 / 3);
    let out = std::fs::read_to_string(dir.join("out/voted.jsonl")).unwrap();
    assert_eq!(out.lines().count(), RECORDS / 3);
    // Groups arrive whole and in order of first appearance.
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], "p0");
    assert_eq!(first["group_size"], 2);
    assert_eq!(first["_provenance"]["scores"]["correct"], 1.0);
    // Provenance runs back to the source record.
    let parents = first["_provenance"]["parents"].as_array().unwrap();
    assert!(parents[0].as_str().unwrap().starts_with("checked/"));

    // Run again: everything from the store, same bytes.
    let again = run(&recipe).await;
    assert_eq!(again.outcome, Outcome::Completed);
    assert!(again.stages.iter().all(|s| s.cached));
    assert_eq!(
        std::fs::read_to_string(dir.join("out/voted.jsonl")).unwrap(),
        out
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fatal_op_error_stops_the_run_naming_the_stage() {
    let dir = temp("fatal");
    let recipe = write_case(&dir, true);
    let result = run(&recipe).await;
    match &result.outcome {
        Outcome::Failed(f) => {
            assert_eq!(f.stage, "voted");
            assert!(f.message.contains("exploded"));
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(!dir.join("out/voted.jsonl").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
