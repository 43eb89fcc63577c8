//! What the runtime benchmarks share: a recipe checked and resolved outside the timed
//! part, and one complete run of it with the stdlib.

use std::path::Path;
use std::sync::Arc;

use dtac_interpreter::resolve::{resolve, Recipe};
use dtac_interpreter::{check_path, CheckOptions};
use dtac_runtime::exec::{Outcome, RunResult};
use dtac_runtime::progress::Quiet;
use dtac_runtime::session::{prepare, Options};
use dtac_runtime::stop::Stop;

/// The recipe at `path`, checked and resolved with no environment (a teacher's key stays
/// unset, so requests carry none).
pub fn resolved(path: &Path) -> Recipe {
    let registry = dtac_stdlib::registry();
    let checked = check_path(path, &registry, &CheckOptions::default());
    assert!(!checked.has_errors(), "bench recipe checks");
    resolve(&checked, &registry, &|_| None).expect("resolves")
}

/// Runs `recipe` to completion with its state in `state`.
pub async fn execute(recipe: Recipe, state: &Path) -> RunResult {
    let options = Options {
        state_dir: state.to_path_buf(),
        ..Options::default()
    };
    let impls = dtac_stdlib::implementations();
    let prepared = prepare(recipe, impls.as_ref(), &options, true)
        .await
        .expect("prepares");
    let started = prepared.start(
        dtac_stdlib::provider_factory(),
        &options,
        Arc::new(Quiet),
        Stop::new(),
    );
    let result = started.execute().await;
    assert_eq!(result.outcome, Outcome::Completed);
    result
}
