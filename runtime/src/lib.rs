//! dtac's runtime: runs a resolved recipe.
//!
//! - [`exec`]: the streaming executor (tokio tasks, bounded channels).
//! - [`op`]: the interface op implementations provide.
//! - [`keys`]: stage cache keys over normalized definitions.
//! - [`store`]: the embedded run store (SQLite, WAL) with the response cache.
//! - [`llm`]: model requests through the response cache.
//! - [`record`]: records and their provenance.

pub mod cache_file;
pub mod exec;
pub mod hash;
pub mod keys;
pub mod llm;
pub mod lockfile;
pub mod op;
pub mod plan;
pub mod progress;
pub mod record;
pub mod report;
pub mod session;
pub mod stop;
pub mod store;
