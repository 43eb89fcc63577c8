//! A temporary JSON Lines file of rows, for the exports that must see every row before
//! writing the first: a CSV header made of the union of all fields, a Parquet schema that
//! fits every value.
//!
//! The runtime hands an exporter a stream of records it can walk only once, and a stage
//! may hold more records than fit in memory, so those exports write the rows here on a
//! first pass and read them back on a second: memory stays at one row, and the disk holds
//! the rows once more, as compact JSON, until the export ends.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value as Json};

/// Distinguishes the spools of one process (several exports may run at once).
static NEXT: AtomicU64 = AtomicU64::new(0);

/// Rows written once, then read back in order; the file is removed when dropped.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    rows: u64,
}

impl Spool {
    /// A new empty spool in the system's temporary directory.
    pub fn new() -> std::io::Result<Spool> {
        let dir = std::env::temp_dir();
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("dtac-export-{}-{n}.jsonl", std::process::id()));
            // `create_new`: never reuse a file some other process left under this name.
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(Spool {
                        path,
                        writer: Some(BufWriter::new(file)),
                        rows: 0,
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(std::io::Error::new(
                        e.kind(),
                        format!("cannot create a temporary file in `{}`: {e}", dir.display()),
                    ))
                }
            }
        }
    }

    pub fn push(&mut self, row: &Map<String, Json>) -> std::io::Result<()> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(std::io::Error::other("internal error: spool already read"));
        };
        serde_json::to_writer(&mut *writer, row)?;
        writer.write_all(b"\n")?;
        self.rows += 1;
        Ok(())
    }

    /// How many rows were pushed.
    pub fn len(&self) -> u64 {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The rows, in the order they were pushed. The spool is finished: no more pushes.
    pub fn rows(&mut self) -> std::io::Result<SpoolRows<'_>> {
        if let Some(writer) = self.writer.take() {
            writer.into_inner().map_err(|e| e.into_error())?;
        }
        let file = File::open(&self.path)?;
        Ok(SpoolRows {
            lines: BufReader::new(file),
            line: String::new(),
            _spool: self,
        })
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        // Best effort: a leftover file in the temporary directory is harmless.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads a spool's rows back; borrows the spool so the file outlives the reading.
#[derive(Debug)]
pub struct SpoolRows<'a> {
    lines: BufReader<File>,
    line: String,
    _spool: &'a Spool,
}

impl Iterator for SpoolRows<'_> {
    type Item = std::io::Result<Map<String, Json>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.line.clear();
        match self.lines.read_line(&mut self.line) {
            Ok(0) => None,
            Ok(_) => Some(serde_json::from_str(&self.line).map_err(std::io::Error::other)),
            Err(e) => Some(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_back_in_order_and_the_file_goes_away() {
        let mut spool = Spool::new().unwrap();
        for i in 0..3 {
            let mut row = Map::new();
            row.insert("i".into(), i.into());
            row.insert("text".into(), "line\nbreak".into());
            spool.push(&row).unwrap();
        }
        assert_eq!(spool.len(), 3);
        let path = spool.path.clone();
        let back: Vec<_> = spool.rows().unwrap().map(Result::unwrap).collect();
        assert_eq!(back.len(), 3);
        assert_eq!(back[2]["i"], 2);
        assert_eq!(back[0]["text"], "line\nbreak");
        assert!(
            spool.push(&Map::new()).is_err(),
            "a read spool takes no rows"
        );
        drop(spool);
        assert!(!path.exists());
    }
}
