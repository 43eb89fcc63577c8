//! Setting up a run or a plan: open the state dir, digest the files sources read, load
//! resample rounds, compute stage keys, and build every op, reporting every op that cannot
//! run before anything is spent.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dtac_grammar::ast::Span;
use dtac_interpreter::resolve::Recipe;
use dtac_interpreter::source::FileId;

use crate::exec::{execute, Run, RunResult};
use crate::keys::{stage_keys, StageKey};
use crate::llm::{Gateway, ProviderFactory};
use crate::op::{BuildError, Exporter, Implementations, StageImpl};
use crate::progress::Observer;
use crate::stop::Stop;
use crate::store::{read, StateLock, Store, StoreError};

/// What the user asked for on the command line.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub state_dir: PathBuf,
    /// Ignore stored stage outputs and responses.
    pub fresh: bool,
    /// Stages to resample.
    pub reruns: Vec<String>,
    /// No network: a response missing from the store is an error.
    pub offline: bool,
    pub budget: Option<f64>,
}

/// A problem found while setting up, with where it is in the recipe when known.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub message: String,
    pub help: String,
    pub at: Option<(FileId, Span)>,
}

impl Problem {
    fn store(e: StoreError) -> Problem {
        Problem {
            help: e.help(),
            message: e.to_string(),
            at: None,
        }
    }
}

/// A recipe ready to run or plan.
#[derive(Debug)]
pub struct Prepared {
    pub recipe: Arc<Recipe>,
    pub recipe_id: String,
    pub store: Store,
    pub keys: BTreeMap<String, StageKey>,
    pub rounds: HashMap<String, u64>,
    pub impls: BTreeMap<String, StageImpl>,
    pub exporters: Vec<Arc<dyn Exporter>>,
    /// Content digests of every file a source reads, by path.
    pub digests: BTreeMap<String, String>,
    /// Held while the run lasts.
    pub lock: Option<StateLock>,
}

/// A prepared recipe wired to its providers and observer, ready to execute.
#[derive(Debug)]
pub struct Started {
    pub run: Arc<Run>,
    impls: BTreeMap<String, StageImpl>,
    exporters: Vec<Arc<dyn Exporter>>,
    /// Held until the run ends.
    _lock: Option<StateLock>,
}

impl Prepared {
    /// Builds the gateway (response cache, budget, providers from `factory`) and the run.
    pub fn start(
        self,
        factory: Arc<dyn ProviderFactory>,
        options: &Options,
        observer: Arc<dyn Observer>,
        stop: Stop,
    ) -> Started {
        let gateway = Arc::new(Gateway::new(
            self.store.clone(),
            factory,
            options.offline,
            options.fresh,
            options.budget,
            stop.clone(),
        ));
        let run = Arc::new(Run::new(
            self.recipe,
            self.recipe_id,
            self.store,
            gateway,
            self.keys,
            self.rounds,
            stop,
            observer,
            options.fresh,
        ));
        Started {
            run,
            impls: self.impls,
            exporters: self.exporters,
            _lock: self.lock,
        }
    }
}

impl Started {
    pub async fn execute(self) -> RunResult {
        execute(self.run, self.impls, self.exporters).await
    }
}

/// Prepares `recipe`. `lock` takes the state dir for a run (a plan only reads).
pub async fn prepare(
    recipe: Recipe,
    impls: &dyn Implementations,
    options: &Options,
    lock: bool,
) -> Result<Prepared, Vec<Problem>> {
    let state_lock = if lock {
        Some(StateLock::acquire(&options.state_dir).map_err(|e| vec![Problem::store(e)])?)
    } else {
        None
    };
    let store = Store::open(&options.state_dir).map_err(|e| vec![Problem::store(e)])?;
    let recipe_id = std::fs::canonicalize(&recipe.path)
        .unwrap_or_else(|_| recipe.path.clone())
        .to_string_lossy()
        .into_owned();

    let mut problems = Vec::new();
    let mut built = BTreeMap::new();
    for node in &recipe.nodes {
        match impls.build(node) {
            Ok(imp) => {
                built.insert(node.name.clone(), imp);
            }
            Err(e) => problems.push(build_problem(e, &node.name, Some((node.file, node.span)))),
        }
    }
    let mut exporters = Vec::new();
    for export in &recipe.exports {
        match impls.exporter(export) {
            Ok(x) => exporters.push(x),
            Err(e) => problems.push(build_problem(
                e,
                &format!("export of `{}`", export.stage),
                Some((export.file, export.span)),
            )),
        }
    }

    let mut digests = BTreeMap::new();
    for model in recipe.models.values() {
        for (setting, file) in model.files() {
            match digest(&store, Path::new(file)) {
                Ok(d) => {
                    digests.insert(file.to_string(), d);
                }
                Err(e) => problems.push(Problem {
                    message: format!(
                        "{} `{}`: cannot read `{setting} = \"{file}\"`: {e}",
                        model.sig.name, model.name
                    ),
                    help: "check the path; it is relative to the recipe file".into(),
                    at: None,
                }),
            }
        }
    }
    for node in &recipe.nodes {
        if let Some(StageImpl::Source(source)) = built.get(&node.name) {
            for file in source.files() {
                match digest(&store, &file) {
                    Ok(d) => {
                        digests.insert(file.to_string_lossy().into_owned(), d);
                    }
                    Err(e) => problems.push(Problem {
                        message: format!(
                            "dataset `{}`: cannot read `{}`: {e}",
                            node.name,
                            file.display()
                        ),
                        help: "check the path; it is relative to the recipe file".into(),
                        at: Some((node.file, node.span)),
                    }),
                }
            }
        }
    }

    let mut rounds = HashMap::new();
    for node in &recipe.nodes {
        let round = store
            .with_reader(|c| read::sample_offset(c, &node.name))
            .map_err(|e| vec![Problem::store(e)])?;
        if round > 0 {
            rounds.insert(node.name.clone(), round);
        }
    }
    for stage in &options.reruns {
        if !recipe.nodes.iter().any(|n| &n.name == stage) {
            let names: Vec<&str> = recipe.nodes.iter().map(|n| n.name.as_str()).collect();
            let help = match dtac_interpreter::suggest::did_you_mean(stage, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the stages are: {}", names.join(", ")),
            };
            problems.push(Problem {
                message: format!("`--rerun {stage}`: the recipe has no stage `{stage}`"),
                help,
                at: None,
            });
            continue;
        }
        let next = rounds.get(stage).copied().unwrap_or(0) + 1;
        if lock {
            store
                .writer()
                .set_sample_offset(stage, next)
                .await
                .map_err(|e| vec![Problem::store(e)])?;
        }
        rounds.insert(stage.clone(), next);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let digest_map: HashMap<String, String> = digests
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let keys = stage_keys(&recipe, impls, &digest_map, &rounds);
    Ok(Prepared {
        recipe: Arc::new(recipe),
        recipe_id,
        store,
        keys,
        rounds,
        impls: built,
        exporters,
        digests,
        lock: state_lock,
    })
}

fn build_problem(e: BuildError, what: &str, at: Option<(FileId, Span)>) -> Problem {
    match e {
        BuildError::NotImplemented { op, issue } => Problem {
            message: format!("{what}: op `{op}` is declared but cannot run yet"),
            help: format!(
                "`dtac check` accepts it so recipes can be written now; its implementation \
                 arrives with {issue}"
            ),
            at,
        },
        BuildError::Invalid { message, help } => Problem {
            message: format!("{what}: {message}"),
            help,
            at,
        },
    }
}

/// A file's SHA-256, reusing the stored digest while its size and mtime are unchanged.
/// A directory (a model checkpoint) counts by the names and contents of the files directly
/// in it; hidden files and subdirectories (`.cache`, `original/`) are not what is loaded.
/// Each file's digest is cached by size and mtime like any other, so a multi-gigabyte
/// checkpoint is read once, not on every run.
fn digest_dir(store: &Store, dir: &Path) -> std::io::Result<String> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.file_type()?.is_file() {
            files.push(name);
        }
    }
    if files.is_empty() {
        return Err(std::io::Error::other("the directory has no files"));
    }
    files.sort();
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    for name in files {
        let d = digest(store, &dir.join(&name))?;
        sha2::Digest::update(&mut hasher, format!("{name}\0{d}\n").as_bytes());
    }
    Ok(crate::hash::hex(&sha2::Digest::finalize(hasher)))
}

fn digest(store: &Store, path: &Path) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return digest_dir(store, path);
    }
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64);
    let key = path.to_string_lossy();
    if let Ok(Some(d)) = store.with_reader(|c| read::digest(c, &key, meta.len(), mtime_ns)) {
        return Ok(d);
    }
    let mut file = std::fs::File::open(path)?;
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha2::Digest::update(&mut hasher, &buf[..n]);
    }
    let d = crate::hash::hex(&sha2::Digest::finalize(hasher));
    let _ = store.writer().digest(&key, meta.len(), mtime_ns, &d);
    Ok(d)
}

#[cfg(test)]
mod build_problem_tests {
    use super::*;

    #[test]
    fn a_declared_op_without_implementation_names_its_issue() {
        let p = build_problem(
            BuildError::NotImplemented {
                op: "future_op".into(),
                issue: "issue 99",
            },
            "stage `s`",
            None,
        );
        assert!(p
            .message
            .contains("op `future_op` is declared but cannot run yet"));
        assert!(p.help.contains("issue 99"));
    }
}
