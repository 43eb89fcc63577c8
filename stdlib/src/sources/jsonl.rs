//! The `jsonl` source: one JSON object per line.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Arc;

use dtac_interpreter::resolve::Node;
use dtac_interpreter::signature::{Output, Signature, SignatureKind};
use dtac_runtime::op::{BuildError, OpError, SourceOp, StageImpl};
use dtac_runtime::record::Fields;

use crate::settings::Settings;

use super::{FIELDS, ID_FIELD, LIMIT, PATH, SAMPLE, SCHEMA, SEED, SPLIT};

pub const SIGNATURE: Signature = Signature {
    doc: DOC,
    inputs: &[PATH],
    settings: &[SCHEMA, FIELDS, ID_FIELD, SPLIT, SAMPLE, SEED, LIMIT],
    output: Output::FromSchema,
    ..Signature::new(
        "jsonl",
        SignatureKind::Source,
        "Read records from a JSON Lines file, one object per line",
    )
};

const DOC: &str = r#"Reads a JSON Lines file: each non-blank line is one JSON object, and becomes one record
with the object's keys as fields. A line that is not an object is an error naming the
file and line.

Records keep the file's order. With `schema`, a record missing a declared field, or with
a value of the wrong type, is an error naming the file, the line and the field.

```dta
dataset train: jsonl("data/train.jsonl") {
    schema = { id: str, question: str, answer: str },
    fields = { question = "problem" },
    split = { take = "train", test = 0.2 },
}
dataset bench: jsonl("data/train.jsonl") { split = { take = "test", test = 0.2 } }
```
"#;

/// The runnable source.
#[derive(Debug)]
pub struct Jsonl {
    shape: super::read::Shape,
}

pub fn build(node: &Node) -> Result<StageImpl, BuildError> {
    let path = super::input_path(node)?;
    Ok(StageImpl::Source(Arc::new(Jsonl {
        shape: super::read::Shape::new(path, Settings(&node.settings)),
    })))
}

impl SourceOp for Jsonl {
    fn read(&self, emit: &mut dyn FnMut(Result<Fields, String>) -> bool) -> Result<(), OpError> {
        let file = super::open(&self.shape.path)?;
        let path = self.shape.path.display().to_string();
        let mut rows = 0u64;
        let mut lines = BufReader::new(file)
            .lines()
            .enumerate()
            .filter_map(|(i, line)| {
                let n = i as u64 + 1;
                let line = match line {
                    Ok(l) => l,
                    Err(e) => return Some(Err(format!("{path}, line {n}: unreadable ({e})"))),
                };
                if line.trim().is_empty() {
                    return None;
                }
                rows += 1;
                Some(match serde_json::from_str::<serde_json::Value>(&line) {
                    Ok(serde_json::Value::Object(fields)) => {
                        self.shape.shape(fields, rows, &format!("line {n}"))
                    }
                    Ok(_) => Err(format!("{path}, line {n}: not a JSON object")),
                    Err(e) => Err(format!("{path}, line {n}: invalid JSON ({e})")),
                })
            });
        self.shape.select(&mut lines, emit);
        Ok(())
    }

    fn files(&self) -> Vec<PathBuf> {
        vec![self.shape.path.clone()]
    }

    fn count(&self) -> Option<u64> {
        let file = std::fs::File::open(&self.shape.path).ok()?;
        let rows = BufReader::new(file)
            .split(b'\n')
            .filter(|l| l.as_ref().is_ok_and(|l| !l.trim_ascii().is_empty()))
            .count() as u64;
        Some(self.shape.estimate(rows))
    }
}
