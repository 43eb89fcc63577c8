//! `dtac.lock`, beside the recipe: what a run resolved, so another team (or a later run
//! with `--locked`) can tell whether it is running the same thing. It holds the dtac
//! version, a hash of the recipe's meaning (formatting and comments excluded), each
//! teacher's model and endpoint (credentials stripped), the digest of every dataset file,
//! the params, and resample rounds. Never a secret.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value as Json};

use dtac_interpreter::resolve::Value;

use crate::hash::hash_json;
use crate::llm::ProviderFactory;
use crate::session::Prepared;

pub const LOCK_FILE: &str = "dtac.lock";

/// Where the lockfile of `recipe` lives.
pub fn lock_path(recipe: &Path) -> PathBuf {
    recipe.parent().unwrap_or(Path::new(".")).join(LOCK_FILE)
}

/// The lockfile's content for a prepared recipe, as pretty JSON with sorted keys.
pub fn render(prepared: &Prepared, providers: &dyn ProviderFactory) -> String {
    let recipe = &prepared.recipe;
    let dir = recipe.path.parent().unwrap_or(Path::new("."));
    let mut meaning = Map::new();
    for (name, key) in &prepared.keys {
        let mut def = key.definition.clone();
        if let Some(obj) = def.as_object_mut() {
            // Files and rounds are pinned below on their own; upstream keys repeat them.
            obj.remove("files");
            obj.remove("round");
            obj.remove("upstream");
            obj.remove("version");
            strip_keys(&mut def);
        }
        meaning.insert(name.clone(), def);
    }
    let mut exports = Vec::new();
    for e in &recipe.exports {
        exports.push(json!([e.stage, relative(dir, &e.path), e.format.name]));
    }
    let mut teachers = Map::new();
    for (name, model) in &recipe.models {
        if model.sig.name != "teacher" {
            continue;
        }
        teachers.insert(
            name.clone(),
            json!({
                "model": model.str("model").unwrap_or(""),
                "endpoint": strip_credentials(&providers.endpoint(model)),
                "mode": model.str("mode").unwrap_or("online"),
            }),
        );
    }
    let mut datasets = Map::new();
    for node in &recipe.nodes {
        if node.sig.kind != dtac_interpreter::signature::SignatureKind::Source {
            continue;
        }
        let mut files = Map::new();
        for input in &node.inputs {
            if let Value::Str(path) = input {
                let digest = prepared.digests.get(path).cloned().unwrap_or_default();
                files.insert(relative(dir, Path::new(path)), json!(digest));
            }
        }
        datasets.insert(node.name.clone(), Json::Object(files));
    }
    let params: Map<String, Json> = recipe
        .params
        .iter()
        .map(|(k, v)| (k.clone(), v.identity()))
        .collect();
    let rounds: Map<String, Json> = prepared
        .rounds
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let lock = json!({
        "dtac": env!("CARGO_PKG_VERSION"),
        "recipe": {
            "file": recipe.path.file_name().map(|f| f.to_string_lossy().into_owned()),
            "hash": hash_json(&json!({ "stages": meaning, "exports": exports })),
        },
        "teachers": teachers,
        "datasets": datasets,
        "params": params,
        "rounds": rounds,
    });
    let mut text = serde_json::to_string_pretty(&lock).unwrap_or_default();
    text.push('\n');
    text
}

fn strip_keys(v: &mut Json) {
    match v {
        Json::Object(map) => {
            if map.contains_key("records") {
                map.remove("key");
            }
            map.values_mut().for_each(strip_keys);
        }
        Json::Array(items) => items.iter_mut().for_each(strip_keys),
        _ => {}
    }
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// `https://user:pass@host/v1` → `https://host/v1`.
pub fn strip_credentials(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if let Some((_, host)) = authority.rsplit_once('@') {
            return format!("{scheme}://{host}{path}");
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::strip_credentials;

    #[test]
    fn credentials_are_stripped() {
        assert_eq!(
            strip_credentials("https://u:p@h.com/v1"),
            "https://h.com/v1"
        );
        assert_eq!(
            strip_credentials("http://127.0.0.1:8/v1"),
            "http://127.0.0.1:8/v1"
        );
        assert_eq!(strip_credentials("https://u@x/a@b"), "https://x/a@b");
    }
}
