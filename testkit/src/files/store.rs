//! The server's files: uploads and the batch result files it writes itself, in memory.
//!
//! Ids count up from 1 per server (`file-testkit00000001`, ...), so a test that uploads
//! the same things in the same order sees the same ids on every run.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use hyper::body::Bytes;
use serde_json::{json, Value};

use crate::completion::now_secs;

/// One stored file. Cloning is cheap: the contents are shared.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub(crate) id: String,
    pub(crate) filename: String,
    pub(crate) purpose: String,
    pub(crate) created_at: u32,
    pub(crate) data: Bytes,
}

impl StoredFile {
    /// The OpenAI file object.
    pub(crate) fn object(&self) -> Value {
        json!({
            "id": self.id,
            "object": "file",
            "bytes": self.data.len(),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": null,
        })
    }
}

#[derive(Debug, Default)]
pub(crate) struct FileStore {
    next: AtomicU64,
    files: Mutex<BTreeMap<String, StoredFile>>,
}

impl FileStore {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, StoredFile>> {
        // Every update is one insert or remove, so a poisoned map is still consistent.
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores a file under a fresh id and returns it.
    pub(crate) fn add(&self, filename: &str, purpose: &str, data: Bytes) -> StoredFile {
        let n = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let file = StoredFile {
            id: format!("file-testkit{n:08x}"),
            filename: filename.to_string(),
            purpose: purpose.to_string(),
            created_at: now_secs(),
            data,
        };
        self.lock().insert(file.id.clone(), file.clone());
        file
    }

    pub(crate) fn get(&self, id: &str) -> Option<StoredFile> {
        self.lock().get(id).cloned()
    }

    pub(crate) fn remove(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }

    /// Every file, oldest first.
    pub(crate) fn list(&self) -> Vec<StoredFile> {
        // Ids are zero-padded counters, so the map's order is creation order.
        self.lock().values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_up_and_removal_sticks() {
        let store = FileStore::default();
        let a = store.add("a.jsonl", "batch", Bytes::from_static(b"x"));
        let b = store.add("b.jsonl", "batch", Bytes::from_static(b"yz"));
        assert_eq!(a.id, "file-testkit00000001");
        assert_eq!(b.object()["bytes"], 2);
        assert!(store.remove(&a.id));
        assert!(!store.remove(&a.id));
        assert!(store.get(&a.id).is_none());
        assert_eq!(store.list().len(), 1);
    }
}
