//! The Batch API over real sockets: files, batches, result lines, faults per line,
//! expiry and cancellation (refusals are in batch_errors.rs).

mod common;

use std::time::Duration;

use common::{
    batch_line, chat_body, get, jsonl, post, request, start_batch, upload, wait_for_batch,
};
use dtac_testkit::{
    key_of, BatchStatus, ErrorBody, Fault, RequestCounts, Rule, Script, TestServer, Trigger,
};
use serde_json::{json, Value};

const CHAT: &str = "/v1/chat/completions";

/// Every field of OpenAI's batch object, in its order.
const BATCH_FIELDS: &[&str] = &[
    "id",
    "object",
    "endpoint",
    "errors",
    "input_file_id",
    "completion_window",
    "status",
    "output_file_id",
    "error_file_id",
    "created_at",
    "in_progress_at",
    "expires_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
    "request_counts",
    "metadata",
];

fn counts(batch: &Value) -> (u64, u64, u64) {
    let c = &batch["request_counts"];
    (
        c["total"].as_u64().unwrap(),
        c["completed"].as_u64().unwrap(),
        c["failed"].as_u64().unwrap(),
    )
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("no id").to_string()
}

#[tokio::test]
async fn round_trip_answers_lines_like_online_requests() {
    let s = TestServer::start(Script::new().rule(Rule::contains("review").reply("LGTM"))).await;
    let bodies = [
        chat_body("m", "What is 2+2?"),
        chat_body("m", "please review this"),
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 2}),
    ];
    let lines: Vec<String> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| batch_line(&format!("req-{i}"), b))
        .collect();
    let input = lines.join("\n");

    // Upload: the file object, and the bytes back as sent.
    let file = upload(s.addr(), "batch", "in.jsonl", input.as_bytes()).await;
    assert_eq!(file.status, 200);
    let f = file.json();
    assert!(id_of(&f).starts_with("file-"));
    assert_eq!(f["object"], "file");
    assert_eq!(f["bytes"], input.len());
    assert_eq!(f["filename"], "in.jsonl");
    assert_eq!(f["purpose"], "batch");
    assert_eq!(f["status"], "processed");
    assert!(f["created_at"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(
        get(s.addr(), &format!("/v1/files/{}", id_of(&f)))
            .await
            .json(),
        f
    );
    let content = get(s.addr(), &format!("/v1/files/{}/content", id_of(&f))).await;
    assert_eq!(content.body, input.as_bytes());
    assert_eq!(
        content.header("content-type"),
        Some("application/octet-stream")
    );

    // Create: the full object, still validating.
    let created = post(
        s.addr(),
        "/v1/batches",
        &json!({"input_file_id": id_of(&f), "endpoint": CHAT, "completion_window": "24h",
                "metadata": {"run": "r1"}}),
    )
    .await;
    assert_eq!(created.status, 200);
    let b = created.json();
    let keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = BATCH_FIELDS.to_vec();
    expected.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, expected);
    assert!(id_of(&b).starts_with("batch_"));
    assert_eq!(b["object"], "batch");
    assert_eq!(b["endpoint"], CHAT);
    assert_eq!(b["status"], "validating");
    assert_eq!(b["errors"], Value::Null);
    assert_eq!(b["input_file_id"], f["id"]);
    assert_eq!(b["completion_window"], "24h");
    assert_eq!(b["metadata"], json!({"run": "r1"}));
    assert_eq!(b["output_file_id"], Value::Null);
    assert_eq!(b["completed_at"], Value::Null);

    let done = wait_for_batch(s.addr(), &id_of(&b)).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(counts(&done), (3, 3, 0));
    for stamp in [
        "in_progress_at",
        "finalizing_at",
        "completed_at",
        "expires_at",
    ] {
        assert!(done[stamp].is_u64(), "{stamp}");
    }
    for stamp in ["failed_at", "expired_at", "cancelling_at", "cancelled_at"] {
        assert_eq!(done[stamp], Value::Null, "{stamp}");
    }
    assert_eq!(done["error_file_id"], Value::Null);

    // Output lines: in input order, OpenAI's shape, bodies as online answers give them.
    let out = jsonl(s.addr(), done["output_file_id"].as_str().unwrap()).await;
    assert_eq!(out.len(), 3);
    for (i, (line, body)) in out.iter().zip(&bodies).enumerate() {
        assert!(id_of(line).starts_with("batch_req_"));
        assert_eq!(line["custom_id"], format!("req-{i}"));
        assert_eq!(line["error"], Value::Null);
        let r = &line["response"];
        assert_eq!(r["status_code"], 200);
        assert!(r["request_id"].as_str().unwrap().starts_with("req_"));
        let online = post(s.addr(), CHAT, body).await.json();
        assert_eq!(r["body"]["object"], "chat.completion");
        assert_eq!(r["body"]["choices"], online["choices"]);
        assert_eq!(r["body"]["usage"], online["usage"]);
        assert_ne!(r["body"]["id"], online["id"]);
    }
    assert_eq!(
        out[1]["response"]["body"]["choices"][0]["message"]["content"],
        "LGTM"
    );

    // Each line counted once per key before the online repeats above.
    let key = key_of("m", [("user", "What is 2+2?")]);
    assert_eq!(s.count_for(&key), 2);
    let stats = s.stats();
    assert_eq!((stats.files_uploaded, stats.batches_created), (1, 1));
    assert_eq!(
        (stats.batch_lines_succeeded, stats.batch_lines_failed),
        (3, 0)
    );
    // Online counters see only the online requests.
    assert_eq!(stats.answered, 3);
    let summary = s.batch(&id_of(&b)).unwrap();
    assert_eq!(summary.status, BatchStatus::Completed);
    assert_eq!(
        summary.request_counts,
        RequestCounts {
            total: 3,
            completed: 3,
            failed: 0
        }
    );
    assert_eq!(s.batches(), std::slice::from_ref(&summary));
    let output_id = summary.output_file_id.unwrap();
    assert!(s.file_content(&output_id).unwrap().ends_with(b"\n"));

    // Listings, then deletion.
    let files = get(s.addr(), "/v1/files").await.json();
    assert_eq!(files["data"].as_array().unwrap().len(), 2);
    assert_eq!(files["data"][1]["purpose"], "batch_output");
    let batches = get(s.addr(), "/v1/batches").await.json();
    assert_eq!(batches["data"][0]["id"], b["id"]);
    assert_eq!(batches["has_more"], false);
    let del = request(
        s.addr(),
        "DELETE",
        &format!("/v1/files/{output_id}"),
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(
        del.json(),
        json!({"id": output_id, "object": "file", "deleted": true})
    );
    assert_eq!(
        get(s.addr(), &format!("/v1/files/{output_id}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn legacy_completions_batch() {
    let s = TestServer::start(Script::new()).await;
    let line = json!({"custom_id": "score", "method": "POST", "url": "/v1/completions",
        "body": {"model": "m", "prompt": "the cat sat", "echo": true, "max_tokens": 0, "logprobs": 0}})
    .to_string();
    let b = start_batch(s.addr(), "/v1/completions", &[line])
        .await
        .json();
    assert_eq!(b["endpoint"], "/v1/completions");
    let done = wait_for_batch(s.addr(), &id_of(&b)).await;
    let out = jsonl(s.addr(), done["output_file_id"].as_str().unwrap()).await;
    let body = &out[0]["response"]["body"];
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["choices"][0]["text"], "the cat sat");
    assert_eq!(
        body["choices"][0]["logprobs"]["tokens"],
        json!(["the", " cat", " sat"])
    );
}

#[tokio::test]
async fn polling_sees_progress_before_completion() {
    let delay = Duration::from_millis(1200);
    let s = TestServer::start(Script::new().batch_delay(delay)).await;
    let lines: Vec<String> = (0..5)
        .map(|i| batch_line(&format!("p{i}"), &chat_body("m", &format!("q{i}"))))
        .collect();
    let b = start_batch(s.addr(), CHAT, &lines).await.json();
    // Lines run at 200 ms intervals; halfway through, some but not all are done.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mid = get(s.addr(), &format!("/v1/batches/{}", id_of(&b)))
        .await
        .json();
    assert_eq!(mid["status"], "in_progress");
    assert!(mid["in_progress_at"].is_u64());
    let (total, completed, failed) = counts(&mid);
    assert_eq!((total, failed), (5, 0));
    assert!((1..5).contains(&completed), "{completed}");
    let done = wait_for_batch(s.addr(), &id_of(&b)).await;
    assert_eq!(counts(&done), (5, 5, 0));
}

#[tokio::test]
async fn faulted_lines_go_to_the_error_file_and_a_resubmit_succeeds() {
    let script = Script::new()
        .rule(Rule::contains("flaky").fault(Trigger::FirstAttempts(1), Fault::status(503)))
        .rule(Rule::contains("limited").fault(
            Trigger::Always,
            Fault::rate_limit_after(Duration::from_secs(1)).body(ErrorBody::Vllm),
        ))
        .rule(Rule::contains("quota").fault(Trigger::Always, Fault::InsufficientQuota))
        .rule(Rule::contains("drop").fault(Trigger::Always, Fault::Drop))
        .rule(Rule::contains("broken").fault(Trigger::Always, Fault::MalformedJson))
        .rule(
            Rule::contains("slow").fault(Trigger::Always, Fault::SlowBody(Duration::from_secs(5))),
        );
    let s = TestServer::start(script).await;
    let users = [
        "fine", "flaky", "limited", "quota", "drop", "broken", "slow",
    ];
    let mut lines: Vec<String> = users
        .iter()
        .map(|u| batch_line(u, &chat_body("m", u)))
        .collect();
    lines.push(batch_line("no-messages", &json!({"model": "m"})));
    let b = start_batch(s.addr(), CHAT, &lines).await.json();
    let done = wait_for_batch(s.addr(), &id_of(&b)).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(counts(&done), (8, 2, 6));

    let out = jsonl(s.addr(), done["output_file_id"].as_str().unwrap()).await;
    let ok: Vec<&str> = out
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ok, ["fine", "slow"]);
    let errors = jsonl(s.addr(), done["error_file_id"].as_str().unwrap()).await;
    let by_id = |id: &str| -> Value {
        errors
            .iter()
            .find(|l| l["custom_id"] == id)
            .unwrap_or_else(|| panic!("no error line for {id}"))["response"]
            .clone()
    };
    for line in &errors {
        assert_eq!(line["error"], Value::Null);
        assert!(id_of(line).starts_with("batch_req_"));
    }
    let flaky = by_id("flaky");
    assert_eq!(flaky["status_code"], 503);
    assert_eq!(flaky["body"]["error"]["type"], "server_error");
    let limited = by_id("limited");
    assert_eq!(limited["status_code"], 429);
    assert_eq!(limited["body"]["object"], "error");
    assert_eq!(limited["body"]["code"], 429);
    assert_eq!(limited["body"]["type"], "RateLimitError");
    let quota = by_id("quota");
    assert_eq!(
        (
            quota["status_code"].clone(),
            quota["body"]["error"]["code"].clone()
        ),
        (json!(429), json!("insufficient_quota"))
    );
    for transport in ["drop", "broken"] {
        let r = by_id(transport);
        assert_eq!(r["status_code"], 500, "{transport}");
        assert_eq!(r["body"]["error"]["type"], "server_error");
    }
    let refused = by_id("no-messages");
    assert_eq!(refused["status_code"], 400);
    assert!(refused["body"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("'messages'"));

    // The client resubmits the flaky line alone: attempt 2 of its key gets through.
    let again = start_batch(s.addr(), CHAT, &[lines[1].clone()])
        .await
        .json();
    let retried = wait_for_batch(s.addr(), &id_of(&again)).await;
    assert_eq!(counts(&retried), (1, 1, 0));
    assert_eq!(retried["error_file_id"], Value::Null);
    assert_eq!(s.count_for(&key_of("m", [("user", "flaky")])), 2);

    let stats = s.stats();
    assert_eq!(
        (stats.batch_lines_succeeded, stats.batch_lines_failed),
        (3, 6)
    );
    // Batch lines are not HTTP requests: online fault and in-flight counters stay clear.
    assert_eq!((stats.answered, stats.faults), (0, 0));
    assert_eq!(stats.path_count(CHAT), 0);
    assert_eq!(stats.max_in_flight, 1);
}

#[tokio::test]
async fn expiry_writes_unrun_lines_as_batch_expired() {
    let s = TestServer::start(Script::new().batch_expire_after(2)).await;
    let lines: Vec<String> = (0..4)
        .map(|i| batch_line(&format!("e{i}"), &chat_body("m", &format!("q{i}"))))
        .collect();
    let b = start_batch(s.addr(), CHAT, &lines).await.json();
    let done = wait_for_batch(s.addr(), &id_of(&b)).await;
    assert_eq!(done["status"], "expired");
    assert!(done["expired_at"].is_u64());
    assert_eq!(done["completed_at"], Value::Null);
    assert_eq!(counts(&done), (4, 2, 2));
    let out = jsonl(s.addr(), done["output_file_id"].as_str().unwrap()).await;
    assert_eq!(out.len(), 2);
    let errors = jsonl(s.addr(), done["error_file_id"].as_str().unwrap()).await;
    let ids: Vec<&str> = errors
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["e2", "e3"]);
    for line in &errors {
        assert_eq!(line["response"], Value::Null);
        assert_eq!(line["error"]["code"], "batch_expired");
        assert!(line["error"]["message"].is_string());
    }
    // Lines that never ran were never attempts.
    assert_eq!(s.count_for(&key_of("m", [("user", "q3")])), 0);
    assert_eq!(s.count_for(&key_of("m", [("user", "q1")])), 1);
    assert_eq!(s.stats().batch_lines_expired, 2);
}

#[tokio::test]
async fn cancel_stops_a_batch_and_keeps_results_so_far() {
    let s = TestServer::start(Script::new().batch_delay(Duration::from_secs(30))).await;
    let lines: Vec<String> = (0..3)
        .map(|i| batch_line(&format!("c{i}"), &chat_body("m", &format!("q{i}"))))
        .collect();
    let b = start_batch(s.addr(), CHAT, &lines).await.json();
    let path = format!("/v1/batches/{}/cancel", id_of(&b));
    let cancelling = post(s.addr(), &path, &json!({})).await;
    assert_eq!(cancelling.status, 200);
    let c = cancelling.json();
    assert_eq!(c["status"], "cancelling");
    assert!(c["cancelling_at"].is_u64());
    let done = wait_for_batch(s.addr(), &id_of(&b)).await;
    assert_eq!(done["status"], "cancelled");
    assert!(done["cancelled_at"].is_u64());
    assert_eq!(counts(&done).1, 0);
    assert_eq!(done["output_file_id"], Value::Null);
    // Cancelling again is harmless.
    assert_eq!(
        post(s.addr(), &path, &json!({})).await.json()["status"],
        "cancelled"
    );

    // Cancelled midway: what ran is in the files, and only that.
    let s = TestServer::start(Script::new().batch_delay(Duration::from_millis(800))).await;
    let lines: Vec<String> = (0..4)
        .map(|i| batch_line(&format!("m{i}"), &chat_body("m", &format!("q{i}"))))
        .collect();
    let b = start_batch(s.addr(), CHAT, &lines).await.json();
    tokio::time::sleep(Duration::from_millis(400)).await;
    post(
        s.addr(),
        &format!("/v1/batches/{}/cancel", id_of(&b)),
        &json!({}),
    )
    .await;
    let done = wait_for_batch(s.addr(), &id_of(&b)).await;
    assert_eq!(done["status"], "cancelled");
    let (_, completed, _) = counts(&done);
    assert!(completed < 4, "{completed}");
    let written = match done["output_file_id"].as_str() {
        Some(id) => jsonl(s.addr(), id).await.len() as u64,
        None => 0,
    };
    assert_eq!(written, completed);

    // A finished batch cannot be cancelled.
    let s = TestServer::start(Script::new()).await;
    let b = start_batch(s.addr(), CHAT, &lines).await.json();
    wait_for_batch(s.addr(), &id_of(&b)).await;
    let late = post(
        s.addr(),
        &format!("/v1/batches/{}/cancel", id_of(&b)),
        &json!({}),
    )
    .await;
    assert_eq!(late.status, 409);
    assert!(late.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("completed"));
}

#[test]
fn spawned_server_runs_batches_for_blocking_clients() {
    let s = TestServer::spawn(Script::new());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let b = runtime.block_on(start_batch(
        s.addr(),
        CHAT,
        &[batch_line("a", &chat_body("m", "x"))],
    ));
    let id = id_of(&b.json());
    // The batch runs on the server's own runtime, with nobody awaiting here.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(s.batch(&id).unwrap().status, BatchStatus::Completed);
}

#[tokio::test]
async fn large_batches_are_not_stretched_by_timer_resolution() {
    let s = TestServer::start(Script::new()).await;
    let lines: Vec<String> = (0..3000)
        .map(|i| batch_line(&format!("l{i}"), &chat_body("m", &format!("question {i}"))))
        .collect();
    let started = std::time::Instant::now();
    let b = start_batch(s.addr(), CHAT, &lines).await.json();
    let done = wait_for_batch(s.addr(), &id_of(&b)).await;
    // One sleep per line would take at least 3 s at a millisecond each.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(counts(&done), (3000, 3000, 0));
    let out = jsonl(s.addr(), done["output_file_id"].as_str().unwrap()).await;
    assert_eq!(out.len(), 3000);
    assert_eq!(out[2999]["custom_id"], "l2999");
}
