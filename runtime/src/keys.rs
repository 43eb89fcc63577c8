//! Stage cache keys.
//!
//! A stage's key hashes its normalized definition: the op and its implementation version,
//! the stage's name, every setting that changes results (defaults filled in, prompts as
//! text after dedent, teachers by their identity), the keys of the stages it reads, the
//! digests of the files a source reads, and its resample round. Not the source text:
//! reformatting a recipe changes no key, and changing a prompt changes exactly the keys
//! of the stages that use it and of everything downstream.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use dtac_interpreter::resolve::{Node, Recipe, Value};
use serde_json::{json, Map, Value as Json};

use crate::hash::hash_json;
use crate::op::Implementations;

/// A stage's key and the definition it hashes.
#[derive(Clone, Debug)]
pub struct StageKey {
    pub key: String,
    pub definition: Json,
}

/// Keys of every node, in the recipe's order. `digests` maps each source file path to
/// its content digest; `rounds` holds `--rerun` counters by stage name.
pub fn stage_keys(
    recipe: &Recipe,
    impls: &dyn Implementations,
    digests: &HashMap<String, String>,
    rounds: &HashMap<String, u64>,
) -> BTreeMap<String, StageKey> {
    let mut keys: BTreeMap<String, StageKey> = BTreeMap::new();
    let dir = recipe.path.parent().unwrap_or(Path::new(""));
    for node in &recipe.nodes {
        let definition = definition(node, impls, digests, rounds, &keys, dir);
        let key = hash_json(&definition);
        keys.insert(node.name.clone(), StageKey { key, definition });
    }
    keys
}

fn definition(
    node: &Node,
    impls: &dyn Implementations,
    digests: &HashMap<String, String>,
    rounds: &HashMap<String, u64>,
    keys: &BTreeMap<String, StageKey>,
    dir: &Path,
) -> Json {
    let upstream_key = |name: &str| keys.get(name).map_or("", |k| k.key.as_str()).to_string();
    let mut inputs = Vec::new();
    let mut files = Map::new();
    for input in &node.inputs {
        if let Value::Str(path) = input {
            // A file counts by its content: moving the project, or the data with it,
            // keeps the cache. The path relative to the recipe names it in plans.
            let digest = digests.get(path).cloned().unwrap_or_default();
            let shown = Path::new(path)
                .strip_prefix(dir)
                .map_or_else(|_| path.clone(), |p| p.to_string_lossy().into_owned());
            files.insert(shown, json!(digest));
            inputs.push(json!({ "file": digest }));
            continue;
        }
        inputs.push(with_keys(input.identity(), &upstream_key));
    }
    // Files a teacher names (a replay file) count by content, like a source's.
    for model in node.settings.values().flat_map(Value::models) {
        for (_, path) in model.files() {
            let digest = digests.get(path).cloned().unwrap_or_default();
            let shown = Path::new(path)
                .strip_prefix(dir)
                .map_or_else(|_| path.to_string(), |p| p.to_string_lossy().into_owned());
            files.insert(shown, json!(digest));
        }
    }
    let mut settings = Map::new();
    for (name, value) in &node.settings {
        let operational = node.sig.setting(name).is_some_and(|s| s.operational);
        if !operational {
            settings.insert(name.clone(), with_keys(value.identity(), &upstream_key));
        }
    }
    let upstream: Map<String, Json> = node
        .upstream
        .iter()
        .map(|u| (u.clone(), json!(upstream_key(u))))
        .collect();
    json!({
        "name": node.name,
        "op": node.sig.name,
        "version": impls.version(node.sig.name),
        "inputs": inputs,
        "settings": settings,
        "upstream": upstream,
        "files": files,
        "round": rounds.get(&node.name).copied().unwrap_or(0),
    })
}

/// Adds the upstream key to every `{"records": NAME}` in an identity.
fn with_keys(mut identity: Json, key_of: &dyn Fn(&str) -> String) -> Json {
    fn walk(v: &mut Json, key_of: &dyn Fn(&str) -> String) {
        match v {
            Json::Object(map) => {
                if let Some(Json::String(name)) = map.get("records") {
                    let k = key_of(name);
                    map.insert("key".into(), json!(k));
                }
                for child in map.values_mut() {
                    walk(child, key_of);
                }
            }
            Json::Array(items) => items.iter_mut().for_each(|c| walk(c, key_of)),
            _ => {}
        }
    }
    walk(&mut identity, key_of);
    identity
}

/// Why a stage must run, comparing its definition with the one it last ran with: the
/// settings, inputs, files and upstream stages that changed, in words.
pub fn what_changed(old: &Json, new: &Json) -> String {
    let mut reasons = Vec::new();
    if old.get("op") != new.get("op") {
        return "its op changed".into();
    }
    if old.get("version") != new.get("version") {
        reasons.push("the op's implementation was updated".to_string());
    }
    for (section, word) in [
        ("settings", "setting"),
        ("files", "file"),
        ("upstream", "input"),
    ] {
        let empty = Map::new();
        let a = old.get(section).and_then(Json::as_object).unwrap_or(&empty);
        let b = new.get(section).and_then(Json::as_object).unwrap_or(&empty);
        let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            if a.get(name) != b.get(name) {
                reasons.push(format!("{word} `{name}` changed"));
            }
        }
    }
    if old.get("inputs") != new.get("inputs") && reasons.is_empty() {
        reasons.push("its inputs changed".into());
    }
    if old.get("round") != new.get("round") {
        reasons.push("resampled (`--rerun`)".into());
    }
    if reasons.is_empty() {
        "its definition changed".into()
    } else {
        reasons.join(", ")
    }
}
