//! The gateway every model request of a run goes through: the response cache first, then
//! (unless offline) the teacher's provider; the answer is committed to the store before
//! the op sees it. It also keeps the budget and counts usage per stage and teacher.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use dtac_interpreter::resolve::ModelDecl;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::price::price_of;
use super::provider::{Caller, Provider, ProviderEnv, ProviderError, ProviderFactory};
use super::request::{ChatRequest, ChatResponse, ScoreRequest, ScoreResponse, Usage};
use crate::op::OpError;
use crate::stop::Stop;
use crate::store::{read, Store};

/// Usage of one teacher by one stage.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct UsageStats {
    /// Requests sent to the endpoint.
    pub requests: u64,
    /// Requests answered from the response cache.
    pub cached: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Dollars, from the teacher's price table (cached answers cost nothing).
    pub cost: f64,
}

#[derive(Debug)]
pub struct Gateway {
    store: Store,
    factory: Arc<dyn ProviderFactory>,
    providers: Mutex<HashMap<String, Arc<dyn Provider>>>,
    offline: bool,
    /// Ask again even when an answer is stored (`--fresh`).
    fresh: bool,
    budget: Option<f64>,
    /// Dollars spent, plus dollars reserved by requests in flight.
    spend: Mutex<Spend>,
    usage: Mutex<BTreeMap<(String, String), UsageStats>>,
    stop: Stop,
}

#[derive(Debug, Default)]
struct Spend {
    spent: f64,
    reserved: f64,
}

/// Completion tokens assumed for a request with no `max_tokens`, for budget reservations.
const ASSUMED_COMPLETION: i64 = 1024;

impl Gateway {
    pub fn new(
        store: Store,
        factory: Arc<dyn ProviderFactory>,
        offline: bool,
        fresh: bool,
        budget: Option<f64>,
        stop: Stop,
    ) -> Gateway {
        Gateway {
            store,
            factory,
            providers: Mutex::new(HashMap::new()),
            offline,
            fresh,
            budget,
            spend: Mutex::new(Spend::default()),
            usage: Mutex::new(BTreeMap::new()),
            stop,
        }
    }

    /// The endpoint identity that goes into request keys for `teacher`.
    pub fn endpoint(&self, teacher: &ModelDecl) -> String {
        self.factory.endpoint(teacher)
    }

    /// Answers `request` for `caller`: from the store when known, else from the teacher's
    /// provider (and stores the answer before returning it).
    pub async fn chat(
        &self,
        caller: Caller<'_>,
        stage_key: &str,
        teacher: &ModelDecl,
        request: &ChatRequest,
    ) -> Result<ChatResponse, OpError> {
        let worst = Usage {
            prompt_tokens: request.estimated_prompt_tokens(),
            completion_tokens: request.max_tokens.unwrap_or(ASSUMED_COMPLETION).max(0) as u64,
        };
        self.ask(
            caller,
            stage_key,
            teacher,
            request,
            request.key(),
            worst,
            |p| Box::pin(async move { p.chat(caller, request).await }),
        )
        .await
    }

    /// log p(target | context) for `caller`, through the same cache, budget and usage
    /// accounting as chat requests.
    pub async fn score(
        &self,
        caller: Caller<'_>,
        stage_key: &str,
        teacher: &ModelDecl,
        request: &ScoreRequest,
    ) -> Result<ScoreResponse, OpError> {
        let worst = Usage {
            prompt_tokens: ((request.context.len() + request.target.len()) as u64).div_ceil(4),
            completion_tokens: 1,
        };
        self.ask(
            caller,
            stage_key,
            teacher,
            request,
            request.key(),
            worst,
            |p| Box::pin(async move { p.score(caller, request).await }),
        )
        .await
    }

    /// The path every request takes: cache, offline check, budget reservation, provider,
    /// store, usage. `worst` is the usage reserved against the budget until the answer
    /// tells the real one.
    #[allow(clippy::too_many_arguments)]
    async fn ask<'r, Q, A>(
        &self,
        caller: Caller<'_>,
        stage_key: &str,
        teacher: &ModelDecl,
        request: &Q,
        key: String,
        worst: Usage,
        send: impl FnOnce(Arc<dyn Provider>) -> BoxFuture<'r, Result<A, ProviderError>>,
    ) -> Result<A, OpError>
    where
        Q: Serialize,
        A: Serialize + DeserializeOwned + Answered,
    {
        let stage = caller.stage;
        if self.factory.is_local(teacher) {
            return self.ask_local(caller, teacher, send).await;
        }
        let _ = self.store.writer().used(stage_key, &key);
        if let Some(hit) = self.cached::<A>(&key)? {
            self.count(stage, &teacher.name, |u| {
                u.cached += 1;
            });
            return Ok(hit);
        }
        if self.offline {
            return Err(OpError::Fatal {
                message: format!(
                    "offline: no stored answer for stage `{stage}`, record `{}` (teacher \
                     `{}`, request {})",
                    caller.record,
                    teacher.name,
                    crate::hash::short(&key)
                ),
                help: "import the cache file this recipe was run with (`dtac cache import`), or \
                       run without `--offline`"
                    .into(),
            });
        }
        if self.stop.is_stopping() {
            return Err(OpError::Stopped);
        }
        let (price, _) = price_of(teacher);
        let reserved = self.reserve(price.cost(worst))?;
        let provider = self.provider(teacher)?;
        let result = send(provider).await;
        let answer = match result {
            Ok(r) => r,
            Err(e) => {
                self.settle(reserved, 0.0);
                return Err(provider_error(teacher, e));
            }
        };
        let usage = answer.usage();
        let cost = price.cost(usage);
        self.settle(reserved, cost);
        let request_json = serde_json::to_string(request).unwrap_or_default();
        let response_json = serde_json::to_string(&answer).unwrap_or_default();
        self.store
            .writer()
            .put_response(
                key,
                request_json,
                response_json,
                usage.prompt_tokens,
                usage.completion_tokens,
            )
            .await
            .map_err(|e| OpError::Fatal {
                help: e.help(),
                message: e.to_string(),
            })?;
        self.count(stage, &teacher.name, |u| {
            u.requests += 1;
            u.prompt_tokens += usage.prompt_tokens;
            u.completion_tokens += usage.completion_tokens;
            u.cost += cost;
        });
        Ok(answer)
    }

    /// A local teacher (replay): no cache, no budget, allowed offline; its answers come
    /// from a file that already is the record.
    async fn ask_local<'r, A: Answered>(
        &self,
        caller: Caller<'_>,
        teacher: &ModelDecl,
        send: impl FnOnce(Arc<dyn Provider>) -> BoxFuture<'r, Result<A, ProviderError>>,
    ) -> Result<A, OpError> {
        let provider = self.provider(teacher)?;
        let answer = send(provider)
            .await
            .map_err(|e| provider_error(teacher, e))?;
        let usage = answer.usage();
        self.count(caller.stage, &teacher.name, |u| {
            u.requests += 1;
            u.prompt_tokens += usage.prompt_tokens;
            u.completion_tokens += usage.completion_tokens;
        });
        Ok(answer)
    }

    fn cached<A: DeserializeOwned>(&self, key: &str) -> Result<Option<A>, OpError> {
        if self.fresh {
            return Ok(None);
        }
        let found = self
            .store
            .with_reader(|conn| read::response(conn, key))
            .map_err(|e| OpError::Fatal {
                help: e.help(),
                message: e.to_string(),
            })?;
        Ok(found.and_then(|r| serde_json::from_str(&r.response).ok()))
    }

    fn provider(&self, teacher: &ModelDecl) -> Result<Arc<dyn Provider>, OpError> {
        let mut providers = self.providers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = providers.get(&teacher.name) {
            return Ok(p.clone());
        }
        let p = self
            .factory
            .provider(teacher, &self.env())
            .map_err(|message| OpError::Fatal {
                message: format!("teacher `{}`: {message}", teacher.name),
                help: "check the teacher block".into(),
            })?;
        providers.insert(teacher.name.clone(), p.clone());
        Ok(p)
    }

    /// Reserves `worst` dollars, the most a request could cost, or refuses when that would
    /// pass the budget.
    fn reserve(&self, worst: f64) -> Result<f64, OpError> {
        let Some(budget) = self.budget else {
            return Ok(0.0);
        };
        let mut spend = self.spend.lock().unwrap_or_else(|e| e.into_inner());
        if spend.spent + spend.reserved + worst > budget {
            return Err(OpError::Budget {
                spent: spend.spent,
                budget,
            });
        }
        spend.reserved += worst;
        Ok(worst)
    }

    fn settle(&self, reserved: f64, actual: f64) {
        let mut spend = self.spend.lock().unwrap_or_else(|e| e.into_inner());
        spend.reserved = (spend.reserved - reserved).max(0.0);
        spend.spent += actual;
    }

    fn count(&self, stage: &str, teacher: &str, f: impl FnOnce(&mut UsageStats)) {
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        f(usage
            .entry((stage.to_string(), teacher.to_string()))
            .or_default());
    }

    fn env(&self) -> ProviderEnv {
        ProviderEnv {
            store: self.store.clone(),
            stop: self.stop.clone(),
        }
    }

    /// Usage so far, by (stage, teacher).
    pub fn usage(&self) -> BTreeMap<(String, String), UsageStats> {
        self.usage.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Tokens and dollars of one stage so far (every teacher), for progress display.
    pub fn stage_usage(&self, stage: &str) -> (u64, f64) {
        let usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        usage
            .iter()
            .filter(|((s, _), _)| s == stage)
            .fold((0, 0.0), |(t, c), (_, u)| {
                (t + u.prompt_tokens + u.completion_tokens, c + u.cost)
            })
    }

    pub fn spent(&self) -> f64 {
        self.spend.lock().unwrap_or_else(|e| e.into_inner()).spent
    }
}

fn provider_error(teacher: &ModelDecl, e: ProviderError) -> OpError {
    match e {
        ProviderError::Request(m) => OpError::Record(m),
        ProviderError::Endpoint(m) => OpError::Fatal {
            message: format!("teacher `{}`: {m}", teacher.name),
            help: "check the teacher's endpoint, model and key variable".into(),
        },
        ProviderError::Stopped => OpError::Stopped,
    }
}

/// An answer that knows the tokens it used.
pub trait Answered {
    fn usage(&self) -> Usage;
}

impl Answered for ChatResponse {
    fn usage(&self) -> Usage {
        self.usage
    }
}

impl Answered for ScoreResponse {
    fn usage(&self) -> Usage {
        self.usage
    }
}
