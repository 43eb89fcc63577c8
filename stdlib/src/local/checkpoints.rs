//! Checkpoint checks run by `dtac check` (and the language server, and before `dtac
//! run`): the `resources` hooks of the `student` and `teacher` blocks and of the ops
//! that pair a student with a local teacher.
//!
//! Inspecting reads `config.json`, the tokenizer and the safetensors headers, never the
//! weights; the result is cached per directory and refreshed when one of those files
//! changes, so an editor re-checking on every keystroke does not re-read a 7 MB
//! tokenizer each time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use dtac_interpreter::signature::{Lint, LintValues};
use dtac_numeric::model::{inspect, CheckpointInfo, CONFIG_FILE, TOKENIZER_FILE};

/// What a failed inspection says: the message and the fix.
#[derive(Clone, Debug)]
pub struct Problem {
    pub message: String,
    pub help: String,
}

type Inspected = Result<Arc<CheckpointInfo>, Problem>;

/// The files whose change invalidates a cached inspection, with their modification times.
type Stamp = Vec<(PathBuf, Option<SystemTime>)>;

fn stamp(dir: &Path) -> Stamp {
    let mut watched = vec![
        dir.to_path_buf(),
        dir.join(CONFIG_FILE),
        dir.join(TOKENIZER_FILE),
        dir.join("tokenizer_config.json"),
        dir.join("model.safetensors.index.json"),
    ];
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut weights: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
            .collect();
        weights.sort();
        watched.extend(weights);
    }
    watched
        .into_iter()
        .map(|p| {
            let modified = std::fs::metadata(&p).and_then(|m| m.modified()).ok();
            (p, modified)
        })
        .collect()
}

/// [`inspect`], cached per directory until one of its files changes.
pub fn inspect_cached(dir: &Path) -> Inspected {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, (Stamp, Inspected)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let now = stamp(dir);
    if let Some((seen, result)) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(dir) {
        if *seen == now {
            return result.clone();
        }
    }
    let result = inspect(dir).map(Arc::new).map_err(|e| Problem {
        message: e.to_string(),
        help: e.help(),
    });
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(dir.to_path_buf(), (now, result.clone()));
    result
}

/// The `resources` check of a model block with a `path`: the checkpoint must load, and a
/// `chat_template` override must exist.
pub fn model_block(values: &dyn LintValues) -> Vec<Lint> {
    let mut lints = Vec::new();
    if let Some(dir) = values.path("path") {
        if let Err(p) = inspect_cached(&dir) {
            lints.push(Lint {
                setting: Some("path"),
                message: p.message,
                help: p.help,
            });
        }
    }
    if let Some(template) = values.path("chat_template") {
        if !template.is_file() {
            lints.push(Lint {
                setting: Some("chat_template"),
                message: format!("the chat template `{}` does not exist", template.display()),
                help: "give a Jinja file relative to the recipe, or leave the setting out to \
                       use the checkpoint's own template"
                    .into(),
            });
        }
    }
    lints
}

/// The checkpoint a reference setting (`student = small`) names, when it names a block
/// with a `path` that inspects cleanly (a broken one is reported on its own block).
fn referenced_checkpoint(
    values: &dyn LintValues,
    setting: &str,
) -> Option<(String, Arc<CheckpointInfo>)> {
    let block = values.referenced(setting)?;
    let dir = block.values.path("path")?;
    let info = inspect_cached(&dir).ok()?;
    Some((dir.display().to_string(), info))
}

/// A student and a local teacher compared token by token (full logits) must share one
/// vocabulary: the same id must be the same token string on both sides.
pub fn same_vocabulary(values: &dyn LintValues) -> Vec<Lint> {
    let (Some((s_dir, student)), Some((t_dir, teacher))) = (
        referenced_checkpoint(values, "student"),
        referenced_checkpoint(values, "teacher"),
    ) else {
        return Vec::new();
    };
    if student.vocab_fingerprint() == teacher.vocab_fingerprint() {
        return Vec::new();
    }
    vec![Lint {
        setting: Some("teacher"),
        message: format!(
            "the teacher's tokenizer (`{t_dir}`, {} tokens) does not match the student's \
             (`{s_dir}`, {} tokens): their logits index different tokens",
            teacher.tokenizer_vocab, student.tokenizer_vocab
        ),
        help: "use a teacher of the student's family (same tokenizer), or an endpoint \
               teacher with `signal = \"topk_logprobs\"` or `\"text\"`"
            .into(),
    }]
}
