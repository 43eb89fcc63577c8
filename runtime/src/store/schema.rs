//! The store's tables. Versioned: a store written by a newer dtac is refused rather than
//! misread.

use rusqlite::Connection;

const VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outputs (
    stage_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    gkey TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (stage_key, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outputs_by_group ON outputs (stage_key, gkey, seq);
CREATE TABLE IF NOT EXISTS stages (
    stage_key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    records INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    summary TEXT NOT NULL,
    finished_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS record_errors (
    stage_key TEXT NOT NULL,
    record_id TEXT NOT NULL,
    error TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS record_errors_by_stage ON record_errors (stage_key);
CREATE TABLE IF NOT EXISTS definitions (
    recipe TEXT NOT NULL,
    stage TEXT NOT NULL,
    stage_key TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (recipe, stage)
);
CREATE TABLE IF NOT EXISTS digests (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS used (
    stage_key TEXT NOT NULL,
    request_key TEXT NOT NULL,
    PRIMARY KEY (stage_key, request_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS samples (
    stage TEXT PRIMARY KEY,
    offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
";

pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > VERSION {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "it was written by a newer dtac (store version {version}, this dtac reads {VERSION})"
        )));
    }
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(&format!("PRAGMA user_version = {VERSION}"))?;
    Ok(())
}
