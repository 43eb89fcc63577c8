//! One loaded copy of each local model per process, shared by every stage that uses it,
//! with the batching scorer that serves it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use dtac_interpreter::resolve::ModelDecl;
use dtac_numeric::model::{DeviceSpec, LocalModel, Precision};

use super::batcher::LocalScorer;
use super::checkpoints::inspect_cached;

/// What identifies a loaded copy: the same weights on another device or in another
/// precision are another copy.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    dir: PathBuf,
    device: String,
    dtype: String,
    chat_template: Option<String>,
}

/// The scorer of `model` (a `student`, or a `teacher` with a `path`), loading the
/// weights on first use. Errors are messages for a stage failure: the checkpoint was
/// checked before the run, so what is left is running out of memory, a device that
/// cannot be opened, or files changed since.
pub fn loaded(model: &ModelDecl) -> Result<LocalScorer, String> {
    static MODELS: OnceLock<Mutex<HashMap<Key, LocalScorer>>> = OnceLock::new();
    let text = |name: &str| model.str(name).map(str::to_string);
    let Some(dir) = text("path") else {
        return Err(format!(
            "{} `{}` has no `path`: it is not a local model",
            model.sig.name, model.name
        ));
    };
    let key = Key {
        dir: PathBuf::from(dir),
        device: text("device").unwrap_or_else(|| "auto".into()),
        dtype: text("dtype").unwrap_or_else(|| "f32".into()),
        chat_template: text("chat_template"),
    };
    let models = MODELS.get_or_init(Default::default);
    // Held while loading: two stages asking for the same model at once load it once.
    let mut models = models.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(scorer) = models.get(&key) {
        return Ok(scorer.clone());
    }
    let what = format!("{} `{}`", model.sig.name, model.name);
    let info = inspect_cached(&key.dir).map_err(|p| format!("{what}: {}", p.message))?;
    let device: DeviceSpec = key.device.parse().map_err(|e| format!("{what}: {e}"))?;
    let precision: Precision = key.dtype.parse().map_err(|e| format!("{what}: {e}"))?;
    let mut local = LocalModel::load(&info, &device, precision)
        .map_err(|e| format!("{what}: loading `{}`: {e}", key.dir.display()))?;
    if let Some(template) = &key.chat_template {
        local
            .set_chat_template(template.as_ref())
            .map_err(|e| format!("{what}: {e}"))?;
    }
    let scorer = LocalScorer::start(Arc::new(local), what);
    models.insert(key, scorer.clone());
    Ok(scorer)
}
