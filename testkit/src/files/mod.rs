//! Files: the in-memory store, the multipart parser uploads need, and `/v1/files`.
//!
//! Files exist for the Batch API: a client uploads a JSONL input file, and the server
//! writes each batch's results as output and error files the client downloads.

pub(crate) mod api;
mod multipart;
mod store;

pub(crate) use store::FileStore;
