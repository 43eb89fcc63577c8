//! What every source does after parsing its file: renames, the `id` field, schema checks,
//! the train/test split, sampling and the limit, in that fixed order.

use std::path::PathBuf;

use serde_json::Value as Json;

use dtac_runtime::hash::hash_json;
use dtac_runtime::record::Fields;

use crate::settings::Settings;

/// A source's shared settings.
#[derive(Debug, Clone)]
pub struct Shape {
    pub path: PathBuf,
    renames: Vec<(String, String)>,
    id_field: String,
    schema: Option<Vec<(String, String)>>,
    /// (take test side?, test fraction, seed)
    split: Option<(bool, f64, i64)>,
    sample: Option<u64>,
    seed: i64,
    limit: Option<u64>,
}

impl Shape {
    pub fn new(path: PathBuf, s: Settings<'_>) -> Shape {
        let split = match s.get("split") {
            Some(dtac_interpreter::resolve::Value::Record(r)) => {
                let take_test = r.get("take").and_then(|v| v.as_str()) == Some("test");
                let test = r.get("test").and_then(|v| v.as_float()).unwrap_or(0.2);
                let seed = r.get("seed").and_then(|v| v.as_int()).unwrap_or(0);
                Some((take_test, test, seed))
            }
            _ => None,
        };
        Shape {
            path,
            renames: s.string_map("fields"),
            id_field: s.str("id_field").unwrap_or("id").to_string(),
            schema: s.schema("schema").map(<[_]>::to_vec),
            split,
            sample: s.int("sample").map(|n| n.max(0) as u64),
            seed: s.int("seed").unwrap_or(0),
            limit: s.int("limit").map(|n| n.max(0) as u64),
        }
    }

    /// Renames, sets `id`, checks the schema. `row` is 1-based, for messages and default
    /// ids; `place` says where the record is ("line 12", "element 3").
    pub fn shape(&self, mut fields: Fields, row: u64, place: &str) -> Result<Fields, String> {
        for (new, old) in &self.renames {
            if let Some(v) = fields.remove(old) {
                fields.insert(new.clone(), v);
            }
        }
        let id = match fields.get(&self.id_field) {
            Some(Json::String(s)) => Json::String(s.clone()),
            Some(Json::Null) | None => Json::String(row.to_string()),
            Some(other) => Json::String(other.to_string()),
        };
        fields.insert("id".into(), id);
        if let Some(schema) = &self.schema {
            for (name, ty) in schema {
                let optional = ty.ends_with('?');
                match fields.get(name) {
                    None | Some(Json::Null) if optional => {}
                    None => {
                        return Err(format!(
                            "{}, {place}: the record has no field `{name}`, which the schema \
                             requires",
                            self.path.display()
                        ))
                    }
                    Some(v) => {
                        if !fits(v, ty.trim_end_matches('?')) {
                            return Err(format!(
                                "{}, {place}: field `{name}` should be {ty} but is {}",
                                self.path.display(),
                                describe(v)
                            ));
                        }
                    }
                }
            }
        }
        Ok(fields)
    }

    /// Whether a shaped record belongs to this dataset's side of the split.
    pub fn in_split(&self, fields: &Fields) -> bool {
        let Some((take_test, test, seed)) = self.split else {
            return true;
        };
        let id = fields.get("id").cloned().unwrap_or(Json::Null);
        let h = hash_json(&serde_json::json!([id, seed]));
        let x = u64::from_str_radix(&h[..16], 16).unwrap_or(0) as f64 / u64::MAX as f64;
        (x < test) == take_test
    }

    /// Applies split, sample and limit to a stream of shaped records, calling `emit` for
    /// those kept, in file order.
    pub fn select(
        &self,
        records: &mut dyn Iterator<Item = Result<Fields, String>>,
        emit: &mut dyn FnMut(Result<Fields, String>) -> bool,
    ) {
        let mut kept = 0u64;
        let limit = self.limit.unwrap_or(u64::MAX);
        match self.sample {
            None => {
                for r in records {
                    if kept >= limit {
                        return;
                    }
                    match r {
                        Ok(f) if !self.in_split(&f) => continue,
                        other => {
                            kept += 1;
                            if !emit(other) {
                                return;
                            }
                        }
                    }
                }
            }
            Some(n) => {
                // Reservoir sampling with a seeded generator, then file order.
                let mut rng = SplitMix(self.seed as u64 ^ 0x9e37_79b9_7f4a_7c15);
                let mut reservoir: Vec<(u64, Result<Fields, String>)> = Vec::new();
                let mut seen = 0u64;
                for r in records {
                    if let Ok(f) = &r {
                        if !self.in_split(f) {
                            continue;
                        }
                    }
                    if (reservoir.len() as u64) < n {
                        reservoir.push((seen, r));
                    } else {
                        let j = rng.below(seen + 1);
                        if j < n {
                            reservoir[j as usize] = (seen, r);
                        }
                    }
                    seen += 1;
                }
                reservoir.sort_by_key(|(i, _)| *i);
                for (_, r) in reservoir.into_iter().take(limit as usize) {
                    if !emit(r) {
                        return;
                    }
                }
            }
        }
    }

    /// The number of records `rows` raw rows would give, for plans.
    pub fn estimate(&self, rows: u64) -> u64 {
        let mut n = rows;
        if let Some((take_test, test, _)) = self.split {
            let f = if take_test { test } else { 1.0 - test };
            n = (n as f64 * f).round() as u64;
        }
        if let Some(s) = self.sample {
            n = n.min(s);
        }
        n.min(self.limit.unwrap_or(u64::MAX))
    }
}

fn fits(v: &Json, ty: &str) -> bool {
    match ty {
        "str" => v.is_string(),
        "int" => v.is_i64() || v.is_u64(),
        "float" => v.is_number(),
        "bool" => v.is_boolean(),
        t if t.starts_with("list") => v.is_array(),
        _ => true,
    }
}

fn describe(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_f64() => "a decimal number",
        Json::Number(_) => "an integer",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// A small seeded generator (SplitMix64): sampling must be reproducible everywhere.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
