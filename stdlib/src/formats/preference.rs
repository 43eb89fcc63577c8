//! The `preference` export format: chosen / rejected pairs for DPO-style trainers.

use std::io::Write;
use std::sync::Arc;

use dtac_interpreter::resolve::ExportNode;
use dtac_interpreter::signature::{FieldSpec, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, Exporter};
use dtac_runtime::record::Record;
use serde_json::{json, Map, Value as Json};

use crate::settings::Settings;

use super::write::{examples, missing, text, Layout};
use super::{CARD, PROMPT_FIELD, SYSTEM};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    settings: &[
        PROMPT_FIELD,
        FieldSpec::optional(
            "chosen_field",
            Type::Str,
            "\"solution\"",
            "The field holding the preferred response.",
        ),
        FieldSpec::optional(
            "rejected_field",
            Type::Str,
            "\"rejected\"",
            "The field holding the responses that lost: a string or a list of strings \
             (`vote` writes the list, best first).",
        ),
        FieldSpec::optional(
            "pairs",
            Type::Int,
            "1",
            "Pairs written per record: the chosen response against each of the first \
             `pairs` rejected ones.",
        ),
        FieldSpec::optional(
            "style",
            Type::Enum(&["chat", "text"]),
            "\"chat\"",
            "`chat`: `prompt`, `chosen` and `rejected` are message lists (TRL's \
             conversational preference format); `text`: plain strings.",
        ),
        SYSTEM,
        CARD,
    ],
    ..Signature::new(
        "preference",
        SignatureKind::ExportFormat,
        "Write `{ prompt, chosen, rejected }` pairs for DPO and other preference trainers",
    )
};

const DOC: &str = r#"Writes preference pairs, the format TRL's `DPOTrainer` reads: one `{"prompt", "chosen",
"rejected"}` object per pair. `vote` keeps the candidates it did not choose in
`rejected` (best first), so a voted stage exports directly.

Each record gives `pairs` pairs at most: its chosen response against the first `pairs`
rejected ones, in order. A record is skipped, writing nothing, when it has no rejected
response (the field is missing, null, blank or an empty list) or when its `chosen` field
is `false` (a losing candidate of `vote { emit = "all" }`); the card counts the pairs
written. A rejected list holding something other than text is an error naming the
record.

With `style = "chat"`, `prompt` is the system message (when given) and the user turn,
and `chosen` and `rejected` are one assistant turn each. With `style = "text"`, all three
are strings and `system`, when given, is a column of its own. Every pair also keeps the
record's `id`. A path ending in `.parquet` gets a Parquet file with the same columns.

```dta
export ranked to "out/pairs.jsonl" as preference { pairs = 2 }
```
"#;

/// The runnable format.
#[derive(Debug)]
pub struct PreferenceExport {
    prompt_field: String,
    chosen_field: String,
    rejected_field: String,
    pairs: usize,
    chat: bool,
    system: Option<String>,
    layout: Layout,
}

pub fn build(export: &ExportNode) -> Result<Arc<dyn Exporter>, BuildError> {
    let s = Settings(&export.settings);
    let pairs = match s.int("pairs").unwrap_or(1) {
        n if n >= 1 => n as usize,
        n => {
            return Err(BuildError::Invalid {
                message: format!("`pairs` is {n}, so no pair would be written"),
                help: "write at least one pair per record: `pairs = 1`".into(),
            })
        }
    };
    Ok(Arc::new(PreferenceExport {
        prompt_field: s.str("prompt_field").unwrap_or("question").to_string(),
        chosen_field: s.str("chosen_field").unwrap_or("solution").to_string(),
        rejected_field: s.str("rejected_field").unwrap_or("rejected").to_string(),
        pairs,
        chat: s.str("style").unwrap_or("chat") == "chat",
        system: s.str("system").map(str::to_string),
        layout: Layout::of(&export.path),
    }))
}

impl PreferenceExport {
    /// The record's pairs; none when it has nothing to pair with.
    fn pairs(&self, record: &Record) -> std::io::Result<Vec<Map<String, Json>>> {
        if record.get("chosen") == Some(&Json::Bool(false)) {
            return Ok(Vec::new());
        }
        let rejected = self.rejected(record)?;
        if rejected.is_empty() {
            return Ok(Vec::new());
        }
        let prompt = text(record, &self.prompt_field)?;
        let chosen = text(record, &self.chosen_field)?;
        let id = record.get("id").cloned().unwrap_or(Json::Null);
        let mut out = Vec::new();
        for loser in rejected.into_iter().take(self.pairs) {
            let mut row = Map::new();
            row.insert("id".into(), id.clone());
            if self.chat {
                let mut turns = Vec::new();
                if let Some(system) = &self.system {
                    turns.push(json!({"role": "system", "content": system}));
                }
                turns.push(json!({"role": "user", "content": prompt}));
                row.insert("prompt".into(), Json::Array(turns));
                row.insert(
                    "chosen".into(),
                    json!([{"role": "assistant", "content": chosen}]),
                );
                row.insert(
                    "rejected".into(),
                    json!([{"role": "assistant", "content": loser}]),
                );
            } else {
                if let Some(system) = &self.system {
                    row.insert("system".into(), system.as_str().into());
                }
                row.insert("prompt".into(), prompt.into());
                row.insert("chosen".into(), chosen.into());
                row.insert("rejected".into(), loser.into());
            }
            out.push(row);
        }
        Ok(out)
    }

    /// The rejected responses, best first, blank ones left out.
    fn rejected<'a>(&self, record: &'a Record) -> std::io::Result<Vec<&'a str>> {
        let field = &self.rejected_field;
        let found = match record.get(field) {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::String(s)) => vec![s.as_str()],
            Some(Json::Array(items)) => {
                let mut texts = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) => texts.push(s),
                        None => {
                            return Err(missing(
                                record,
                                &format!("has a non-text item at position {i} of `{field}`"),
                            ))
                        }
                    }
                }
                texts
            }
            Some(_) => {
                return Err(missing(
                    record,
                    &format!("has a `{field}` that is neither text nor a list of texts"),
                ))
            }
        };
        Ok(found.into_iter().filter(|s| !s.trim().is_empty()).collect())
    }

    fn columns(&self) -> &'static [&'static str] {
        match (self.chat, self.system.is_some()) {
            (false, true) => &["id", "system", "prompt", "chosen", "rejected"],
            _ => &["id", "prompt", "chosen", "rejected"],
        }
    }
}

impl Exporter for PreferenceExport {
    fn write(
        &self,
        records: &mut dyn Iterator<Item = Record>,
        out: &mut dyn Write,
    ) -> std::io::Result<u64> {
        let mut rows = records.flat_map(|r| match self.pairs(&r) {
            Ok(rows) => rows.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        });
        examples(self.layout, self.columns(), &mut rows, out)
    }
}
