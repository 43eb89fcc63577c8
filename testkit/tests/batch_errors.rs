//! The Batch API's refusals over real sockets: malformed uploads, bad create requests,
//! unknown ids and input files that fail validation, all with OpenAI error bodies.

mod common;

use common::{
    batch_line, chat_body, get, multipart, post, request, start_batch, upload, wait_for_batch,
};
use dtac_testkit::{key_of, Script, TestServer};
use serde_json::{json, Value};

const CHAT: &str = "/v1/chat/completions";

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("no id").to_string()
}

#[tokio::test]
async fn unknown_ids_are_404_and_bad_references_400() {
    let s = TestServer::start(Script::new()).await;
    for (method, path) in [
        ("GET", "/v1/files/file-nope"),
        ("GET", "/v1/files/file-nope/content"),
        ("DELETE", "/v1/files/file-nope"),
        ("GET", "/v1/batches/batch_nope"),
        ("POST", "/v1/batches/batch_nope/cancel"),
    ] {
        let r = request(s.addr(), method, path, &[], b"").await.unwrap();
        assert_eq!(r.status, 404, "{method} {path}");
        let e = &r.json()["error"];
        assert_eq!(e["type"], "invalid_request_error");
        assert!(
            e["message"].as_str().unwrap().contains("_nope")
                || e["message"].as_str().unwrap().contains("-nope")
        );
    }
    // Paths beside the routes are unknown URLs, not unknown ids.
    for (method, path) in [
        ("GET", "/v1/files/a/b"),
        ("PUT", "/v1/files"),
        ("GET", "/v1/filesx"),
        ("DELETE", "/v1/batches/b"),
    ] {
        let r = request(s.addr(), method, path, &[], b"").await.unwrap();
        assert_eq!(r.status, 404, "{method} {path}");
        assert_eq!(r.json()["error"]["code"], "unknown_url");
    }
    let missing = post(
        s.addr(),
        "/v1/batches",
        &json!({"input_file_id": "file-nope", "endpoint": CHAT, "completion_window": "24h"}),
    )
    .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["error"]["param"], "input_file_id");
    let other = upload(s.addr(), "assistants", "notes.txt", b"hello").await;
    let wrong = post(
        s.addr(),
        "/v1/batches",
        &json!({"input_file_id": id_of(&other.json()), "endpoint": CHAT, "completion_window": "24h"}),
    )
    .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("purpose"));
    assert_eq!(s.stats().batches_created, 0);
}

#[tokio::test]
async fn malformed_uploads_are_400() {
    let s = TestServer::start(Script::new()).await;
    let form = |fields: &[(&str, Option<&str>, &[u8])]| multipart("bnd", fields);
    let good_type = "multipart/form-data; boundary=bnd";
    let cases: Vec<(Option<&str>, Vec<u8>)> = vec![
        (
            None,
            form(&[
                ("purpose", None, b"batch"),
                ("file", Some("a.jsonl"), b"{}"),
            ]),
        ),
        (Some("application/json"), b"{}".to_vec()),
        (
            Some("multipart/form-data"),
            form(&[("purpose", None, b"batch")]),
        ),
        (Some(good_type), b"no boundary at all".to_vec()),
        (
            Some(good_type),
            b"--bnd\r\nContent-Disposition: form-data; name=file; filename=a\r\n\r\ncut off"
                .to_vec(),
        ),
        (
            Some(good_type),
            b"--bnd\nContent-Disposition: form-data; name=x\n\nlf only\n--bnd--".to_vec(),
        ),
        (Some(good_type), form(&[("file", Some("a.jsonl"), b"{}")])),
        (Some(good_type), form(&[("purpose", None, b"batch")])),
        (
            Some(good_type),
            form(&[
                ("purpose", None, b"homework"),
                ("file", Some("a.jsonl"), b"{}"),
            ]),
        ),
        (
            Some(good_type),
            form(&[("purpose", None, b"batch"), ("file", None, b"{}")]),
        ),
        (
            Some(good_type),
            form(&[("purpose", None, b"batch"), ("file", Some(""), b"{}")]),
        ),
        (Some(good_type), b"\xff\xfe\xfd".to_vec()),
    ];
    let n = cases.len() as u64;
    for (i, (content_type, body)) in cases.into_iter().enumerate() {
        let headers: Vec<(&str, &str)> = content_type
            .map(|t| ("Content-Type", t))
            .into_iter()
            .collect();
        let r = request(s.addr(), "POST", "/v1/files", &headers, &body)
            .await
            .unwrap();
        assert_eq!(r.status, 400, "case {i}");
        let e = &r.json()["error"];
        assert_eq!(e["type"], "invalid_request_error", "case {i}");
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    let stats = s.stats();
    assert_eq!((stats.files_uploaded, stats.rejected), (0, n));
    assert_eq!(get(s.addr(), "/v1/files").await.json()["data"], json!([]));
}

#[tokio::test]
async fn bad_batch_requests_are_400() {
    let s = TestServer::start(Script::new()).await;
    let file = upload(
        s.addr(),
        "batch",
        "in.jsonl",
        batch_line("a", &chat_body("m", "x")).as_bytes(),
    )
    .await;
    let id = id_of(&file.json());
    let cases = [
        (json!([1]), None),
        (
            json!({"endpoint": CHAT, "completion_window": "24h"}),
            Some("input_file_id"),
        ),
        (
            json!({"input_file_id": id, "completion_window": "24h"}),
            Some("endpoint"),
        ),
        (
            json!({"input_file_id": id, "endpoint": "/v1/embeddings", "completion_window": "24h"}),
            Some("endpoint"),
        ),
        (
            json!({"input_file_id": id, "endpoint": CHAT}),
            Some("completion_window"),
        ),
        (
            json!({"input_file_id": id, "endpoint": CHAT, "completion_window": "1h"}),
            Some("completion_window"),
        ),
        (
            json!({"input_file_id": 7, "endpoint": CHAT, "completion_window": "24h"}),
            Some("input_file_id"),
        ),
        (
            json!({"input_file_id": id, "endpoint": CHAT, "completion_window": "24h", "metadata": {"n": 1}}),
            Some("metadata"),
        ),
        (
            json!({"input_file_id": id, "endpoint": CHAT, "completion_window": "24h", "metadata": "x"}),
            Some("metadata"),
        ),
    ];
    for (body, param) in cases {
        let r = post(s.addr(), "/v1/batches", &body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json()["error"]["param"], json!(param), "{body}");
    }
    let r = request(s.addr(), "POST", "/v1/batches", &[], b"{oops")
        .await
        .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(s.stats().batches_created, 0);
}

#[tokio::test]
async fn invalid_input_file_fails_the_batch() {
    let s = TestServer::start(Script::new()).await;
    let lines = [
        batch_line("same", &chat_body("m", "a")),
        "{not json".to_string(),
        batch_line("same", &chat_body("m", "b")),
    ];
    let b = start_batch(s.addr(), CHAT, &lines).await.json();
    assert_eq!(b["status"], "validating");
    let done = wait_for_batch(s.addr(), &id_of(&b)).await;
    assert_eq!(done["status"], "failed");
    assert!(done["failed_at"].is_u64());
    assert_eq!(done["in_progress_at"], Value::Null);
    assert_eq!(done["errors"]["object"], "list");
    let data = done["errors"]["data"].as_array().unwrap();
    let found: Vec<(String, u64)> = data
        .iter()
        .map(|e| {
            assert!(e["message"].is_string());
            (
                e["code"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("invalid_json_line".to_string(), 2),
            ("duplicate_custom_id".to_string(), 3)
        ]
    );
    assert_eq!(
        done["request_counts"],
        json!({"total": 0, "completed": 0, "failed": 0})
    );
    assert_eq!(done["output_file_id"], Value::Null);
    assert_eq!(done["error_file_id"], Value::Null);
    assert_eq!(
        s.batch(&id_of(&b)).unwrap().error_codes,
        ["invalid_json_line", "duplicate_custom_id"]
    );
    // Nothing ran.
    assert_eq!(s.count_for(&key_of("m", [("user", "a")])), 0);
}
