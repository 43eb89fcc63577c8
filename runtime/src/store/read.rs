//! Queries on a read connection. Each is a plain function over a [`Connection`] so the
//! caller decides which thread blocks on it.

use rusqlite::{params, Connection, OptionalExtension};

/// A cached LLM response and its usage.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub response: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// A finished stage.
#[derive(Debug, Clone)]
pub struct StageRow {
    pub records: u64,
    pub errors: u64,
    /// The stage's summary as JSON (counts, drops by reason, usage).
    pub summary: String,
}

pub fn response(conn: &Connection, key: &str) -> rusqlite::Result<Option<StoredResponse>> {
    conn.prepare_cached(
        "SELECT response, prompt_tokens, completion_tokens FROM responses WHERE key = ?1",
    )?
    .query_row(params![key], |r| {
        Ok(StoredResponse {
            response: r.get(0)?,
            prompt_tokens: r.get::<_, i64>(1)? as u64,
            completion_tokens: r.get::<_, i64>(2)? as u64,
        })
    })
    .optional()
}

pub fn has_response(conn: &Connection, key: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM responses WHERE key = ?1")?
        .exists(params![key])
}

/// Every stored response: `(key, request, response, prompt_tokens, completion_tokens)`.
pub fn for_each_response(
    conn: &Connection,
    mut f: impl FnMut(&str, &str, &str, u64, u64) -> std::io::Result<()>,
) -> rusqlite::Result<std::io::Result<u64>> {
    let mut stmt = conn.prepare(
        "SELECT key, request, response, prompt_tokens, completion_tokens FROM responses ORDER BY key",
    )?;
    let mut rows = stmt.query([])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let (k, q, a): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let (p, c): (i64, i64) = (r.get(3)?, r.get(4)?);
        if let Err(e) = f(&k, &q, &a, p as u64, c as u64) {
            return Ok(Err(e));
        }
        n += 1;
    }
    Ok(Ok(n))
}

pub fn stage(conn: &Connection, stage_key: &str) -> rusqlite::Result<Option<StageRow>> {
    conn.prepare_cached("SELECT records, errors, summary FROM stages WHERE stage_key = ?1")?
        .query_row(params![stage_key], |r| {
            Ok(StageRow {
                records: r.get::<_, i64>(0)? as u64,
                errors: r.get::<_, i64>(1)? as u64,
                summary: r.get(2)?,
            })
        })
        .optional()
}

/// Output rows `seq >= from`, at most `limit`, in order.
pub fn outputs(
    conn: &Connection,
    stage_key: &str,
    from: u64,
    limit: u64,
) -> rusqlite::Result<Vec<(u64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, data FROM outputs WHERE stage_key = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![stage_key, from as i64, limit as i64], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
    })?;
    rows.collect()
}

/// The group keys of a stage's outputs, in order of first appearance.
pub fn groups(conn: &Connection, stage_key: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT gkey FROM outputs WHERE stage_key = ?1 GROUP BY gkey ORDER BY MIN(seq)",
    )?;
    let rows = stmt.query_map(params![stage_key], |r| r.get(0))?;
    rows.collect()
}

/// One group's rows, in order.
pub fn group(conn: &Connection, stage_key: &str, gkey: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT data FROM outputs WHERE stage_key = ?1 AND gkey = ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![stage_key, gkey], |r| r.get(0))?;
    rows.collect()
}

/// The key and definition a stage had when it last ran from this recipe.
pub fn definition(
    conn: &Connection,
    recipe: &str,
    stage: &str,
) -> rusqlite::Result<Option<(String, String)>> {
    conn.prepare_cached(
        "SELECT stage_key, definition FROM definitions WHERE recipe = ?1 AND stage = ?2",
    )?
    .query_row(params![recipe, stage], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

/// A file's digest as last computed, if its size and modification time are unchanged.
pub fn digest(
    conn: &Connection,
    path: &str,
    size: u64,
    mtime_ns: i64,
) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT digest FROM digests WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3",
    )?
    .query_row(params![path, size as i64, mtime_ns], |r| r.get(0))
    .optional()
}

pub fn sample_offset(conn: &Connection, stage: &str) -> rusqlite::Result<u64> {
    Ok(conn
        .prepare_cached("SELECT offset FROM samples WHERE stage = ?1")?
        .query_row(params![stage], |r| r.get::<_, i64>(0))
        .optional()?
        .unwrap_or(0) as u64)
}

/// Up to `limit` recorded errors of a stage: `(record id, error)`.
pub fn record_errors(
    conn: &Connection,
    stage_key: &str,
    limit: u64,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT record_id, error FROM record_errors WHERE stage_key = ?1 LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![stage_key, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    rows.collect()
}

/// The request keys a stage used.
pub fn used(conn: &Connection, stage_key: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT request_key FROM used WHERE stage_key = ?1")?;
    let rows = stmt.query_map(params![stage_key], |r| r.get(0))?;
    rows.collect()
}

/// Every stored job of a kind, as `(id, data)`, oldest first.
pub fn jobs(conn: &Connection, kind: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, data FROM jobs WHERE kind = ?1 ORDER BY created_at, id")?;
    let rows = stmt.query_map(params![kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}
