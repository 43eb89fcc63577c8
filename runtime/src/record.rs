//! Records: what flows between stages. Fields are JSON; provenance says where each record
//! came from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::hash::{hash_json, short};

pub type Fields = Map<String, Json>;

/// One record and its provenance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub fields: Fields,
    pub meta: Provenance,
}

/// Where a record came from. Stable across runs: ids derive from the stage name, the
/// parents' ids and the output position, never from time or memory addresses.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `STAGE/HASH`: unique within a run, identical in every run of the same recipe.
    pub id: String,
    pub stage: String,
    /// The records this one was made from (a source record has none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// The teacher declaration that wrote the text, when a model did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teacher: Option<String>,
    /// The prompt (declaration name, or `inline`) and the hash of the rendered messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Scores attached along the way, by name, accumulated through the pipeline.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scores: BTreeMap<String, f64>,
}

impl Record {
    /// A record produced by a source at `position` (0-based) of `origin` (a file path).
    pub fn source(stage: &str, origin: &str, position: u64, fields: Fields) -> Record {
        let id = record_id(stage, &[origin.to_string()], position);
        Record {
            fields,
            meta: Provenance {
                id,
                stage: stage.to_string(),
                ..Provenance::default()
            },
        }
    }

    /// A new record derived from this one: same fields, this record as parent, the scores
    /// carried over. The executor assigns the id and stage.
    pub fn derive(&self) -> Record {
        Record {
            fields: self.fields.clone(),
            meta: Provenance {
                parents: vec![self.meta.id.clone()],
                teacher: self.meta.teacher.clone(),
                prompt: self.meta.prompt.clone(),
                scores: self.meta.scores.clone(),
                ..Provenance::default()
            },
        }
    }

    pub fn get(&self, field: &str) -> Option<&Json> {
        self.fields.get(field)
    }

    pub fn str(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Json::as_str)
    }

    pub fn set(&mut self, field: &str, value: impl Into<Json>) {
        self.fields.insert(field.to_string(), value.into());
    }

    /// Sets a numeric field and records it as a score in the provenance.
    pub fn score(&mut self, name: &str, value: f64) {
        self.set(name, value);
        self.meta.scores.insert(name.to_string(), value);
    }

    /// The value of `field` as a grouping key: strings as they are, other values as JSON.
    pub fn key_of(&self, field: &str) -> String {
        match self.fields.get(field) {
            Some(Json::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    }
}

/// `STAGE/HASH` over the parents and the position among the outputs made from them.
pub fn record_id(stage: &str, parents: &[String], position: u64) -> String {
    let h = hash_json(&serde_json::json!([stage, parents, position]));
    format!("{stage}/{}", short(&h))
}
