//! Content hashes: SHA-256 over canonical JSON.
//!
//! serde_json's maps are ordered by key (the `preserve_order` feature is off), so the same
//! value always serializes to the same bytes, whatever order it was built in.

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// The hex SHA-256 of `value`'s canonical JSON.
pub fn hash_json(value: &Json) -> String {
    hash_bytes(value.to_string().as_bytes())
}

pub fn hash_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A short form for record ids and display: the first 16 hex digits (64 bits).
pub fn short(hash: &str) -> &str {
    &hash[..hash.len().min(16)]
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_matter() {
        let mut a = serde_json::Map::new();
        a.insert("b".into(), json!(1));
        a.insert("a".into(), json!(2));
        assert_eq!(
            hash_json(&Json::Object(a)),
            hash_json(&json!({"a": 2, "b": 1}))
        );
        assert_ne!(hash_json(&json!({"a": 1})), hash_json(&json!({"a": 2})));
        assert_eq!(
            hash_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
