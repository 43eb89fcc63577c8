//! Model requests: their canonical shape and key, the provider interface, prices, and the
//! gateway that puts the response cache in front of every provider.

pub mod gateway;
pub mod price;
pub mod provider;
pub mod request;
pub mod schema;
pub mod structured;

pub use gateway::{Answered, Gateway, UsageStats};
pub use price::{price_of, Price};
pub use provider::{Caller, Provider, ProviderEnv, ProviderError, ProviderFactory};
pub use request::{ChatRequest, ChatResponse, Message, ScoreRequest, ScoreResponse, Usage};
pub use structured::Structured;
