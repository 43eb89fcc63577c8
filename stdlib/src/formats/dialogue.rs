//! The one-exchange conversation the `chat` and `sharegpt` formats share: an optional
//! system message, the user's turn (`prompt_field`), the assistant's turn
//! (`response_field`), kept beside the record's `id`. The formats differ only in how a
//! turn is spelt and what the list is called.

use std::io::Write;

use dtac_interpreter::resolve::ExportNode;
use dtac_runtime::record::Record;
use serde_json::{Map, Value as Json};

use crate::settings::Settings;

use super::write::{examples, text, Layout};

/// Who speaks a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaker {
    System,
    User,
    Assistant,
}

/// The settings of a conversation format.
#[derive(Debug)]
pub struct Dialogue {
    system: Option<String>,
    prompt_field: String,
    response_field: String,
    layout: Layout,
}

impl Dialogue {
    pub fn of(export: &ExportNode) -> Dialogue {
        let s = Settings(&export.settings);
        Dialogue {
            system: s.str("system").map(str::to_string),
            prompt_field: s.str("prompt_field").unwrap_or("question").to_string(),
            response_field: s.str("response_field").unwrap_or("solution").to_string(),
            layout: Layout::of(&export.path),
        }
    }

    /// `{ "id", list: [turns] }`, each turn spelt by `turn`.
    fn example(
        &self,
        record: &Record,
        list: &str,
        turn: fn(Speaker, &str) -> Json,
    ) -> std::io::Result<Map<String, Json>> {
        let mut turns = Vec::new();
        if let Some(system) = &self.system {
            turns.push(turn(Speaker::System, system));
        }
        turns.push(turn(Speaker::User, text(record, &self.prompt_field)?));
        turns.push(turn(
            Speaker::Assistant,
            text(record, &self.response_field)?,
        ));
        let mut row = Map::new();
        row.insert("id".into(), record.get("id").cloned().unwrap_or(Json::Null));
        row.insert(list.into(), Json::Array(turns));
        Ok(row)
    }

    /// Writes one example per record; returns how many.
    pub fn write(
        &self,
        records: &mut dyn Iterator<Item = Record>,
        out: &mut dyn Write,
        list: &str,
        turn: fn(Speaker, &str) -> Json,
    ) -> std::io::Result<u64> {
        let mut rows = records.map(|r| self.example(&r, list, turn));
        examples(self.layout, &["id", list], &mut rows, out)
    }
}
