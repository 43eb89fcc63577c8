//! The `parquet` and `csv` exports: records as they are, read back with the parquet and
//! csv crates and with dtac's own sources.

use arrow_schema::DataType;
use dtac_runtime::op::BuildError;
use serde_json::{json, Value as Json};

use crate::support::{export, export_recipe, exporter, parquet_back, read_ok, source, Dir};

fn rows() -> Vec<Json> {
    vec![
        json!({"id": "a", "n": 1, "x": 1, "s": "hi", "ok": true, "tags": ["t"],
               "meta": {"k": 1}, "mixed": "text", "obj": {}}),
        json!({"id": "b", "n": 2, "x": 2.5, "s": null, "tags": [],
               "meta": {"k": 2, "j": "z"}, "mixed": 3}),
        json!({"id": "c", "n": 3, "late": "new"}),
    ]
}

#[test]
fn parquet_infers_column_types_and_reads_back_unchanged() {
    let dir = Dir::new("ex-parquet");
    let text = export_recipe(&dir, "\"out.parquet\" as parquet { row_group_size = 2 }");
    let exporter = exporter(&dir, &text).unwrap();
    let (bytes, n) = export(exporter.as_ref(), &rows()).unwrap();
    assert_eq!(n, 3);
    let (schema, groups, back) = parquet_back(&dir, &bytes);
    assert_eq!(groups, 2, "row groups of 2 rows");
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        ["id", "meta", "mixed", "n", "obj", "ok", "s", "tags", "x", "late"],
        "first-seen order"
    );
    let ty = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
    assert_eq!(ty("n"), DataType::Int64);
    assert_eq!(
        ty("x"),
        DataType::Float64,
        "an int column meeting 2.5 widens"
    );
    assert_eq!(ty("ok"), DataType::Boolean);
    assert_eq!(ty("mixed"), DataType::Utf8);
    assert!(matches!(ty("tags"), DataType::List(f) if f.data_type() == &DataType::Utf8));
    let DataType::Struct(meta) = ty("meta") else {
        panic!("{:?}", ty("meta"))
    };
    assert_eq!(
        meta.iter().map(|f| f.name().as_str()).collect::<Vec<_>>(),
        ["k", "j"]
    );

    assert_eq!(back[0]["x"], 1.0);
    assert_eq!(back[1]["x"], 2.5);
    assert_eq!(back[0]["tags"], json!(["t"]));
    assert_eq!(back[1]["tags"], json!([]));
    assert_eq!(back[2]["tags"], json!(null));
    assert_eq!(back[1]["meta"], json!({"k": 2, "j": "z"}));
    assert_eq!(back[0]["meta"], json!({"k": 1, "j": null}));
    assert_eq!(back[0]["mixed"], "\"text\"", "mixed columns hold JSON text");
    assert_eq!(back[1]["mixed"], "3");
    assert_eq!(back[0]["obj"], "{}");
    assert_eq!(back[2]["late"], "new");
    assert_eq!(back[0]["late"], json!(null));
    for (i, row) in back.iter().enumerate() {
        assert_eq!(row["id"], rows()[i]["id"]);
        assert_eq!(row["n"], rows()[i]["n"]);
    }
}

#[test]
fn parquet_fields_choose_and_order_columns_and_compression_applies() {
    let dir = Dir::new("ex-parquet-fields");
    for (codec, expected) in [
        ("snappy", "SNAPPY"),
        ("none", "UNCOMPRESSED"),
        ("zstd", "ZSTD"),
    ] {
        let text = export_recipe(
            &dir,
            &format!(
                "\"out.parquet\" as parquet {{ fields = [\"x\", \"id\", \"absent\"], \
                 compression = \"{codec}\" }}"
            ),
        );
        let exporter = exporter(&dir, &text).unwrap();
        let (bytes, _) = export(exporter.as_ref(), &rows()).unwrap();
        let (schema, _, back) = parquet_back(&dir, &bytes);
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["x", "id", "absent"]);
        assert_eq!(back[2]["absent"], json!(null));
        assert!(!back[0].contains_key("n"));
        let file = std::fs::File::open(dir.path("back.parquet")).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
        let meta = parquet::file::reader::FileReader::metadata(&reader);
        let codec_used = format!("{:?}", meta.row_group(0).column(0).compression());
        assert!(codec_used.starts_with(expected), "{codec}: {codec_used}");
    }
}

#[test]
fn parquet_writes_a_valid_file_for_no_records() {
    let dir = Dir::new("ex-parquet-empty");
    let text = export_recipe(&dir, "\"out.parquet\" as parquet { fields = [\"id\"] }");
    let (bytes, n) = export(exporter(&dir, &text).unwrap().as_ref(), &[]).unwrap();
    assert_eq!(n, 0);
    let (schema, _, back) = parquet_back(&dir, &bytes);
    assert_eq!(schema.fields().len(), 1);
    assert!(back.is_empty());

    // No records and no `fields`: a file with no columns, still a valid one.
    let text = export_recipe(&dir, "\"out.parquet\" as parquet {}");
    let (bytes, n) = export(exporter(&dir, &text).unwrap().as_ref(), &[]).unwrap();
    assert_eq!(n, 0);
    let (schema, _, back) = parquet_back(&dir, &bytes);
    assert!(schema.fields().is_empty());
    assert!(back.is_empty());
}

#[test]
fn parquet_refuses_an_empty_row_group() {
    let dir = Dir::new("ex-parquet-rg");
    let text = export_recipe(&dir, "\"out.parquet\" as parquet { row_group_size = 0 }");
    let err = exporter(&dir, &text).unwrap_err();
    assert!(
        matches!(&err, BuildError::Invalid { message, .. } if message.contains("row_group_size")),
        "{err:?}"
    );
}

#[test]
fn csv_header_is_the_union_of_fields_and_values_read_back() {
    let dir = Dir::new("ex-csv");
    let text = export_recipe(&dir, "\"out.csv\" as csv {}");
    let mut data = rows();
    data[2]["s"] = json!("line one\nline \"two\", three");
    let (bytes, n) = export(exporter(&dir, &text).unwrap().as_ref(), &data).unwrap();
    assert_eq!(n, 3);
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        ["id", "meta", "mixed", "n", "obj", "ok", "s", "tags", "x", "late"]
    );
    let back: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(back.len(), 3);
    assert_eq!(&back[0][1], "{\"k\":1}", "records as JSON text");
    assert_eq!(&back[0][7], "[\"t\"]", "lists as JSON text");
    assert_eq!(&back[0][5], "true");
    assert_eq!(&back[1][6], "", "null is an empty cell");
    assert_eq!(&back[2][6], "line one\nline \"two\", three");
    assert_eq!(&back[2][9], "new");
    assert_eq!(&back[0][9], "", "a missing field is an empty cell");

    // And through dtac's own source, with the types declared.
    dir.write("out.csv", &bytes);
    let src = source(
        &dir,
        "dataset d: csv(\"out.csv\") { schema = { n: int, x: float?, ok: bool?, tags: list[str]? } }",
    )
    .unwrap();
    let again = read_ok(src.as_ref());
    assert_eq!(again[0]["tags"], json!(["t"]));
    assert_eq!(again[1]["x"], 2.5);
    assert_eq!(again[2]["n"], 3);
    assert!(!again[2].contains_key("ok"));
}

#[test]
fn csv_fields_delimiter_and_no_header() {
    let dir = Dir::new("ex-csv-fields");
    let text = export_recipe(
        &dir,
        "\"out.csv\" as csv { fields = [\"n\", \"id\"], delimiter = \";\", header = false }",
    );
    let (bytes, _) = export(exporter(&dir, &text).unwrap().as_ref(), &rows()).unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap(), "1;a\n2;b\n3;c\n");

    let text = export_recipe(&dir, "\"out.csv\" as csv { delimiter = \"ab\" }");
    assert!(matches!(
        exporter(&dir, &text),
        Err(BuildError::Invalid { .. })
    ));
}

#[test]
fn raw_writes_json_lines_or_parquet_by_the_path() {
    let dir = Dir::new("ex-raw");
    let text = export_recipe(&dir, "\"out.jsonl\" as raw { fields = [\"n\", \"id\"] }");
    let (bytes, n) = export(exporter(&dir, &text).unwrap().as_ref(), &rows()).unwrap();
    assert_eq!(n, 3);
    let first: Json = serde_json::from_slice(bytes.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!((&first["n"], &first["id"]), (&json!(1), &json!("a")));
    assert!(first.get("s").is_none(), "only the chosen fields");
    assert!(first.get("_provenance").is_some(), "as `jsonl` writes it");

    let text = export_recipe(&dir, "\"out.parquet\" as raw");
    let (bytes, n) = export(exporter(&dir, &text).unwrap().as_ref(), &rows()).unwrap();
    assert_eq!(n, 3);
    let (_, _, back) = parquet_back(&dir, &bytes);
    assert_eq!(back[2]["late"], "new");
}
