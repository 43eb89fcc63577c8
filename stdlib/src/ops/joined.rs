//! Values joined from another dataset on `id` (`reference = train.solution`,
//! `answer = train.answer`): the field of the first record of that input with the same
//! `id` as the record at hand, as text.

use dtac_interpreter::resolve::Value;
use dtac_runtime::op::{OpError, StageCtx};
use dtac_runtime::record::Record;
use serde_json::Value as Json;

/// A `DATASET.FIELD` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    pub records: String,
    pub field: String,
}

impl FieldRef {
    pub fn from_value(value: Option<&Value>) -> Option<FieldRef> {
        match value {
            Some(Value::Field { records, field }) => Some(FieldRef {
                records: records.clone(),
                field: field.clone(),
            }),
            _ => None,
        }
    }

    /// The joined value for `record`, or a record error naming what is missing.
    pub fn text(&self, cx: &StageCtx, record: &Record) -> Result<String, OpError> {
        let id = record.key_of("id");
        cx.side(&self.records)?
            .by_id(&id)
            .and_then(|r| r.get(&self.field))
            .and_then(as_text)
            .ok_or_else(|| {
                OpError::Record(format!(
                    "no `{}` record with id `{id}` has `{}`",
                    self.records, self.field
                ))
            })
    }
}

/// Strings as they are, numbers and other values as JSON text; null is nothing.
pub fn as_text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
