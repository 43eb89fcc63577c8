//! From JSON rows to Arrow columns: the schema a Parquet export infers from its records,
//! and the arrays that hold them.
//!
//! Each column's type is the narrowest one that fits every value seen:
//! `bool`, `int` (64-bit), `float` (an int column that meets a decimal widens), `str`,
//! lists of an inferred element type, and objects as structs whose fields are inferred
//! the same way. Anything else — a column mixing strings and numbers, lists and objects,
//! integers beyond 64 bits, objects with no fields — holds JSON text, so no value is lost
//! or changed. Nulls and missing fields are nulls of any type; a column of nulls only is
//! a string column.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{NullBufferBuilder, OffsetBufferBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch, RecordBatchOptions,
    StringArray, StructArray,
};
use arrow_schema::{DataType, Field, Fields, Schema};
use serde_json::{Map, Value as Json};

static NULL: Json = Json::Null;

/// The inferred type of a column or of a nested value.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// Only nulls seen so far.
    Null,
    Bool,
    Int,
    Float,
    Str,
    /// Values that fit no one type, written as JSON text.
    Json,
    List(Box<Kind>),
    /// Fields in first-seen order.
    Struct(Vec<(String, Kind)>),
}

impl Kind {
    fn of(v: &Json) -> Kind {
        let mut k = Kind::Null;
        k.absorb(v);
        k
    }

    /// Widens the type so it also fits `v`.
    fn absorb(&mut self, v: &Json) {
        match (&mut *self, v) {
            (_, Json::Null) | (Kind::Json, _) => {}
            (Kind::Null, _) => *self = Kind::fresh(v),
            (Kind::Bool, Json::Bool(_)) | (Kind::Str, Json::String(_)) => {}
            (Kind::Int | Kind::Float, Json::Number(n)) => {
                if n.is_f64() {
                    *self = Kind::Float;
                } else if n.as_i64().is_none() {
                    // Beyond i64: a float would round it, so keep the exact text.
                    *self = Kind::Json;
                }
            }
            (Kind::List(inner), Json::Array(items)) => {
                for item in items {
                    inner.absorb(item);
                }
            }
            (Kind::Struct(fields), Json::Object(map)) => absorb_fields(fields, map),
            _ => *self = Kind::Json,
        }
    }

    /// The type of a first non-null value.
    fn fresh(v: &Json) -> Kind {
        match v {
            Json::Null => Kind::Null,
            Json::Bool(_) => Kind::Bool,
            Json::Number(n) if n.is_f64() => Kind::Float,
            Json::Number(n) if n.as_i64().is_some() => Kind::Int,
            Json::Number(_) => Kind::Json,
            Json::String(_) => Kind::Str,
            Json::Array(items) => {
                let mut inner = Kind::Null;
                for item in items {
                    inner.absorb(item);
                }
                Kind::List(Box::new(inner))
            }
            Json::Object(map) => {
                let mut fields = Vec::new();
                absorb_fields(&mut fields, map);
                Kind::Struct(fields)
            }
        }
    }

    /// The type as written: Parquet has no field-less struct, so those become JSON text.
    fn settle(self) -> Kind {
        match self {
            Kind::List(inner) => Kind::List(Box::new(inner.settle())),
            Kind::Struct(fields) if fields.is_empty() => Kind::Json,
            Kind::Struct(fields) => {
                Kind::Struct(fields.into_iter().map(|(n, k)| (n, k.settle())).collect())
            }
            other => other,
        }
    }

    pub fn data_type(&self) -> DataType {
        match self {
            Kind::Bool => DataType::Boolean,
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Null | Kind::Str | Kind::Json => DataType::Utf8,
            Kind::List(inner) => {
                DataType::List(Arc::new(Field::new_list_field(inner.data_type(), true)))
            }
            Kind::Struct(fields) => DataType::Struct(struct_fields(fields)),
        }
    }
}

fn absorb_fields(fields: &mut Vec<(String, Kind)>, map: &Map<String, Json>) {
    for (name, v) in map {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some((_, k)) => k.absorb(v),
            None => fields.push((name.clone(), Kind::of(v))),
        }
    }
}

fn struct_fields(fields: &[(String, Kind)]) -> Fields {
    fields
        .iter()
        .map(|(name, k)| Field::new(name, k.data_type(), true))
        .collect()
}

/// The columns of a stream of rows, inferred as the rows go by.
#[derive(Debug, Default)]
pub struct Infer {
    columns: Vec<(String, Kind)>,
    index: HashMap<String, usize>,
}

impl Infer {
    /// Starts with `first` as the first columns, in that order, even if no row has them.
    pub fn new(first: &[String]) -> Infer {
        let mut infer = Infer::default();
        for name in first {
            infer.column(name);
        }
        infer
    }

    fn column(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        self.columns.push((name.to_string(), Kind::Null));
        self.index.insert(name.to_string(), self.columns.len() - 1);
        self.columns.len() - 1
    }

    pub fn add(&mut self, row: &Map<String, Json>) {
        for (name, v) in row {
            let i = self.column(name);
            self.columns[i].1.absorb(v);
        }
    }

    /// The columns, in first-seen order, with their final types.
    pub fn finish(self) -> Columns {
        Columns(
            self.columns
                .into_iter()
                .map(|(n, k)| (n, k.settle()))
                .collect(),
        )
    }
}

/// Settled columns: names and types.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns(pub Vec<(String, Kind)>);

impl Columns {
    pub fn schema(&self) -> Schema {
        Schema::new(struct_fields(&self.0))
    }

    /// One record batch holding `rows`; a field a row lacks is null.
    pub fn batch(
        &self,
        schema: &Arc<Schema>,
        rows: &[Map<String, Json>],
    ) -> std::io::Result<RecordBatch> {
        let mut arrays = Vec::with_capacity(self.0.len());
        for (name, kind) in &self.0 {
            let values: Vec<&Json> = rows.iter().map(|r| r.get(name).unwrap_or(&NULL)).collect();
            arrays.push(array(kind, &values)?);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
        RecordBatch::try_new_with_options(schema.clone(), arrays, &options)
            .map_err(std::io::Error::other)
    }
}

/// The Arrow array of `values`, all of which fit `kind` (or are null).
fn array(kind: &Kind, values: &[&Json]) -> std::io::Result<ArrayRef> {
    Ok(match kind {
        Kind::Bool => Arc::new(values.iter().map(|v| v.as_bool()).collect::<BooleanArray>()),
        Kind::Int => Arc::new(values.iter().map(|v| v.as_i64()).collect::<Int64Array>()),
        Kind::Float => Arc::new(values.iter().map(|v| v.as_f64()).collect::<Float64Array>()),
        Kind::Null | Kind::Str => {
            Arc::new(values.iter().map(|v| v.as_str()).collect::<StringArray>())
        }
        Kind::Json => Arc::new(
            values
                .iter()
                .map(|v| (!v.is_null()).then(|| v.to_string()))
                .collect::<StringArray>(),
        ),
        Kind::List(inner) => {
            let mut offsets = OffsetBufferBuilder::<i32>::new(values.len());
            let mut nulls = NullBufferBuilder::new(values.len());
            let mut items = Vec::new();
            for v in values {
                match v {
                    Json::Array(list) => {
                        items.extend(list.iter());
                        offsets.push_length(list.len());
                        nulls.append_non_null();
                    }
                    _ => {
                        offsets.push_length(0);
                        nulls.append_null();
                    }
                }
            }
            if items.len() > i32::MAX as usize {
                return Err(std::io::Error::other(
                    "a list column holds more than 2^31 items in one row group; lower \
                     `row_group_size`",
                ));
            }
            let field = Arc::new(Field::new_list_field(inner.data_type(), true));
            let child = array(inner, &items)?;
            Arc::new(
                ListArray::try_new(field, offsets.finish(), child, nulls.finish())
                    .map_err(std::io::Error::other)?,
            )
        }
        Kind::Struct(fields) => {
            let mut nulls = NullBufferBuilder::new(values.len());
            for v in values {
                if v.is_object() {
                    nulls.append_non_null();
                } else {
                    nulls.append_null();
                }
            }
            let mut children = Vec::with_capacity(fields.len());
            for (name, k) in fields {
                let column: Vec<&Json> = values
                    .iter()
                    .map(|v| v.get(name).unwrap_or(&NULL))
                    .collect();
                children.push(array(k, &column)?);
            }
            Arc::new(
                StructArray::try_new(struct_fields(fields), children, nulls.finish())
                    .map_err(std::io::Error::other)?,
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn infer(rows: &[Json]) -> Vec<(String, Kind)> {
        let mut infer = Infer::new(&[]);
        for r in rows {
            infer.add(r.as_object().unwrap());
        }
        infer.finish().0
    }

    #[test]
    fn ints_widen_to_floats_and_mixed_columns_become_json_text() {
        let cols = infer(&[
            json!({"a": 1, "b": "x", "c": null, "d": [1], "e": {"k": 1}}),
            json!({"a": 2.5, "b": 3, "d": [2.5, null], "e": {"k": "s", "j": true}}),
        ]);
        assert_eq!(
            cols,
            vec![
                ("a".into(), Kind::Float),
                ("b".into(), Kind::Json),
                ("c".into(), Kind::Null),
                ("d".into(), Kind::List(Box::new(Kind::Float))),
                (
                    "e".into(),
                    Kind::Struct(vec![("k".into(), Kind::Json), ("j".into(), Kind::Bool)])
                ),
            ]
        );
    }

    #[test]
    fn huge_integers_and_empty_objects_keep_their_exact_text() {
        let cols = infer(&[json!({"big": u64::MAX, "o": {}}), json!({"big": 1})]);
        assert_eq!(cols[0], ("big".into(), Kind::Json));
        assert_eq!(cols[1], ("o".into(), Kind::Json));
    }

    #[test]
    fn first_columns_come_first_even_when_absent() {
        let mut infer = Infer::new(&["z".to_string(), "a".to_string()]);
        infer.add(json!({"m": 1, "a": true}).as_object().unwrap());
        let cols = infer.finish().0;
        let names: Vec<_> = cols.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["z", "a", "m"]);
        assert_eq!(cols[0].1, Kind::Null);
    }

    #[test]
    fn batches_hold_nested_values_and_nulls() {
        let rows: Vec<Map<String, Json>> = [
            json!({"l": [[1, 2], null], "s": {"a": "x"}, "j": 1}),
            json!({"l": null, "j": "one"}),
        ]
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect();
        let mut infer = Infer::new(&[]);
        rows.iter().for_each(|r| infer.add(r));
        let columns = infer.finish();
        let schema = Arc::new(columns.schema());
        let batch = columns.batch(&schema, &rows).unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.num_columns(), 3);
        let j = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        assert_eq!(j.value(0), "1");
        assert_eq!(j.value(1), "\"one\"");
        assert!(batch.column(1).is_null(1), "a null list stays null");
        assert!(batch.column(2).is_null(1), "a missing struct is null");
    }
}
