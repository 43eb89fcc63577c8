//! The run store: one SQLite database in WAL mode under the state dir (`.dtac/` beside
//! the recipe by default), created on first use.
//!
//! It holds the response cache (every LLM answer by request key), each stage's output
//! records by stage key, per-record errors, the last definition of every stage (so a plan
//! can say what changed), file digests and run history.
//!
//! Writes go through one writer thread that commits in groups (see [`writer`]): many
//! concurrent requests share one fsync, and a response is acknowledged only once it is
//! durable. Reads open their own connections; WAL lets them run beside the writer.

mod lock;
pub mod read;
mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

pub use lock::StateLock;
pub use read::{StageRow, StoredResponse};
pub use writer::{OutputRow, Writer};

/// Everything that can go wrong with the state dir, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the state directory `{path}`: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the run store `{path}` cannot be used: {message}")]
    Sqlite { path: PathBuf, message: String },
    #[error("another dtac run is using the state directory `{path}`")]
    Busy { path: PathBuf },
    #[error("the run store's writer stopped: {0}")]
    WriterGone(String),
}

impl StoreError {
    pub fn help(&self) -> String {
        match self {
            StoreError::CreateDir { .. } => {
                "check the permissions, or choose another directory with `--state-dir`".into()
            }
            StoreError::Sqlite { .. } => {
                "check free disk space and permissions; if the file is damaged, move the state \
                 directory away (answers already paid for are in it) and run again"
                    .into()
            }
            StoreError::Busy { .. } => {
                "wait for the other run to finish, or use another `--state-dir`".into()
            }
            StoreError::WriterGone(_) => "check free disk space, then run again".into(),
        }
    }
}

/// An open run store.
#[derive(Debug, Clone)]
pub struct Store {
    path: Arc<PathBuf>,
    writer: Writer,
    /// Idle read connections, reused: opening one costs more than most queries.
    readers: Arc<Mutex<Vec<Connection>>>,
}

pub const DB_FILE: &str = "store.sqlite";

impl Store {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        let conn = open_conn(&path, false)?;
        schema::migrate(&conn).map_err(|e| sqlite_err(&path, e))?;
        let writer = Writer::start(conn, path.clone());
        Ok(Store {
            path: Arc::new(path),
            writer,
            readers: Arc::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Runs a query on a pooled read connection. Point queries take microseconds, so async
    /// callers run them in place rather than on a blocking thread.
    pub fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => self.reader()?,
        };
        let result = f(&conn).map_err(|e| sqlite_err(&self.path, e));
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        result
    }

    /// A connection for reading. Each blocking reader uses its own.
    pub fn reader(&self) -> Result<Connection, StoreError> {
        open_conn(&self.path, true)
    }
}

fn open_conn(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(|e| sqlite_err(path, e))?;
    let pragmas = if read_only {
        "PRAGMA busy_timeout = 10000;"
    } else {
        // FULL: a commit reaches the disk before it is acknowledged, so an answer that was
        // paid for survives a power cut, not only a killed process.
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;"
    };
    conn.execute_batch(pragmas)
        .map_err(|e| sqlite_err(path, e))?;
    Ok(conn)
}

pub(crate) fn sqlite_err(path: &Path, e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}
