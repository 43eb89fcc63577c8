//! One run per state directory: a second `dtac run` on the same state dir would write the
//! same stage outputs. An OS file lock (released when the process dies, even by SIGKILL)
//! says who holds it.

use std::fs::{File, OpenOptions};
use std::path::Path;

use super::StoreError;

/// Held for the duration of a run.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateLock {
    pub fn acquire(dir: &Path) -> Result<StateLock, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("run.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::CreateDir {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(StateLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Busy {
                path: dir.to_path_buf(),
            }),
            Err(std::fs::TryLockError::Error(source)) => {
                Err(StoreError::CreateDir { path, source })
            }
        }
    }
}
