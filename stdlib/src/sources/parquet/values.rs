//! From Arrow columns to JSON values: how a Parquet row becomes a record's fields.
//!
//! A whole column of a batch converts at once (one type dispatch per column, not per
//! cell). The mapping: strings, integers and booleans as they are; floats as numbers,
//! NaN and infinities as null (JSON has neither); decimals as numbers; lists as lists;
//! structs and maps as objects; dictionary-encoded columns as their values; dates as
//! `YYYY-MM-DD`; times as `HH:MM:SS[.fff]`; timestamps as ISO 8601
//! `YYYY-MM-DDTHH:MM:SS[.fff]`, with `Z` when the column has a time zone (the instant in
//! UTC); binary values as standard base64 text. A date or time beyond the calendar's
//! range is null. Other types (durations, intervals, unions) are an error naming the type.

use arrow_array::cast::AsArray;
use arrow_array::temporal_conversions::{
    as_datetime, date32_to_datetime, date64_to_datetime, time32ms_to_time, time32s_to_time,
    time64ns_to_time, time64us_to_time,
};
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Decimal256Type, Decimal32Type, Decimal64Type,
    DecimalType, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrowPrimitiveType, OffsetSizeTrait};
use arrow_schema::{DataType, TimeUnit};
use base64::Engine;
use serde_json::{Map, Value as Json};

/// A chrono date or time (as arrow's conversions return them) as ISO 8601 text, `suffix`
/// appended; null when out of range. A macro, not a function: it calls the value's own
/// `format` without dtac naming chrono as a dependency.
macro_rules! iso {
    ($value:expr, $pattern:literal, $suffix:expr) => {
        $value.map_or(Json::Null, |t| {
            Json::String(format!("{}{}", t.format($pattern), $suffix))
        })
    };
}

/// The column's values, one per row.
pub fn column(array: &dyn Array) -> Result<Vec<Json>, String> {
    use DataType as T;
    match array.data_type() {
        T::Null => Ok(vec![Json::Null; array.len()]),
        T::Boolean => {
            let a = array.as_boolean_opt().ok_or_else(|| mismatch(array))?;
            Ok(a.iter().map(|v| v.map_or(Json::Null, Json::Bool)).collect())
        }
        T::Int8 => primitive::<Int8Type>(array, Json::from),
        T::Int16 => primitive::<Int16Type>(array, Json::from),
        T::Int32 => primitive::<Int32Type>(array, Json::from),
        T::Int64 => primitive::<Int64Type>(array, Json::from),
        T::UInt8 => primitive::<UInt8Type>(array, Json::from),
        T::UInt16 => primitive::<UInt16Type>(array, Json::from),
        T::UInt32 => primitive::<UInt32Type>(array, Json::from),
        T::UInt64 => primitive::<UInt64Type>(array, Json::from),
        T::Float16 => primitive::<Float16Type>(array, |v| float(v.to_f64())),
        T::Float32 => primitive::<Float32Type>(array, |v| float(f64::from(v))),
        T::Float64 => primitive::<Float64Type>(array, float),
        &T::Decimal32(p, s) => decimal::<Decimal32Type>(array, p, s),
        &T::Decimal64(p, s) => decimal::<Decimal64Type>(array, p, s),
        &T::Decimal128(p, s) => decimal::<Decimal128Type>(array, p, s),
        &T::Decimal256(p, s) => decimal::<Decimal256Type>(array, p, s),
        T::Utf8 => texts(array.as_string_opt::<i32>().map(|a| a.iter()), array),
        T::LargeUtf8 => texts(array.as_string_opt::<i64>().map(|a| a.iter()), array),
        T::Utf8View => texts(array.as_string_view_opt().map(|a| a.iter()), array),
        T::Binary => bytes(array.as_binary_opt::<i32>().map(|a| a.iter()), array),
        T::LargeBinary => bytes(array.as_binary_opt::<i64>().map(|a| a.iter()), array),
        T::BinaryView => bytes(array.as_binary_view_opt().map(|a| a.iter()), array),
        T::FixedSizeBinary(_) => bytes(array.as_fixed_size_binary_opt().map(|a| a.iter()), array),
        T::Date32 => {
            primitive::<Date32Type>(array, |v| iso!(date32_to_datetime(v), "%Y-%m-%d", ""))
        }
        T::Date64 => {
            primitive::<Date64Type>(array, |v| iso!(date64_to_datetime(v), "%Y-%m-%d", ""))
        }
        T::Time32(TimeUnit::Second) => {
            primitive::<Time32SecondType>(array, |v| iso!(time32s_to_time(v), "%H:%M:%S", ""))
        }
        T::Time32(TimeUnit::Millisecond) => primitive::<Time32MillisecondType>(array, |v| {
            iso!(time32ms_to_time(v), "%H:%M:%S%.f", "")
        }),
        T::Time64(TimeUnit::Microsecond) => primitive::<Time64MicrosecondType>(array, |v| {
            iso!(time64us_to_time(v), "%H:%M:%S%.f", "")
        }),
        T::Time64(TimeUnit::Nanosecond) => primitive::<Time64NanosecondType>(array, |v| {
            iso!(time64ns_to_time(v), "%H:%M:%S%.f", "")
        }),
        T::Timestamp(unit, zone) => {
            // Stored values are instants in UTC when the column has a zone, else local.
            let z = if zone.is_some() { "Z" } else { "" };
            match unit {
                TimeUnit::Second => primitive::<TimestampSecondType>(array, |v| {
                    iso!(
                        as_datetime::<TimestampSecondType>(v),
                        "%Y-%m-%dT%H:%M:%S",
                        z
                    )
                }),
                TimeUnit::Millisecond => primitive::<TimestampMillisecondType>(array, |v| {
                    iso!(
                        as_datetime::<TimestampMillisecondType>(v),
                        "%Y-%m-%dT%H:%M:%S%.f",
                        z
                    )
                }),
                TimeUnit::Microsecond => primitive::<TimestampMicrosecondType>(array, |v| {
                    iso!(
                        as_datetime::<TimestampMicrosecondType>(v),
                        "%Y-%m-%dT%H:%M:%S%.f",
                        z
                    )
                }),
                TimeUnit::Nanosecond => primitive::<TimestampNanosecondType>(array, |v| {
                    iso!(
                        as_datetime::<TimestampNanosecondType>(v),
                        "%Y-%m-%dT%H:%M:%S%.f",
                        z
                    )
                }),
            }
        }
        T::List(_) => list::<i32>(array),
        T::LargeList(_) => list::<i64>(array),
        T::FixedSizeList(_, _) => fixed_list(array),
        T::Struct(_) => structs(array),
        T::Map(_, _) => maps(array),
        T::Dictionary(_, _) => dictionary(array),
        other => Err(format!("its type {other} has no JSON form dtac reads")),
    }
}

fn mismatch(array: &dyn Array) -> String {
    format!(
        "internal error: the array does not match its type {}",
        array.data_type()
    )
}

fn primitive<T: ArrowPrimitiveType>(
    array: &dyn Array,
    convert: impl Fn(T::Native) -> Json,
) -> Result<Vec<Json>, String> {
    let a = array
        .as_primitive_opt::<T>()
        .ok_or_else(|| mismatch(array))?;
    Ok(a.iter().map(|v| v.map_or(Json::Null, &convert)).collect())
}

fn float(v: f64) -> Json {
    serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number)
}

fn decimal<T: DecimalType>(
    array: &dyn Array,
    precision: u8,
    scale: i8,
) -> Result<Vec<Json>, String> {
    primitive::<T>(array, |v| {
        float(
            T::format_decimal(v, precision, scale)
                .parse()
                .unwrap_or(f64::NAN),
        )
    })
}

fn texts<'a>(
    values: Option<impl Iterator<Item = Option<&'a str>>>,
    array: &dyn Array,
) -> Result<Vec<Json>, String> {
    let values = values.ok_or_else(|| mismatch(array))?;
    Ok(values
        .map(|v| v.map_or(Json::Null, |s| Json::String(s.to_string())))
        .collect())
}

fn bytes<'a>(
    values: Option<impl Iterator<Item = Option<&'a [u8]>>>,
    array: &dyn Array,
) -> Result<Vec<Json>, String> {
    let values = values.ok_or_else(|| mismatch(array))?;
    let base64 = base64::engine::general_purpose::STANDARD;
    Ok(values
        .map(|v| v.map_or(Json::Null, |b| Json::String(base64.encode(b))))
        .collect())
}

/// Each row's slice `start..end` of `values`, moved out; null rows are null.
fn slices(
    array: &dyn Array,
    mut values: Vec<Json>,
    bounds: impl Iterator<Item = (usize, usize)>,
) -> Result<Vec<Json>, String> {
    let mut out = Vec::with_capacity(array.len());
    for (i, (start, end)) in bounds.enumerate() {
        if array.is_null(i) {
            out.push(Json::Null);
            continue;
        }
        let items = values
            .get_mut(start..end)
            .ok_or_else(|| format!("row {i} points outside its list values"))?;
        out.push(Json::Array(items.iter_mut().map(std::mem::take).collect()));
    }
    Ok(out)
}

fn list<O: OffsetSizeTrait>(array: &dyn Array) -> Result<Vec<Json>, String> {
    let a = array.as_list_opt::<O>().ok_or_else(|| mismatch(array))?;
    let values = column(a.values().as_ref())?;
    let offsets = a.value_offsets();
    let bounds = offsets
        .windows(2)
        .map(|w| (w[0].as_usize(), w[1].as_usize()));
    slices(array, values, bounds)
}

fn fixed_list(array: &dyn Array) -> Result<Vec<Json>, String> {
    let a = array
        .as_fixed_size_list_opt()
        .ok_or_else(|| mismatch(array))?;
    let values = column(a.values().as_ref())?;
    let size = a.value_length().max(0) as usize;
    slices(
        array,
        values,
        (0..a.len()).map(|i| (i * size, (i + 1) * size)),
    )
}

fn structs(array: &dyn Array) -> Result<Vec<Json>, String> {
    let a = array.as_struct_opt().ok_or_else(|| mismatch(array))?;
    let mut children = Vec::with_capacity(a.num_columns());
    for (field, child) in a.fields().iter().zip(a.columns()) {
        let values =
            column(child.as_ref()).map_err(|e| format!("field `{}`: {e}", field.name()))?;
        children.push((field.name(), values));
    }
    let mut out = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        if a.is_null(i) {
            out.push(Json::Null);
            continue;
        }
        let mut object = Map::new();
        for (name, values) in &mut children {
            let v = values.get_mut(i).map(std::mem::take).unwrap_or(Json::Null);
            object.insert(name.to_string(), v);
        }
        out.push(Json::Object(object));
    }
    Ok(out)
}

/// Maps as objects: text keys as they are, other keys as their JSON text.
fn maps(array: &dyn Array) -> Result<Vec<Json>, String> {
    let a = array.as_map_opt().ok_or_else(|| mismatch(array))?;
    let mut keys = column(a.keys().as_ref())?;
    let mut values = column(a.values().as_ref())?;
    let mut out = Vec::with_capacity(a.len());
    for (i, w) in a.value_offsets().windows(2).enumerate() {
        if a.is_null(i) {
            out.push(Json::Null);
            continue;
        }
        let (start, end) = (w[0].max(0) as usize, w[1].max(0) as usize);
        let (Some(ks), Some(vs)) = (keys.get_mut(start..end), values.get_mut(start..end)) else {
            return Err(format!("row {i} points outside its map entries"));
        };
        let mut object = Map::new();
        for (k, v) in ks.iter_mut().zip(vs.iter_mut()) {
            let key = match std::mem::take(k) {
                Json::String(s) => s,
                other => other.to_string(),
            };
            object.insert(key, std::mem::take(v));
        }
        out.push(Json::Object(object));
    }
    Ok(out)
}

fn dictionary(array: &dyn Array) -> Result<Vec<Json>, String> {
    let a = array
        .as_any_dictionary_opt()
        .ok_or_else(|| mismatch(array))?;
    let values = column(a.values().as_ref())?;
    Ok(a.normalized_keys()
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            if a.is_null(i) {
                Json::Null
            } else {
                values.get(k).cloned().unwrap_or(Json::Null)
            }
        })
        .collect())
}
