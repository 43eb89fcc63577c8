//! The online provider against dtac-testkit's server on 127.0.0.1: answers, each fault
//! with its attempt count and final state, retry hints, and the limits an endpoint's
//! teachers share (in flight, requests and tokens per minute, pauses), measured at the
//! server.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dtac_interpreter::resolve::{ModelDecl, Value};
use dtac_interpreter::signature::SignatureKind;
use dtac_runtime::llm::{
    Caller, ChatRequest, ChatResponse, Message, Provider, ProviderEnv, ProviderError,
    ProviderFactory,
};
use dtac_runtime::stop::Stop;
use dtac_runtime::store::Store;
use dtac_stdlib::providers::OpenAiFactory;
use dtac_testkit::{key_of, ErrorBody, Fault, Rule, Script, TestServer, Trigger};

const MODEL: &str = "dtac-test-model";

fn teacher(server: &TestServer, settings: &[(&str, Value)]) -> ModelDecl {
    let mut all: BTreeMap<String, Value> = BTreeMap::new();
    all.insert("model".into(), Value::Str(MODEL.into()));
    all.insert("endpoint".into(), Value::Str(server.base_url()));
    // Short enough that a test never waits long on a hung attempt.
    all.insert("timeout".into(), Value::Duration(Duration::from_secs(5)));
    for (k, v) in settings {
        all.insert(k.to_string(), v.clone());
    }
    ModelDecl {
        name: "t".into(),
        kind: SignatureKind::Teacher,
        settings: all,
        sig: &dtac_stdlib::blocks::teacher::SIGNATURE,
    }
}

/// A provider environment over a fresh store in a temp dir (online providers do not
/// write to it; the store only has to exist).
fn env() -> ProviderEnv {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dtac-provider-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    ProviderEnv {
        store: Store::open(&dir).expect("store"),
        stop: Stop::new(),
    }
}

fn provider(server: &TestServer, settings: &[(&str, Value)]) -> Arc<dyn Provider> {
    OpenAiFactory::new()
        .provider(&teacher(server, settings), &env())
        .expect("a provider")
}

const CALLER: Caller<'static> = Caller {
    stage: "test",
    record: "test/0",
    id: None,
};

async fn chat(p: &Arc<dyn Provider>, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
    p.chat(CALLER, request).await
}

fn ask(server: &TestServer, user: &str) -> ChatRequest {
    ChatRequest::new(server.base_url(), MODEL, vec![Message::user(user)])
}

fn attempts(server: &TestServer, user: &str) -> u64 {
    server.count_for(&key_of(MODEL, [("user", user)]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_read_and_settings_sent() {
    let server = TestServer::start(Script::new()).await;
    let p = provider(&server, &[]);
    let request = ChatRequest {
        top_k: Some(20),
        seed: Some(7),
        logprobs: Some(2),
        ..ask(&server, "what is 2+2?")
    };
    let answer = chat(&p, &request).await.expect("an answer");
    assert!(
        answer.text.starts_with("Answer for what is 2+2?"),
        "{answer:?}"
    );
    assert_eq!(answer.finish_reason, "stop");
    assert!(answer.usage.prompt_tokens > 0 && answer.usage.completion_tokens > 0);
    assert!(answer.logprobs.is_some(), "{answer:?}");
    let sent = server.last_request().expect("recorded");
    let body = sent.json().expect("a JSON body");
    assert_eq!(body["top_k"], 20);
    assert_eq!(body["top_logprobs"], 2);
    assert_eq!(sent.path, "/v1/chat/completions");
    // A teacher without a key sends no Authorization header at all.
    assert_eq!(sent.header("authorization"), None);
    // Log-probabilities arrive in dtac's shape.
    let lp = answer
        .logprobs
        .as_ref()
        .and_then(|l| l.as_array())
        .expect("a list");
    assert!(!lp.is_empty());
    assert!(
        lp[0]["token"].is_string() && lp[0]["logprob"].is_number(),
        "{lp:?}"
    );
    assert_eq!(lp[0]["top"].as_array().map(Vec::len), Some(2), "{lp:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_retried_and_counted() {
    let script = Script::new().fault(Trigger::FirstAttempts(2), Fault::rate_limit());
    let server = TestServer::start(script).await;
    let answer = chat(&provider(&server, &[]), &ask(&server, "flaky"))
        .await
        .expect("the third attempt succeeds");
    assert!(answer.text.starts_with("Answer for flaky"));
    assert_eq!(attempts(&server, "flaky"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_stop_at_max_attempts() {
    let script = Script::new().fault(Trigger::Always, Fault::status(503));
    let server = TestServer::start(script).await;
    let p = provider(&server, &[("max_attempts", Value::Int(3))]);
    match chat(&p, &ask(&server, "down")).await {
        Err(ProviderError::Request(m)) => {
            assert!(m.starts_with("gave up after 3 attempts: "), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(attempts(&server, "down"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_stops_at_once() {
    let script = Script::new().fault(Trigger::Always, Fault::status(401));
    let server = TestServer::start(script).await;
    match chat(&provider(&server, &[]), &ask(&server, "hello")).await {
        Err(ProviderError::Endpoint(m)) => {
            assert!(m.starts_with("the endpoint refused the key"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(attempts(&server, "hello"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_quota_stops_at_once() {
    let script = Script::new().fault(Trigger::Always, Fault::InsufficientQuota);
    let server = TestServer::start(script).await;
    let result = chat(&provider(&server, &[]), &ask(&server, "q")).await;
    assert!(
        matches!(&result, Err(ProviderError::Endpoint(m)) if m.contains("quota")),
        "{result:?}"
    );
    assert_eq!(attempts(&server, "q"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_fail_the_record_at_once() {
    let script = Script::new()
        .rule(Rule::contains("openai-shaped").fault(Trigger::Always, Fault::status(400)))
        .rule(
            Rule::contains("fastapi-shaped")
                .fault(Trigger::Always, Fault::status(400).body(ErrorBody::Detail)),
        );
    let server = TestServer::start(script).await;
    let p = provider(&server, &[]);
    for user in ["openai-shaped", "fastapi-shaped"] {
        let result = chat(&p, &ask(&server, user)).await;
        assert!(
            matches!(&result, Err(ProviderError::Request(m)) if !m.starts_with("gave up")),
            "{user}: {result:?}"
        );
        assert_eq!(attempts(&server, user), 1, "{user}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_answers_and_connections_are_retried() {
    let script = Script::new()
        .rule(Rule::contains("cut").fault(Trigger::FirstAttempts(1), Fault::MalformedJson))
        .rule(Rule::contains("dropped").fault(Trigger::FirstAttempts(1), Fault::Drop))
        .rule(Rule::contains("html").fault(
            Trigger::FirstAttempts(1),
            Fault::status(502).body(ErrorBody::Html),
        ));
    let server = TestServer::start(script).await;
    let p = provider(&server, &[]);
    for user in ["cut", "dropped", "html"] {
        let answer = chat(&p, &ask(&server, user)).await;
        assert!(answer.is_ok(), "{user}: {answer:?}");
        assert_eq!(attempts(&server, user), 2, "{user}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_attempts_time_out_and_are_retried() {
    let script = Script::new().rule(Rule::contains("slow").fault(
        Trigger::FirstAttempts(1),
        Fault::SlowBody(Duration::from_secs(3)),
    ));
    let server = TestServer::start(script).await;
    let p = provider(
        &server,
        &[("timeout", Value::Duration(Duration::from_millis(300)))],
    );
    let started = Instant::now();
    let answer = chat(&p, &ask(&server, "slow")).await;
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(attempts(&server, "slow"), 2);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_endpoint_limit_holds_across_teachers() {
    let script = Script::new().latency(Duration::from_millis(60));
    let server = TestServer::start(script).await;
    let factory = OpenAiFactory::new();
    let env = env();
    // Two teachers on one endpoint: the smaller limit (2) holds for both.
    let a = factory
        .provider(
            &teacher(&server, &[("max_concurrency", Value::Int(2))]),
            &env,
        )
        .expect("a");
    let b = factory
        .provider(
            &teacher(&server, &[("max_concurrency", Value::Int(8))]),
            &env,
        )
        .expect("b");
    let requests: Vec<ChatRequest> = (0..8).map(|i| ask(&server, &format!("q{i}"))).collect();
    let calls = requests.iter().enumerate().map(|(i, r)| {
        let p = if i % 2 == 0 { &a } else { &b };
        chat(p, r)
    });
    let answers = futures::future::join_all(calls).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert_eq!(server.stats().max_in_flight, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let script = Script::new().fault(
        Trigger::FirstAttempts(1),
        Fault::rate_limit_after(Duration::from_millis(1200)).body(ErrorBody::Text),
    );
    let server = TestServer::start(script).await;
    let started = Instant::now();
    let answer = chat(&provider(&server, &[]), &ask(&server, "wait")).await;
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(attempts(&server, "wait"), 2);
    let arrivals = server.stats().arrivals;
    let gap = arrivals[1].duration_since(arrivals[0]);
    assert!(gap >= Duration::from_millis(1200), "retried after {gap:?}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_in_other_shapes_are_classified_by_status() {
    let script = Script::new()
        .rule(Rule::contains("vllm-429").fault(
            Trigger::FirstAttempts(2),
            Fault::status(429).body(ErrorBody::Vllm),
        ))
        .rule(Rule::contains("detail-503").fault(
            Trigger::FirstAttempts(1),
            Fault::status(503).body(ErrorBody::Detail),
        ))
        .rule(
            Rule::contains("vllm-400")
                .fault(Trigger::Always, Fault::status(400).body(ErrorBody::Vllm)),
        )
        .rule(
            Rule::contains("text-404")
                .fault(Trigger::Always, Fault::status(404).body(ErrorBody::Text)),
        )
        .rule(
            Rule::contains("detail-401")
                .fault(Trigger::Always, Fault::status(401).body(ErrorBody::Detail)),
        );
    let server = TestServer::start(script).await;
    let p = provider(&server, &[]);
    assert!(chat(&p, &ask(&server, "vllm-429")).await.is_ok());
    assert_eq!(attempts(&server, "vllm-429"), 3);
    assert!(chat(&p, &ask(&server, "detail-503")).await.is_ok());
    assert_eq!(attempts(&server, "detail-503"), 2);
    let bad = chat(&p, &ask(&server, "vllm-400")).await;
    assert!(
        matches!(&bad, Err(ProviderError::Request(m)) if m.contains("(400)")),
        "{bad:?}"
    );
    assert_eq!(attempts(&server, "vllm-400"), 1);
    let missing = chat(&p, &ask(&server, "text-404")).await;
    assert!(
        matches!(&missing, Err(ProviderError::Endpoint(m)) if m.contains("404")),
        "{missing:?}"
    );
    assert_eq!(attempts(&server, "text-404"), 1);
    let refused = chat(&p, &ask(&server, "detail-401")).await;
    assert!(
        matches!(&refused, Err(ProviderError::Endpoint(m)) if m.contains("refused the key")),
        "{refused:?}"
    );
    assert_eq!(attempts(&server, "detail-401"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_pause_holds_back_other_requests() {
    // The first request is told to wait 1.5 s; a second, unrelated request made while
    // the endpoint is paused must not reach the server before then either.
    let script = Script::new().rule(Rule::contains("first").fault(
        Trigger::FirstAttempts(1),
        Fault::rate_limit_after(Duration::from_millis(1500)),
    ));
    let server = TestServer::start(script).await;
    let p = provider(&server, &[]);
    let first = ask(&server, "first");
    let second = ask(&server, "second");
    let (a, b) = tokio::join!(chat(&p, &first), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        chat(&p, &second).await
    });
    assert!(a.is_ok() && b.is_ok(), "{a:?} {b:?}");
    let requests = server.requests();
    let t0 = requests[0].at;
    let second_at = requests
        .iter()
        .find(|r| r.body_text().contains("second"))
        .map(|r| r.at.duration_since(t0))
        .expect("second arrived");
    assert!(
        second_at >= Duration::from_millis(1400),
        "second sent after {second_at:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pressure_narrows_the_window() {
    let script = Script::new()
        .latency(Duration::from_millis(40))
        .fault(Trigger::FirstAttempts(1), Fault::rate_limit());
    let server = TestServer::start(script).await;
    let p = provider(&server, &[("max_concurrency", Value::Int(16))]);
    let requests: Vec<ChatRequest> = (0..16).map(|i| ask(&server, &format!("w{i}"))).collect();
    let answers = futures::future::join_all(requests.iter().map(|r| chat(&p, r))).await;
    assert!(answers.iter().all(Result::is_ok));
    // Sixteen refusals of one wave halve the window once (16 → 8); the sixteen answers
    // after it widen it by about two.
    let shown = format!("{p:?}");
    let window: usize = shown
        .split("window: ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("window in Debug");
    assert!((8..=10).contains(&window), "{shown}");
    assert_eq!(server.stats().total, 32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_per_minute_hold_at_the_server() {
    let server = TestServer::start(Script::new()).await;
    // 600 a minute: 10 a second, a burst of 10.
    let p = provider(
        &server,
        &[
            ("rpm", Value::Int(600)),
            ("max_concurrency", Value::Int(64)),
        ],
    );
    let requests: Vec<ChatRequest> = (0..30).map(|i| ask(&server, &format!("r{i}"))).collect();
    let started = Instant::now();
    let answers = futures::future::join_all(requests.iter().map(|r| chat(&p, r))).await;
    assert!(answers.iter().all(Result::is_ok));
    // 10 at once, then 20 more at 10 a second.
    assert!(
        started.elapsed() >= Duration::from_millis(1850),
        "{:?}",
        started.elapsed()
    );
    let stats = server.stats();
    assert!(
        stats.max_in_window(Duration::from_secs(1)) <= 21,
        "{}",
        stats.max_in_window(Duration::from_secs(1))
    );
    assert!(stats.max_in_window(Duration::from_millis(500)) <= 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_per_minute_hold_at_the_server() {
    let server = TestServer::start(Script::new()).await;
    // 6,000 tokens a minute = 100 a second.
    let p = provider(
        &server,
        &[
            ("tpm", Value::Int(6000)),
            ("max_concurrency", Value::Int(64)),
        ],
    );
    let long = "word ".repeat(40);
    let requests: Vec<ChatRequest> = (0..10)
        .map(|i| ChatRequest {
            max_tokens: Some(10),
            ..ask(&server, &format!("{long} t{i}"))
        })
        .collect();
    let started = Instant::now();
    let answers = futures::future::join_all(requests.iter().map(|r| chat(&p, r))).await;
    let used: u64 = answers
        .iter()
        .map(|a| {
            let u = a.as_ref().expect("answered").usage;
            u.prompt_tokens + u.completion_tokens
        })
        .sum();
    // Whatever passed beyond one burst (100) and one request's worth was paid for at
    // 100 tokens a second.
    let per_request = used / 10;
    let floor = (used.saturating_sub(100 + per_request)) as f64 / 100.0;
    let took = started.elapsed().as_secs_f64();
    assert!(
        took >= floor * 0.9,
        "{used} tokens in {took:.2}s, floor {floor:.2}s"
    );
    assert!(used > 400, "{used}");
}
