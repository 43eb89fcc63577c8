//! Model requests: their canonical shape and key, the provider interface, prices, and the
//! gateway that puts the response cache in front of every provider.

pub mod gateway;
pub mod price;
pub mod provider;
pub mod request;

pub use gateway::{Gateway, UsageStats};
pub use price::{price_of, Price};
pub use provider::{Provider, ProviderError, ProviderFactory};
pub use request::{ChatRequest, ChatResponse, Message, Usage};
