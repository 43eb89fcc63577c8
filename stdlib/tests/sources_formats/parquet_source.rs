//! The `parquet` source over files the tests write with the parquet crate's own writer:
//! every common column type, several row groups, projections, codecs, and damaged files.

use std::sync::Arc;

use arrow_array::builder::{Int32Builder, ListBuilder, StringBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, DurationSecondArray, Float64Array,
    Int64Array, RecordBatch, StringArray, StructArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde_json::json;

use crate::support::{read_all, read_ok, source, Dir};

/// Five rows of every common type, two rows per row group.
fn mixed() -> RecordBatch {
    let mut tags = ListBuilder::new(StringBuilder::new());
    for row in [
        Some(vec![Some("a"), Some("b")]),
        None,
        Some(vec![]),
        Some(vec![Some("c"), None]),
        Some(vec![Some("d")]),
    ] {
        match row {
            Some(items) => {
                for item in items {
                    tags.values().append_option(item);
                }
                tags.append(true);
            }
            None => tags.append(false),
        }
    }
    let mut counts = Int32Builder::new();
    for v in [Some(1), None, Some(3), Some(-4), Some(5)] {
        counts.append_option(v);
    }
    let mut category = StringDictionaryBuilder::<Int32Type>::new();
    for v in ["x", "y", "x", "x", "y"] {
        category.append_value(v);
    }
    let meta = StructArray::from(vec![
        (
            Arc::new(Field::new("k", DataType::Int64, true)),
            Arc::new(Int64Array::from(vec![
                Some(10),
                Some(20),
                None,
                Some(40),
                Some(50),
            ])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("v", DataType::Utf8, true)),
            Arc::new(StringArray::from(vec!["p", "q", "r", "s", "t"])) as ArrayRef,
        ),
    ]);
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "id",
            Arc::new(StringArray::from(vec!["r1", "r2", "r3", "r4", "r5"])),
        ),
        ("n", Arc::new(counts.finish())),
        (
            "x",
            Arc::new(Float64Array::from(vec![
                0.5,
                f64::NAN,
                2.0,
                f64::INFINITY,
                -1.25,
            ])),
        ),
        (
            "ok",
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
                Some(false),
            ])),
        ),
        ("tags", Arc::new(tags.finish())),
        ("meta", Arc::new(meta)),
        ("day", Arc::new(Date32Array::from(vec![0, 19_844, 1, 2, 3]))),
        (
            "at",
            Arc::new(
                TimestampMillisecondArray::from(vec![0, 1_714_566_600_123, 0, 0, 0])
                    .with_timezone("+02:00"),
            ),
        ),
        (
            "blob",
            Arc::new(BinaryArray::from_vec(vec![
                b"hi",
                b"",
                b"\x00\xff",
                b"a",
                b"b",
            ])),
        ),
        ("category", Arc::new(category.finish())),
    ];
    RecordBatch::try_from_iter(columns).unwrap()
}

fn write(path: &std::path::Path, batch: &RecordBatch, compression: Compression, group: usize) {
    let file = std::fs::File::create(path).unwrap();
    let props = WriterProperties::builder()
        .set_compression(compression)
        .set_max_row_group_row_count(Some(group))
        .build();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn every_common_type_reads_as_json_across_row_groups() {
    let dir = Dir::new("pq-types");
    write(&dir.path("data.parquet"), &mixed(), Compression::SNAPPY, 2);
    let src = source(&dir, "dataset d: parquet(\"data.parquet\") {}").unwrap();
    assert_eq!(src.count(), Some(5));
    let rows = read_ok(src.as_ref());
    assert_eq!(rows.len(), 5);
    let ids: Vec<_> = rows.iter().map(|r| r["id"].clone()).collect();
    assert_eq!(
        ids,
        ["r1", "r2", "r3", "r4", "r5"],
        "file order across row groups"
    );
    assert_eq!(rows[0]["n"], 1);
    assert_eq!(rows[1]["n"], json!(null));
    assert_eq!(rows[0]["x"], 0.5);
    assert_eq!(rows[1]["x"], json!(null), "NaN is null");
    assert_eq!(rows[3]["x"], json!(null), "infinity is null");
    assert_eq!(rows[2]["ok"], json!(null));
    assert_eq!(rows[0]["tags"], json!(["a", "b"]));
    assert_eq!(rows[1]["tags"], json!(null));
    assert_eq!(rows[2]["tags"], json!([]));
    assert_eq!(rows[3]["tags"], json!(["c", null]));
    assert_eq!(rows[0]["meta"], json!({"k": 10, "v": "p"}));
    assert_eq!(rows[2]["meta"], json!({"k": null, "v": "r"}));
    assert_eq!(rows[0]["day"], "1970-01-01");
    assert_eq!(rows[1]["day"], "2024-05-01");
    assert_eq!(rows[0]["at"], "1970-01-01T00:00:00Z");
    assert_eq!(
        rows[1]["at"], "2024-05-01T12:30:00.123Z",
        "UTC, not the zone's clock"
    );
    assert_eq!(rows[0]["blob"], "aGk=");
    assert_eq!(rows[2]["blob"], "AP8=");
    assert_eq!(rows[4]["category"], "y", "dictionary values, not keys");
}

#[test]
fn columns_project_before_renaming_and_an_unknown_column_is_named() {
    let dir = Dir::new("pq-columns");
    write(
        &dir.path("data.parquet"),
        &mixed(),
        Compression::UNCOMPRESSED,
        100,
    );
    let src = source(
        &dir,
        "dataset d: parquet(\"data.parquet\") {\n\
             columns = [\"n\", \"id\"],\n\
             fields = { count = \"n\" },\n\
             schema = { count: int? },\n\
         }",
    )
    .unwrap();
    let rows = read_ok(src.as_ref());
    let keys: Vec<_> = rows[0].keys().cloned().collect();
    assert_eq!(keys, ["count", "id"]);
    assert_eq!(rows[4]["count"], 5);

    let src = source(
        &dir,
        "dataset d: parquet(\"data.parquet\") { columns = [\"nope\"] }",
    )
    .unwrap();
    let err = src.read(&mut |_| true).unwrap_err();
    let dtac_runtime::op::OpError::Fatal { message, help } = err else {
        panic!("{err:?}")
    };
    assert!(message.contains("has no column `nope`"), "{message}");
    assert!(
        help.contains("`category`") && help.contains("`id`"),
        "{help}"
    );
}

#[test]
fn schema_problems_name_the_row() {
    let dir = Dir::new("pq-schema");
    write(
        &dir.path("data.parquet"),
        &mixed(),
        Compression::UNCOMPRESSED,
        100,
    );
    let src = source(
        &dir,
        "dataset d: parquet(\"data.parquet\") { schema = { n: int } }",
    )
    .unwrap();
    let rows = read_all(src.as_ref());
    assert!(rows[0].is_ok());
    let err = rows[1].as_ref().unwrap_err();
    assert!(
        err.contains("data.parquet, row 2: field `n` should be int but is null"),
        "{err}"
    );
}

#[test]
fn gzip_lz4_and_zstd_files_read_and_reading_stops_at_the_limit() {
    let dir = Dir::new("pq-codecs");
    let ids: Vec<String> = (0..3000).map(|i| format!("p{i}")).collect();
    let batch =
        RecordBatch::try_from_iter([("id", Arc::new(StringArray::from(ids)) as ArrayRef)]).unwrap();
    let codecs = [
        Compression::GZIP(GzipLevel::default()),
        Compression::LZ4_RAW,
        Compression::ZSTD(ZstdLevel::default()),
    ];
    for codec in codecs {
        write(&dir.path("data.parquet"), &batch, codec, 1000);
        let src = source(
            &dir,
            "dataset d: parquet(\"data.parquet\") { limit = 2500 }",
        )
        .unwrap();
        let rows = read_ok(src.as_ref());
        assert_eq!(rows.len(), 2500, "{codec:?}");
        assert_eq!(rows[2499]["id"], "p2499", "{codec:?}");
        assert_eq!(src.count(), Some(2500));
    }
}

#[test]
fn an_unreadable_column_type_is_fatal_and_names_the_column() {
    let dir = Dir::new("pq-duration");
    let batch = RecordBatch::try_from_iter([(
        "wait",
        Arc::new(DurationSecondArray::from(vec![1, 2])) as ArrayRef,
    )])
    .unwrap();
    write(
        &dir.path("data.parquet"),
        &batch,
        Compression::UNCOMPRESSED,
        10,
    );
    let src = source(&dir, "dataset d: parquet(\"data.parquet\") {}").unwrap();
    let err = src.read(&mut |_| true).unwrap_err().to_string();
    assert!(
        err.contains("column `wait`") && err.contains("Duration"),
        "{err}"
    );
}

#[test]
fn damaged_or_foreign_files_are_fatal_errors_naming_the_file() {
    let dir = Dir::new("pq-damaged");
    write(&dir.path("good.parquet"), &mixed(), Compression::SNAPPY, 2);
    let good = std::fs::read(dir.path("good.parquet")).unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("text", b"id,question\n1,what\n".to_vec()),
        ("empty", Vec::new()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("no-footer", good[..good.len() - 8].to_vec()),
    ];
    // Garbage over the data pages, the footer intact: decoding fails partway, or
    // survives with other values; it must never panic.
    let mut scrambled = good.clone();
    for b in &mut scrambled[8..good.len() / 2] {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    cases.push(("scrambled", scrambled));
    for (name, bytes) in cases {
        let file = format!("{name}.parquet");
        dir.write(&file, bytes);
        let src = source(&dir, &format!("dataset d: parquet(\"{file}\") {{}}")).unwrap();
        let result = src.read(&mut |_| true);
        if name == "scrambled" {
            if let Err(e) = result {
                assert!(e.to_string().contains(&file), "{e}");
            }
            continue;
        }
        let err = result.unwrap_err().to_string();
        assert!(
            err.contains(&file) && err.contains("not a readable Parquet file"),
            "{name}: {err}"
        );
        assert_eq!(src.count(), None, "{name}");
    }
}
