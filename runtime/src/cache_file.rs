//! Portable response caches: `dtac cache export` writes every request and response a
//! recipe used, one JSON object per line (zstd-compressed when the file name ends in
//! `.zst`); `dtac cache import` loads such a file into a state dir. With the recipe and
//! its lockfile, another machine then reproduces the run offline, byte for byte.
//!
//! Each line is `{"key", "request", "response", "prompt_tokens", "completion_tokens"}`.
//! Lines are sorted by key, so the same cache exports to the same bytes. On import every
//! key is recomputed from its request: a line whose key does not match is refused, so a
//! damaged or edited file cannot answer the wrong request.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::exec::write_atomically;
use crate::llm::{ChatRequest, ChatResponse};
use crate::session::Prepared;
use crate::store::{read, Store};

#[derive(Debug, Serialize, Deserialize)]
struct Line {
    key: String,
    request: ChatRequest,
    response: ChatResponse,
    prompt_tokens: u64,
    completion_tokens: u64,
}

/// Why an import or export failed, with the line when it is the file's fault.
#[derive(Debug, thiserror::Error)]
pub enum CacheFileError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("`{path}` line {line}: {message}")]
    Line {
        path: String,
        line: u64,
        message: String,
    },
    #[error("{0}")]
    Store(String),
}

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Writes the responses used by the prepared recipe's current stages to `path`.
pub fn export(prepared: &Prepared, path: &Path) -> Result<u64, CacheFileError> {
    let store_err = |e: crate::store::StoreError| CacheFileError::Store(e.to_string());
    let mut keys = BTreeSet::new();
    for key in prepared.keys.values() {
        let used = prepared
            .store
            .with_reader(|c| read::used(c, &key.key))
            .map_err(store_err)?;
        keys.extend(used);
    }
    let compress = path.extension().is_some_and(|e| e == "zst");
    let store = &prepared.store;
    write_atomically(path, |out| {
        if compress {
            let mut enc = zstd::stream::Encoder::new(out, 9)?;
            let n = write_lines(store, &keys, &mut enc)?;
            enc.finish()?;
            Ok(n)
        } else {
            write_lines(store, &keys, out)
        }
    })
    .map_err(|source| CacheFileError::Write {
        path: path.display().to_string(),
        source,
    })
}

fn write_lines(
    store: &Store,
    keys: &BTreeSet<String>,
    out: &mut dyn Write,
) -> std::io::Result<u64> {
    let mut n = 0;
    for key in keys {
        let row = store
            .with_reader(|c| {
                c.prepare_cached("SELECT request, response, prompt_tokens, completion_tokens FROM responses WHERE key = ?1")?
                    .query_row([key], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
                    })
                    .map(Some)
                    .or_else(|e| match e {
                        rusqlite::Error::QueryReturnedNoRows => Ok(None),
                        e => Err(e),
                    })
            })
            .map_err(std::io::Error::other)?;
        // A used key without a response: the request failed; nothing to carry.
        let Some((request, response, p, c)) = row else {
            continue;
        };
        let line = serde_json::json!({
            "key": key,
            "request": serde_json::from_str::<serde_json::Value>(&request).map_err(std::io::Error::other)?,
            "response": serde_json::from_str::<serde_json::Value>(&response).map_err(std::io::Error::other)?,
            "prompt_tokens": p,
            "completion_tokens": c,
        });
        writeln!(out, "{line}")?;
        n += 1;
    }
    Ok(n)
}

/// Loads a cache file into `store`. Returns (lines read, responses new to the store).
pub async fn import(store: &Store, path: &Path) -> Result<(u64, u64), CacheFileError> {
    let shown = path.display().to_string();
    let read_err = |source| CacheFileError::Read {
        path: shown.clone(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let mut magic = [0u8; 4];
    let got = file.read(&mut magic).map_err(read_err)?;
    let file = File::open(path).map_err(read_err)?;
    let reader: Box<dyn BufRead> = if got == 4 && magic == ZSTD_MAGIC {
        Box::new(BufReader::new(
            zstd::stream::Decoder::new(file).map_err(read_err)?,
        ))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut rows = Vec::new();
    let mut lines = 0;
    for (i, line) in reader.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| CacheFileError::Line {
            path: shown.clone(),
            line: line_no,
            message: format!("unreadable ({e}); is this a dtac cache file?"),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(&line).map_err(|e| CacheFileError::Line {
            path: shown.clone(),
            line: line_no,
            message: format!("not a cache entry: {e}"),
        })?;
        if parsed.request.key() != parsed.key {
            return Err(CacheFileError::Line {
                path: shown.clone(),
                line: line_no,
                message: "its key does not match its request (the file was changed)".into(),
            });
        }
        lines += 1;
        rows.push((
            parsed.key,
            serde_json::to_string(&parsed.request).unwrap_or_default(),
            serde_json::to_string(&parsed.response).unwrap_or_default(),
            parsed.prompt_tokens,
            parsed.completion_tokens,
        ));
    }
    let before = count(store)?;
    for chunk in rows.chunks(2048) {
        store
            .writer()
            .import_responses(chunk.to_vec())
            .await
            .map_err(|e| CacheFileError::Store(e.to_string()))?;
    }
    let after = count(store)?;
    Ok((lines, after.saturating_sub(before)))
}

fn count(store: &Store) -> Result<u64, CacheFileError> {
    store
        .with_reader(|c| c.query_row("SELECT COUNT(*) FROM responses", [], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .map_err(|e| CacheFileError::Store(e.to_string()))
}
