//! The trainer formats (`chat`, `alpaca`, `sharegpt`, `preference`): their JSON Lines
//! shapes, the same columns in Parquet for a `.parquet` path, and the errors that name
//! the record and the field.

use dtac_runtime::op::BuildError;
use serde_json::{json, Value as Json};

use crate::support::{export, export_recipe, exporter, lines, parquet_back, Dir};

fn solved() -> Vec<Json> {
    vec![
        json!({"id": "p1", "question": "1+1?", "solution": "2", "hint": "add"}),
        json!({"id": "p2", "question": "2+2?", "solution": "4", "hint": "add again"}),
    ]
}

#[test]
fn chat_writes_messages_in_jsonl_and_parquet() {
    let dir = Dir::new("tr-chat");
    let text = export_recipe(&dir, "\"out.jsonl\" as chat { system = \"Be brief.\" }");
    let (bytes, n) = export(exporter(&dir, &text).unwrap().as_ref(), &solved()).unwrap();
    assert_eq!(n, 2);
    let expected = json!({"id": "p1", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "1+1?"},
        {"role": "assistant", "content": "2"},
    ]});
    assert_eq!(lines(&bytes)[0], expected);

    let text = export_recipe(&dir, "\"out.parquet\" as chat { system = \"Be brief.\" }");
    let (bytes, n) = export(exporter(&dir, &text).unwrap().as_ref(), &solved()).unwrap();
    assert_eq!(n, 2);
    let (schema, _, back) = parquet_back(&dir, &bytes);
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "messages"]);
    assert_eq!(Json::Object(back[0].clone()), expected);
}

#[test]
fn a_missing_field_names_the_record_and_the_field() {
    let dir = Dir::new("tr-missing");
    let mut data = solved();
    data[1].as_object_mut().unwrap().remove("solution");
    for path in ["out.jsonl", "out.parquet"] {
        for format in ["chat", "sharegpt", "alpaca", "preference"] {
            let text = export_recipe(&dir, &format!("{path:?} as {format} {{}}"));
            let mut data = data.clone();
            data[1]["rejected"] = json!(["5"]);
            let err = export(exporter(&dir, &text).unwrap().as_ref(), &data).unwrap_err();
            let err = err.to_string();
            assert!(
                err.contains("(id `p2`) has no text field `solution`") && err.contains("s/"),
                "{format} {path}: {err}"
            );
        }
    }
}

#[test]
fn alpaca_writes_instruction_input_output() {
    let dir = Dir::new("tr-alpaca");
    let text = export_recipe(&dir, "\"out.jsonl\" as alpaca {}");
    let (bytes, _) = export(exporter(&dir, &text).unwrap().as_ref(), &solved()).unwrap();
    assert_eq!(
        lines(&bytes)[1],
        json!({"instruction": "2+2?", "input": "", "output": "4"})
    );

    let text = export_recipe(
        &dir,
        "\"out.parquet\" as alpaca { input_field = \"hint\", system = \"S\" }",
    );
    let (bytes, _) = export(exporter(&dir, &text).unwrap().as_ref(), &solved()).unwrap();
    let (schema, _, back) = parquet_back(&dir, &bytes);
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["instruction", "input", "output", "system"]);
    assert_eq!(back[1]["input"], "add again");
    assert_eq!(back[1]["system"], "S");
}

#[test]
fn sharegpt_writes_human_and_gpt_turns() {
    let dir = Dir::new("tr-sharegpt");
    let text = export_recipe(
        &dir,
        "\"out.jsonl\" as sharegpt { prompt_field = \"hint\", response_field = \"solution\" }",
    );
    let (bytes, _) = export(exporter(&dir, &text).unwrap().as_ref(), &solved()).unwrap();
    assert_eq!(
        lines(&bytes)[0],
        json!({"id": "p1", "conversations": [
            {"from": "human", "value": "add"},
            {"from": "gpt", "value": "2"},
        ]})
    );
    let text = export_recipe(&dir, "\"OUT.PARQUET\" as sharegpt { system = \"S\" }");
    let (bytes, _) = export(exporter(&dir, &text).unwrap().as_ref(), &solved()).unwrap();
    let (_, _, back) = parquet_back(&dir, &bytes);
    assert_eq!(
        back[1]["conversations"][0],
        json!({"from": "system", "value": "S"})
    );
    assert_eq!(
        back[1]["conversations"][2],
        json!({"from": "gpt", "value": "4"})
    );
}

fn voted() -> Vec<Json> {
    vec![
        // Three losers: `pairs` decides how many pairs.
        json!({"id": "p1", "question": "q1", "solution": "best", "chosen": true,
               "rejected": ["second", "  ", "third", "fourth"]}),
        // A single string, as a hand-written field may be.
        json!({"id": "p2", "question": "q2", "solution": "right", "rejected": "wrong"}),
        // Nothing to pair with: skipped.
        json!({"id": "p3", "question": "q3", "solution": "only", "rejected": []}),
        json!({"id": "p4", "question": "q4", "solution": "alone"}),
        // A loser of `vote { emit = "all" }`: skipped.
        json!({"id": "p1", "question": "q1", "solution": "second", "chosen": false,
               "rejected": ["second", "third"]}),
    ]
}

#[test]
fn preference_pairs_the_chosen_with_the_first_rejected() {
    let dir = Dir::new("tr-pref");
    let text = export_recipe(&dir, "\"out.jsonl\" as preference { pairs = 2 }");
    let (bytes, n) = export(exporter(&dir, &text).unwrap().as_ref(), &voted()).unwrap();
    let pairs = lines(&bytes);
    assert_eq!(n, 3, "two pairs for p1, one for p2, none for the rest");
    assert_eq!(pairs.len(), 3);
    assert_eq!(
        pairs[0],
        json!({"id": "p1",
               "prompt": [{"role": "user", "content": "q1"}],
               "chosen": [{"role": "assistant", "content": "best"}],
               "rejected": [{"role": "assistant", "content": "second"}]})
    );
    assert_eq!(
        pairs[1]["rejected"][0]["content"], "third",
        "blank losers are skipped"
    );
    assert_eq!(pairs[2]["rejected"][0]["content"], "wrong");

    let text = export_recipe(&dir, "\"out.jsonl\" as preference {}");
    let (_, n) = export(exporter(&dir, &text).unwrap().as_ref(), &voted()).unwrap();
    assert_eq!(n, 2, "one pair per record by default");
}

#[test]
fn preference_text_style_in_parquet() {
    let dir = Dir::new("tr-pref-text");
    let text = export_recipe(
        &dir,
        "\"out.parquet\" as preference { style = \"text\", system = \"S\", pairs = 3 }",
    );
    let (bytes, n) = export(exporter(&dir, &text).unwrap().as_ref(), &voted()).unwrap();
    assert_eq!(n, 4);
    let (schema, _, back) = parquet_back(&dir, &bytes);
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "system", "prompt", "chosen", "rejected"]);
    assert_eq!(
        Json::Object(back[2].clone()),
        json!({"id": "p1", "system": "S", "prompt": "q1", "chosen": "best", "rejected": "fourth"})
    );
}

#[test]
fn preference_rejects_bad_rejected_values_and_zero_pairs() {
    let dir = Dir::new("tr-pref-bad");
    let text = export_recipe(&dir, "\"out.jsonl\" as preference {}");
    let bad = [json!({"id": "p9", "question": "q", "solution": "s", "rejected": ["ok", 3]})];
    let err = export(exporter(&dir, &text).unwrap().as_ref(), &bad).unwrap_err();
    assert!(
        err.to_string()
            .contains("(id `p9`) has a non-text item at position 1 of `rejected`"),
        "{err}"
    );
    let bad = [json!({"id": "p9", "question": "q", "solution": "s", "rejected": {"a": 1}})];
    let err = export(exporter(&dir, &text).unwrap().as_ref(), &bad).unwrap_err();
    assert!(err.to_string().contains("neither text nor a list"), "{err}");

    let text = export_recipe(&dir, "\"out.jsonl\" as preference { pairs = 0 }");
    assert!(matches!(
        exporter(&dir, &text),
        Err(BuildError::Invalid { message, .. }) if message.contains("`pairs` is 0")
    ));
}
