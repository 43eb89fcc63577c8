//! The `csv` source: RFC 4180 quoting, typed columns, header-less files, and the errors
//! that name the file, the line and the column.

use dtac_runtime::op::BuildError;
use serde_json::json;

use crate::support::{read_all, read_ok, source, Dir};

#[test]
fn quoted_cells_keep_delimiters_quotes_and_newlines() {
    let dir = Dir::new("csv-quoting");
    dir.write(
        "data.csv",
        "id,question,answer\n\
         a,\"What is \"\"x\"\"?\",\"1, 2\"\n\
         b,\"two\nlines\",7\n\
         \n\
         c,plain,\n",
    );
    let src = source(&dir, "dataset d: csv(\"data.csv\") {}").unwrap();
    let rows = read_ok(src.as_ref());
    assert_eq!(rows.len(), 3, "the blank line is skipped");
    assert_eq!(rows[0]["question"], "What is \"x\"?");
    assert_eq!(rows[0]["answer"], "1, 2");
    assert_eq!(rows[1]["question"], "two\nlines");
    assert_eq!(rows[1]["answer"], "7", "undeclared columns stay text");
    assert_eq!(
        rows[2]["answer"], "",
        "an undeclared empty cell is empty text"
    );
    assert_eq!(rows[2]["id"], "c");
    assert_eq!(src.count(), Some(3));
}

#[test]
fn declared_types_are_parsed_and_empty_declared_cells_are_missing() {
    let dir = Dir::new("csv-types");
    dir.write(
        "data.csv",
        "num,x,ok,tags,note\n\
         1, 2.5 ,TRUE,\"[\"\"a\"\",\"\"b\"\"]\",hi\n\
         -7,3,no,[],\n",
    );
    let src = source(
        &dir,
        "dataset d: csv(\"data.csv\") {\n\
             fields = { n = \"num\" },\n\
             schema = { n: int, x: float, ok: bool, tags: list[str], note: str? },\n\
         }",
    )
    .unwrap();
    let rows = read_ok(src.as_ref());
    assert_eq!(rows[0]["n"], 1, "the schema names the renamed field");
    assert_eq!(rows[0]["x"], 2.5);
    assert_eq!(rows[0]["ok"], true);
    assert_eq!(rows[0]["tags"], json!(["a", "b"]));
    assert_eq!(rows[0]["note"], "hi");
    assert_eq!(rows[1]["n"], -7);
    assert_eq!(rows[1]["x"], 3.0);
    assert_eq!(rows[1]["ok"], false);
    assert!(!rows[1].contains_key("note"), "{:?}", rows[1]);
    assert_eq!(rows[1]["id"], "2", "no id column: the row number");
}

#[test]
fn a_bad_cell_is_an_error_naming_file_line_and_column() {
    let dir = Dir::new("csv-bad-int");
    dir.write(
        "data.csv",
        "id,n\n\
         a,\"multi\nline\"\n\
         b,12\n",
    );
    let src = source(
        &dir,
        "dataset d: csv(\"data.csv\") { schema = { id: str, n: int } }",
    )
    .unwrap();
    let rows = read_all(src.as_ref());
    let err = rows[0].as_ref().unwrap_err();
    assert!(err.contains("data.csv, line 2, column `n`"), "{err}");
    assert!(err.contains("`multi\nline` is not an integer"), "{err}");
    assert_eq!(
        rows[1].as_ref().unwrap()["n"],
        12,
        "the next row still reads"
    );

    dir.write("data.csv", "id,n\na,1\nb,\n");
    let src = source(
        &dir,
        "dataset d: csv(\"data.csv\") { schema = { id: str, n: int } }",
    )
    .unwrap();
    let err = read_all(src.as_ref()).remove(1).unwrap_err();
    assert!(
        err.contains("line 3") && err.contains("no field `n`"),
        "{err}"
    );
}

#[test]
fn tab_separated_files_read_with_a_tab_delimiter() {
    let dir = Dir::new("csv-tsv");
    dir.write("data.tsv", "id\tquestion\n1\ta, b; c\n2\t\"q\tuoted\"\n");
    let src = source(&dir, "dataset d: csv(\"data.tsv\") { delimiter = \"\\t\" }").unwrap();
    let rows = read_ok(src.as_ref());
    assert_eq!(rows[0]["question"], "a, b; c");
    assert_eq!(rows[1]["question"], "q\tuoted");
}

#[test]
fn a_file_without_header_takes_its_names_from_columns() {
    let dir = Dir::new("csv-columns");
    dir.write("data.csv", "\u{feff}p1,What?,4\np2,Why?,5\n");
    let src = source(
        &dir,
        "dataset d: csv(\"data.csv\") {\n\
             header = false,\n\
             columns = [\"id\", \"question\", \"answer\"],\n\
             schema = { id: str, question: str, answer: int },\n\
             limit = 1,\n\
         }",
    )
    .unwrap();
    let rows = read_ok(src.as_ref());
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["id"], "p1",
        "the byte-order mark is not part of the name"
    );
    assert_eq!(rows[0]["answer"], 4);
    assert_eq!(src.count(), Some(1));
}

#[test]
fn rows_of_the_wrong_width_are_errors_and_columns_must_match_the_header() {
    let dir = Dir::new("csv-width");
    dir.write("data.csv", "a,b\n1,2,3\n4\n5,6\n");
    let src = source(&dir, "dataset d: csv(\"data.csv\") {}").unwrap();
    let rows = read_all(src.as_ref());
    let err = rows[0].as_ref().unwrap_err();
    assert!(
        err.contains("line 2: 3 cells, but the file has 2 columns"),
        "{err}"
    );
    assert!(rows[1].as_ref().unwrap_err().contains("line 3"));
    assert_eq!(rows[2].as_ref().unwrap()["b"], "6");

    let src = source(&dir, "dataset d: csv(\"data.csv\") { columns = [\"x\"] }").unwrap();
    let err = src.read(&mut |_| true).unwrap_err().to_string();
    assert!(
        err.contains("has 2 columns, but `columns` names 1"),
        "{err}"
    );

    dir.write("dup.csv", "a,a\n1,2\n");
    let src = source(&dir, "dataset d: csv(\"dup.csv\") {}").unwrap();
    let err = src.read(&mut |_| true).unwrap_err().to_string();
    assert!(err.contains("the column `a` appears twice"), "{err}");
}

#[test]
fn a_long_delimiter_or_a_headerless_file_without_columns_does_not_build() {
    let dir = Dir::new("csv-build");
    dir.write("data.csv", "a\n1\n");
    let err = source(&dir, "dataset d: csv(\"data.csv\") { delimiter = \"::\" }").unwrap_err();
    let BuildError::Invalid { message, help } = err else {
        panic!("{err:?}")
    };
    assert!(message.contains("not one ASCII character"), "{message}");
    assert!(help.contains("\\t"), "{help}");
    let err = source(&dir, "dataset d: csv(\"data.csv\") { header = false }").unwrap_err();
    assert!(
        matches!(&err, BuildError::Invalid { help, .. } if help.contains("columns")),
        "{err:?}"
    );
}

#[test]
fn a_missing_file_is_fatal_and_counts_nothing() {
    let dir = Dir::new("csv-missing");
    dir.write("data.csv", "a\n1\n");
    let src = source(&dir, "dataset d: csv(\"data.csv\") {}").unwrap();
    std::fs::remove_file(dir.path("data.csv")).unwrap();
    let err = src.read(&mut |_| true).unwrap_err().to_string();
    assert!(
        err.contains("cannot open") && err.contains("data.csv"),
        "{err}"
    );
    assert_eq!(src.count(), None);
}
