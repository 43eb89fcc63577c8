//! The provider factory for `teacher` blocks: by the teacher's `mode`, an online
//! provider, a Batch API provider or a replay provider.
//!
//! The teacher's key is read from the environment when its provider is built and
//! nowhere else. Teachers on one endpoint share its limits and one connection pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dtac_interpreter::resolve::ModelDecl;
use dtac_runtime::llm::{Provider, ProviderEnv, ProviderFactory};

use super::batch::BatchProvider;
use super::config::{self, Mode};
use super::endpoint::{Declared, Endpoints};
use super::online::OnlineProvider;
use super::replay::ReplayProvider;
use super::transport::Transport;

/// Builds providers for `teacher` declarations and keeps what endpoints share.
#[derive(Debug)]
pub struct OpenAiFactory {
    endpoints: Endpoints,
    transport: Transport,
    /// Replay files already read, by path: teachers sharing a file share its answers.
    replays: Mutex<HashMap<String, Arc<ReplayProvider>>>,
}

impl Default for OpenAiFactory {
    fn default() -> Self {
        OpenAiFactory::new()
    }
}

impl OpenAiFactory {
    pub fn new() -> OpenAiFactory {
        OpenAiFactory {
            endpoints: Endpoints::default(),
            transport: Transport::new(),
            replays: Mutex::new(HashMap::new()),
        }
    }

    fn replay(&self, teacher: &ModelDecl) -> Result<Arc<dyn Provider>, String> {
        let Some(path) = teacher.str("replay") else {
            return Err(
                "`mode = \"replay\"` needs `replay = \"answers.jsonl\"`, the recorded answers"
                    .into(),
            );
        };
        let mut replays = self.replays.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = replays.get(path) {
            return Ok(p.clone());
        }
        let provider = Arc::new(ReplayProvider::open(path)?);
        replays.insert(path.to_string(), provider.clone());
        Ok(provider)
    }
}

impl ProviderFactory for OpenAiFactory {
    fn provider(
        &self,
        teacher: &ModelDecl,
        env: &ProviderEnv,
    ) -> Result<Arc<dyn Provider>, String> {
        let mode = config::mode_of(teacher)?;
        if mode == Mode::Replay {
            return self.replay(teacher);
        }
        let connection = config::read(teacher)?;
        // The only place a key is read: when the provider that sends it is built.
        let key = match &connection.key_var {
            Some(var) => config::key_from(var, |name: &str| std::env::var(name))?,
            None => None,
        };
        if mode == Mode::Batch {
            let model = teacher.str("model").unwrap_or_default();
            return Ok(Arc::new(BatchProvider::new(
                &connection,
                model,
                key,
                env.clone(),
            )?));
        }
        let endpoint = self.endpoints.get(
            &connection.endpoint,
            Declared {
                max_concurrency: connection.max_concurrency,
                rpm: connection.rpm,
                tpm: connection.tpm,
            },
        );
        Ok(Arc::new(OnlineProvider::new(
            &connection,
            key,
            endpoint,
            self.transport.clone(),
            env.stop.clone(),
        )))
    }

    fn endpoint(&self, teacher: &ModelDecl) -> String {
        config::endpoint_of(teacher)
    }

    fn is_local(&self, teacher: &ModelDecl) -> bool {
        config::mode_of(teacher) == Ok(Mode::Replay)
    }
}

#[cfg(test)]
mod tests {
    use dtac_interpreter::resolve::Value;
    use dtac_runtime::llm::{Caller, ChatRequest, Message, ProviderError};
    use dtac_runtime::stop::Stop;
    use dtac_runtime::store::Store;

    use super::super::config::tests::teacher;
    use super::*;

    const KEY: &str = "sk-test-0123456789abcdef";

    fn env() -> (ProviderEnv, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "dtac-openai-factory-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let store = Store::open(&dir).expect("store");
        (
            ProviderEnv {
                store,
                stop: Stop::new(),
            },
            dir,
        )
    }

    #[test]
    fn debug_never_shows_the_key() {
        let t = teacher(&[("endpoint", Value::Str("http://127.0.0.1:9/v1/".into()))]);
        let connection = config::read(&t).expect("valid teacher");
        let endpoint = Endpoints::default().get(
            &connection.endpoint,
            Declared {
                max_concurrency: 2,
                rpm: None,
                tpm: None,
            },
        );
        let p = OnlineProvider::new(
            &connection,
            Some(KEY.into()),
            endpoint,
            Transport::new(),
            Stop::new(),
        );
        for text in [format!("{p:?}"), format!("{p:#?}")] {
            assert!(!text.contains(KEY) && !text.contains("sk-test"), "{text}");
            assert!(text.contains("\"set\""), "{text}");
            assert!(text.contains("http://127.0.0.1:9/v1"), "{text}");
        }
    }

    #[test]
    fn messages_are_scrubbed_of_the_key() {
        let echoed = format!("<p>bad header Authorization: Bearer {KEY}</p>");
        let scrubbed = super::super::online::scrub(echoed, Some(KEY), Some("me:pw"));
        assert!(!scrubbed.contains(KEY), "{scrubbed}");
        assert!(scrubbed.contains("[the key]"));
        assert_eq!(
            super::super::online::scrub("http://me:pw@h/v1".into(), None, Some("me:pw")),
            "http://h/v1"
        );
    }

    #[test]
    fn teachers_on_one_endpoint_share_limits() {
        let (env, dir) = env();
        let factory = OpenAiFactory::new();
        let on = |url: &str, n: i64| {
            teacher(&[
                ("endpoint", Value::Str(url.into())),
                ("max_concurrency", Value::Int(n)),
            ])
        };
        let a = factory.provider(&on("http://h:1/v1", 8), &env).expect("a");
        let b = factory.provider(&on("http://h:1/v1/", 3), &env).expect("b");
        let c = factory
            .provider(&on("http://other:1/v1", 5), &env)
            .expect("c");
        assert!(format!("{a:?}").contains("max_concurrency: 3"), "{a:?}");
        assert!(format!("{b:?}").contains("max_concurrency: 3"), "{b:?}");
        assert!(format!("{c:?}").contains("max_concurrency: 5"), "{c:?}");
        assert_eq!(factory.endpoint(&on("http://h:1/v1/", 3)), "http://h:1/v1");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn modes_build_their_providers() {
        let (env, dir) = env();
        let factory = OpenAiFactory::new();
        let batch = teacher(&[("mode", Value::Str("batch".into()))]);
        assert!(
            format!("{:?}", factory.provider(&batch, &env).expect("batch"))
                .starts_with("BatchProvider")
        );
        let replay = teacher(&[("mode", Value::Str("replay".into()))]);
        let err = factory.provider(&replay, &env).unwrap_err();
        assert!(err.contains("needs `replay"), "{err}");
        assert!(factory.is_local(&replay) && !factory.is_local(&batch));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_gives_up_after_its_attempts() {
        // Port 9 (discard) on localhost refuses connections at once: no network needed.
        // The URL's credentials must not reach the message.
        let (env, dir) = env();
        let t = teacher(&[
            (
                "endpoint",
                Value::Str("http://me:pw-in-url@127.0.0.1:9/v1".into()),
            ),
            ("max_attempts", Value::Int(2)),
            (
                "timeout",
                Value::Duration(std::time::Duration::from_secs(5)),
            ),
        ]);
        let provider = OpenAiFactory::new().provider(&t, &env).expect("provider");
        let request = ChatRequest::new("http://127.0.0.1:9/v1", "m", vec![Message::user("hi")]);
        let caller = Caller {
            stage: "s",
            record: "r",
            id: None,
        };
        match provider.chat(caller, &request).await {
            Err(ProviderError::Request(m)) => {
                assert!(m.starts_with("gave up after 2 attempts: "), "{m}");
                assert!(m.contains("connect"), "{m}");
                assert!(!m.contains("pw-in-url"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
