//! The OpenAI provider against dtac-testkit's server on 127.0.0.1: answers, retries and
//! their counts, errors that stop at once, and the endpoint's in-flight limit.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dtac_interpreter::resolve::{ModelDecl, Value};
use dtac_interpreter::signature::SignatureKind;
use dtac_runtime::llm::{ChatRequest, Message, Provider, ProviderError, ProviderFactory};
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

fn provider(server: &TestServer, settings: &[(&str, Value)]) -> Arc<dyn Provider> {
    OpenAiFactory::new()
        .provider(&teacher(server, settings))
        .expect("a provider")
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
    let answer = p.chat(&request).await.expect("an answer");
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
    // A teacher without a key sends none, whatever OPENAI_API_KEY holds.
    let auth = sent.header("authorization").unwrap_or("").trim();
    assert!(auth.is_empty() || auth == "Bearer", "{auth}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_retried_and_counted() {
    let script = Script::new().fault(Trigger::FirstAttempts(2), Fault::rate_limit());
    let server = TestServer::start(script).await;
    let answer = provider(&server, &[])
        .chat(&ask(&server, "flaky"))
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
    match p.chat(&ask(&server, "down")).await {
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
    match provider(&server, &[]).chat(&ask(&server, "hello")).await {
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
    let result = provider(&server, &[]).chat(&ask(&server, "q")).await;
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
        let result = p.chat(&ask(&server, user)).await;
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
        let answer = p.chat(&ask(&server, user)).await;
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
    let answer = p.chat(&ask(&server, "slow")).await;
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(attempts(&server, "slow"), 2);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_endpoint_limit_holds_across_teachers() {
    let script = Script::new().latency(Duration::from_millis(60));
    let server = TestServer::start(script).await;
    let factory = OpenAiFactory::new();
    // Two teachers on one endpoint: the smaller limit (2) holds for both.
    let a = factory
        .provider(&teacher(&server, &[("max_concurrency", Value::Int(2))]))
        .expect("a");
    let b = factory
        .provider(&teacher(&server, &[("max_concurrency", Value::Int(8))]))
        .expect("b");
    let requests: Vec<ChatRequest> = (0..8).map(|i| ask(&server, &format!("q{i}"))).collect();
    let calls = requests.iter().enumerate().map(|(i, r)| {
        let p = if i % 2 == 0 { &a } else { &b };
        p.chat(r)
    });
    let answers = futures::future::join_all(calls).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert_eq!(server.stats().max_in_flight, 2);
}
