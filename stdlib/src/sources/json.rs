//! The `json` source: a JSON document holding an array of objects.

use std::path::PathBuf;
use std::sync::Arc;

use dtac_interpreter::resolve::Node;
use dtac_interpreter::signature::{FieldSpec, Output, Signature, SignatureKind, Type};
use dtac_runtime::op::{BuildError, OpError, SourceOp, StageImpl};
use dtac_runtime::record::Fields;
use serde_json::Value as Json;

use crate::settings::Settings;

use super::{FIELDS, ID_FIELD, LIMIT, PATH, SAMPLE, SCHEMA, SEED, SPLIT};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[PATH],
    settings: &[
        SCHEMA,
        FIELDS,
        ID_FIELD,
        SPLIT,
        SAMPLE,
        SEED,
        LIMIT,
        FieldSpec::maybe(
            "pointer",
            Type::Str,
            "A JSON Pointer (RFC 6901) to the array inside the document, such as `\"/data\"`; \
             by default the document itself must be the array.",
        ),
    ],
    output: Output::FromSchema,
    ..Signature::new(
        "json",
        SignatureKind::Source,
        "Read records from a JSON file holding an array of objects",
    )
};

const DOC: &str = r#"Reads a whole JSON document and takes the array at `pointer` (the document itself by
default): each element must be an object and becomes one record. An element that is not
an object is an error naming its index.

The whole file is parsed before the first record leaves; prefer `jsonl` for large data.

```dta
dataset problems: json("data/champ.json") {
    pointer = "/problems",
    schema = { id: str, question: str, answer: str },
}
```
"#;

/// The runnable source.
#[derive(Debug)]
pub struct JsonSource {
    shape: super::read::Shape,
    pointer: String,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let path = super::input_path(node)?;
    let settings = Settings(&node.settings);
    Ok(StageImpl::Source(Arc::new(JsonSource {
        pointer: settings.str("pointer").unwrap_or("").to_string(),
        shape: super::read::Shape::new(path, settings),
    })))
}

impl JsonSource {
    fn array(&self) -> Result<Vec<Json>, OpError> {
        let file = super::open(&self.shape.path)?;
        let path = self.shape.path.display();
        let doc: Json =
            serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| OpError::Fatal {
                message: format!("`{path}` is not valid JSON: {e}"),
                help:
                    "a `json` source reads one JSON document; use `jsonl` for one object per line"
                        .into(),
            })?;
        let found = if self.pointer.is_empty() {
            Some(doc)
        } else {
            doc.pointer(&self.pointer).cloned()
        };
        match found {
            Some(Json::Array(items)) => Ok(items),
            Some(_) => Err(OpError::Fatal {
                message: format!("`{path}`: the value at `{}` is not an array", self.pointer),
                help: "set `pointer` to the array of records, e.g. \"/data\"".into(),
            }),
            None => Err(OpError::Fatal {
                message: format!("`{path}` has nothing at `{}`", self.pointer),
                help: "set `pointer` to the array of records, e.g. \"/data\"".into(),
            }),
        }
    }
}

impl SourceOp for JsonSource {
    fn read(&self, emit: &mut dyn FnMut(Result<Fields, String>) -> bool) -> Result<(), OpError> {
        let items = self.array()?;
        let path = self.shape.path.display().to_string();
        let mut records = items.into_iter().enumerate().map(|(i, item)| match item {
            Json::Object(fields) => self
                .shape
                .shape(fields, i as u64 + 1, &format!("element {i}")),
            _ => Err(format!("{path}, element {i}: not a JSON object")),
        });
        self.shape.select(&mut records, emit);
        Ok(())
    }

    fn files(&self) -> Vec<PathBuf> {
        vec![self.shape.path.clone()]
    }

    fn count(&self) -> Option<u64> {
        self.array()
            .ok()
            .map(|a| self.shape.estimate(a.len() as u64))
    }
}
