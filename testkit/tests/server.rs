//! End-to-end checks of the server over real sockets: answers, rules, faults, counters.

mod common;

use std::time::{Duration, Instant};

use common::{chat_body, post, request, Conn};
use dtac_testkit::{key_of, logprob, ErrorBody, Fault, Rule, Script, TestServer, Trigger};
use serde_json::{json, Value};

const CHAT: &str = "/v1/chat/completions";

#[tokio::test]
async fn default_answer_is_identical_across_instances() {
    let body = json!({"model": "m", "seed": 7, "messages": [
        {"role": "system", "content": "be terse"},
        {"role": "user", "content": "What is the sum of the first ten primes, please?"}]});
    let a = TestServer::start(Script::new()).await;
    let b = TestServer::start(Script::new()).await;
    let ra = post(a.addr(), CHAT, &body).await;
    let rb = post(b.addr(), CHAT, &body).await;
    assert_eq!(ra.status, 200);
    assert_eq!(ra.content(), rb.content());
    let text = ra.content();
    assert!(
        text.starts_with("Answer for What is the sum of the first ten primes,. seed=7. The final answer is \\boxed{"),
        "{text}"
    );
    let other = post(
        a.addr(),
        CHAT,
        &json!({"model": "m", "seed": 8, "messages": body["messages"]}),
    )
    .await;
    assert_ne!(other.content(), text);

    // The full OpenAI shape, field by field.
    let v = ra.json();
    assert_eq!(v["object"], "chat.completion");
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(v["created"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(v["model"], "m");
    let choice = &v["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["refusal"], Value::Null);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["logprobs"], Value::Null);
    let words = text.split_whitespace().count() as u64;
    assert_eq!(v["usage"]["completion_tokens"], words);
    assert_eq!(v["usage"]["prompt_tokens"], 2 + 10);
    assert_eq!(v["usage"]["total_tokens"], 12 + words);
}

#[tokio::test]
async fn rules_match_in_order() {
    let script = Script::new()
        .rule(Rule::contains("review").reply_json(json!({"verdict": "pass"})))
        .rule(
            Rule::model("judge")
                .reply_with(|v| format!("judged {} msgs, seed {:?}", v.messages.len(), v.seed)),
        )
        .rule(Rule::contains("count").reply_seq(["one", "two"]))
        .rule(Rule::any().reply("fallback"));
    let s = TestServer::start(script).await;
    let review = post(s.addr(), CHAT, &chat_body("judge", "please review this")).await;
    assert_eq!(review.content(), r#"{"verdict":"pass"}"#);
    let judged = post(
        s.addr(),
        CHAT,
        &json!({"model": "judge", "seed": 3, "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(judged.content(), "judged 1 msgs, seed Some(3)");
    let counts: Vec<String> = {
        let mut out = Vec::new();
        for _ in 0..3 {
            out.push(
                post(s.addr(), CHAT, &chat_body("m", "count"))
                    .await
                    .content(),
            );
        }
        out
    };
    assert_eq!(counts, ["one", "two", "one"]);
    assert_eq!(
        post(s.addr(), CHAT, &chat_body("m", "hello"))
            .await
            .content(),
        "fallback"
    );

    let models = request(s.addr(), "GET", "/v1/models", &[], b"")
        .await
        .unwrap()
        .json();
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["id"], "judge");
    assert_eq!(models["data"][0]["object"], "model");
}

#[tokio::test]
async fn first_two_attempts_rate_limited_then_answered() {
    let script = Script::new().rule(Rule::contains("flaky").fault(
        Trigger::FirstAttempts(2),
        Fault::rate_limit_after(Duration::from_millis(1200)),
    ));
    let s = TestServer::start(script).await;
    let body = chat_body("m", "a flaky one");
    for _ in 0..2 {
        let r = post(s.addr(), CHAT, &body).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("2"));
        assert_eq!(r.header("retry-after-ms"), Some("1200"));
        assert_eq!(r.json()["error"]["code"], "rate_limit_exceeded");
    }
    let ok = post(s.addr(), CHAT, &body).await;
    assert_eq!(ok.status, 200);
    let key = key_of("m", [("user", "a flaky one")]);
    assert_eq!(s.count_for(&key), 3);
    let stats = s.stats();
    assert_eq!(stats.count_for(&key), 3);
    assert_eq!((stats.answered, stats.faults), (1, 2));
    assert_eq!(stats.fault_count("http_429"), 2);
    assert_eq!(stats.path_count(CHAT), 3);
    // Another conversation has its own attempt count.
    let other = post(s.addr(), CHAT, &chat_body("m", "flaky too")).await;
    assert_eq!(other.status, 429);
}

#[tokio::test]
async fn dropped_connection_sends_nothing() {
    let s = TestServer::start(Script::new().fault(Trigger::Attempt(1), Fault::Drop)).await;
    let err = request(
        s.addr(),
        "POST",
        CHAT,
        &[],
        chat_body("m", "x").to_string().as_bytes(),
    )
    .await
    .expect_err("expected the connection to close");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
        ),
        "{err:?}"
    );
    assert_eq!(post(s.addr(), CHAT, &chat_body("m", "x")).await.status, 200);
    let stats = s.stats();
    assert_eq!(stats.fault_count("drop"), 1);
    assert_eq!(stats.in_flight, 0);
}

#[tokio::test]
async fn malformed_json_under_200() {
    let s = TestServer::start(Script::new().fault(Trigger::Always, Fault::MalformedJson)).await;
    let r = post(s.addr(), CHAT, &chat_body("m", "x")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
}

#[tokio::test]
async fn error_shapes() {
    let script = Script::new()
        .rule(
            Rule::contains("detail")
                .fault(Trigger::Always, Fault::rate_limit().body(ErrorBody::Detail)),
        )
        .rule(
            Rule::contains("text").fault(Trigger::Always, Fault::status(503).body(ErrorBody::Text)),
        )
        .rule(Rule::contains("quota").fault(Trigger::Always, Fault::InsufficientQuota))
        .rule(Rule::contains("auth").fault(Trigger::Always, Fault::status(401)))
        .rule(
            Rule::contains("html").fault(Trigger::Always, Fault::status(502).body(ErrorBody::Html)),
        );
    let s = TestServer::start(script).await;
    let detail = post(s.addr(), CHAT, &chat_body("m", "detail")).await;
    assert_eq!(detail.status, 429);
    assert!(detail.header("retry-after").is_none());
    assert!(detail.json()["detail"].is_string());
    let text = post(s.addr(), CHAT, &chat_body("m", "text")).await;
    assert_eq!(text.status, 503);
    assert!(text
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let quota = post(s.addr(), CHAT, &chat_body("m", "quota")).await;
    assert_eq!(quota.status, 429);
    assert_eq!(quota.json()["error"]["code"], "insufficient_quota");
    assert_eq!(quota.json()["error"]["type"], "insufficient_quota");
    let auth = post(s.addr(), CHAT, &chat_body("m", "auth")).await;
    assert_eq!(auth.status, 401);
    assert_eq!(auth.json()["error"]["code"], "invalid_api_key");
    let html = post(s.addr(), CHAT, &chat_body("m", "html")).await;
    assert_eq!(html.status, 502);
    assert!(String::from_utf8_lossy(&html.body).contains("<h1>502</h1>"));
}

#[tokio::test]
async fn completions_echo_scores_the_prompt() {
    let s = TestServer::start(Script::new()).await;
    let prompt = "The cat sat on the mat.";
    let r = post(
        s.addr(),
        "/v1/completions",
        &json!({"model": "m", "prompt": prompt, "echo": true, "max_tokens": 0, "logprobs": 1}),
    )
    .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["object"], "text_completion");
    let c = &v["choices"][0];
    assert_eq!(c["text"], prompt);
    let lp = &c["logprobs"];
    let tokens: Vec<&str> = lp["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tokens, ["The", " cat", " sat", " on", " the", " mat."]);
    assert_eq!(lp["token_logprobs"][0], Value::Null);
    assert_eq!(lp["top_logprobs"][0], Value::Null);
    for (pos, tok) in tokens.iter().enumerate().skip(1) {
        let got = lp["token_logprobs"][pos].as_f64().unwrap();
        assert_eq!(got, logprob(tok, pos));
        assert!((-5.0..0.0).contains(&got));
        assert_eq!(lp["top_logprobs"][pos][*tok].as_f64(), Some(got));
    }
    assert_eq!(v["usage"]["prompt_tokens"], 6);
    assert_eq!(v["usage"]["completion_tokens"], 0);

    // Without echo: the generated text only, cut at max_tokens.
    let gen = post(
        s.addr(),
        "/v1/completions",
        &json!({"model": "m", "prompt": prompt, "max_tokens": 3}),
    )
    .await
    .json();
    assert_eq!(gen["choices"][0]["text"], "Answer for The");
    assert_eq!(gen["choices"][0]["finish_reason"], "length");
    assert_eq!(gen["choices"][0]["logprobs"], Value::Null);
}

#[tokio::test]
async fn chat_logprobs() {
    let s = TestServer::start(Script::new().rule(Rule::any().reply("alpha beta"))).await;
    let r = post(
        s.addr(),
        CHAT,
        &json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 3}),
    )
    .await;
    let content = r.json()["choices"][0]["logprobs"]["content"].clone();
    assert_eq!(content[1]["token"], " beta");
    assert_eq!(content[1]["logprob"].as_f64(), Some(logprob(" beta", 1)));
    assert_eq!(content[1]["bytes"], json!(b" beta".to_vec()));
    assert_eq!(content[1]["top_logprobs"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_in_flight_with_latency() {
    let latency = Duration::from_millis(300);
    let s = TestServer::start(Script::new().latency(latency)).await;
    let start = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let addr = s.addr();
            tokio::spawn(async move {
                post(addr, CHAT, &chat_body("m", &format!("q{i}")))
                    .await
                    .status
            })
        })
        .collect();
    // In flight is visible from outside while the requests wait.
    tokio::time::sleep(latency / 2).await;
    assert_eq!(s.in_flight(), 8);
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let elapsed = start.elapsed();
    assert!(elapsed >= latency, "{elapsed:?}");
    assert!(
        elapsed < latency * 3,
        "requests were not concurrent: {elapsed:?}"
    );
    let stats = s.stats();
    assert_eq!(stats.max_in_flight, 8);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.arrivals.len(), 8);
    assert!(stats.max_in_window(Duration::from_millis(100)) == 8);
}

#[tokio::test]
async fn slow_body_sends_headers_first() {
    let over = Duration::from_millis(300);
    let s = TestServer::start(Script::new().fault(Trigger::Always, Fault::SlowBody(over))).await;
    let r = post(s.addr(), CHAT, &chat_body("m", "slow")).await;
    assert_eq!(r.status, 200);
    assert!(
        r.head_after < Duration::from_millis(150),
        "{:?}",
        r.head_after
    );
    assert!(
        r.body_after >= over - Duration::from_millis(20),
        "{:?}",
        r.body_after
    );
    assert!(r.content().starts_with("Answer for slow."));
    let stats = s.stats();
    assert_eq!((stats.answered, stats.fault_count("slow_body")), (1, 1));
}

#[tokio::test]
async fn not_found_and_bad_requests_are_openai_shaped() {
    let s = TestServer::start(Script::new()).await;
    let r = request(s.addr(), "GET", "/v1/nope?x=1", &[], b"")
        .await
        .unwrap();
    assert_eq!(r.status, 404);
    let e = &r.json()["error"];
    assert!(e["message"].as_str().unwrap().contains("/v1/nope"));
    assert_eq!(e["type"], "invalid_request_error");
    assert!(e.get("code").is_some());
    assert_eq!(
        request(s.addr(), "GET", CHAT, &[], b"")
            .await
            .unwrap()
            .status,
        404
    );

    for body in [
        &b"{not json"[..],
        b"[1,2]",
        br#"{"model":"m"}"#,
        b"\xff\xfe",
        br#"{"model":"m","messages":[{"role":"user"}],"n":3}"#,
    ] {
        let r = request(s.addr(), "POST", CHAT, &[], body).await.unwrap();
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(body));
        assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    }
    let r = request(
        s.addr(),
        "POST",
        "/v1/completions",
        &[],
        br#"{"model":"m","prompt":5}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 400);
    let stats = s.stats();
    assert_eq!((stats.not_found, stats.rejected), (2, 6));
    assert_eq!(stats.path_count("/v1/nope"), 1);
}

#[tokio::test]
async fn records_headers_and_bodies_and_keeps_alive() {
    let s = TestServer::start(Script::new().record_last(2)).await;
    let mut conn = Conn::open(s.addr()).await.unwrap();
    for i in 0..3 {
        let body = chat_body("m", &format!("n{i}")).to_string();
        let r = conn
            .send(
                "POST",
                CHAT,
                &[("Authorization", "Bearer sk-test")],
                body.as_bytes(),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
    let recorded = s.requests();
    assert_eq!(recorded.len(), 2);
    let last = s.last_request().unwrap();
    assert_eq!(last.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(last.path, CHAT);
    assert_eq!(last.method, "POST");
    assert_eq!(last.json().unwrap()["messages"][0]["content"], "n2");
    assert_eq!(last.seq, 3);
}

/// For tests that block: the server runs on its own thread and runtime.
#[test]
fn spawned_server_serves_blocking_clients() {
    use std::io::{Read, Write};
    let s = TestServer::spawn(Script::new().rule(Rule::any().reply("sync ok")));
    assert!(s.base_url().starts_with("http://127.0.0.1:"));
    assert!(s.base_url().ends_with("/v1"));
    let body = chat_body("m", "hi").to_string();
    let mut stream = std::net::TcpStream::connect(s.addr()).unwrap();
    write!(
        stream,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains(r#""content":"sync ok""#), "{out}");
    let addr = s.addr();
    s.shutdown();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "port still open after shutdown"
    );
}

#[tokio::test]
async fn vllm_error_body_with_retry_after() {
    let fault = Fault::status(503)
        .body(ErrorBody::Vllm)
        .retry_after(Duration::from_millis(2500));
    let s = TestServer::start(Script::new().fault(Trigger::Always, fault)).await;
    let r = post(s.addr(), CHAT, &chat_body("m", "x")).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("3"));
    assert_eq!(r.header("retry-after-ms"), Some("2500"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    assert_eq!(v["object"], "error");
    assert_eq!(v["type"], "ServiceUnavailableError");
    assert_eq!(v["param"], Value::Null);
    assert_eq!(v["code"], 503);
    assert!(v["code"].is_u64());
    assert!(v["message"].is_string());
}
