//! Helpers for the CLI tests: running the built binary, temp dirs, snapshots.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Codes whose fixtures cannot be plain files in the fixture directory (they need a
/// missing file, a directory, bytes that are not UTF-8, a huge file, or command-line
/// overrides); the tests named beside each exercise them.
pub const CODES_TESTED_ELSEWHERE: &[&str] = &[
    "dta::io::not_found",           // bad_input_never_crashes
    "dta::io::is_directory",        // bad_input_never_crashes
    "dta::io::invalid_utf8",        // bad_input_never_crashes
    "dta::io::unreadable",          // permissions: io_errors_other_than_missing (unix)
    "dta::io::too_large",           // too_large_files_are_refused
    "dta::check::unknown_override", // set_overrides_params
    "dta::check::bad_override",     // set_overrides_params
    "dta::note",                    // imports fixtures (rendered as related notes)
];

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn dtac<S: AsRef<str>>(args: &[S]) -> Run {
    dtac_env(args, &[])
}

pub fn dtac_env<S: AsRef<str>>(args: &[S], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dtac"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args.iter().map(AsRef::as_ref))
        .env("NO_COLOR", "1")
        .env_remove("DTAC_TEST_ENDPOINT")
        .env_remove("DTAC_TEST_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("dtac runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Files with extension `ext` directly in `dir` (relative to the package root), sorted.
pub fn fixtures(dir: &str, ext: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .map(|p| p.strip_prefix(root).expect("inside root").to_path_buf())
        .collect();
    out.sort();
    out
}

/// Compares `actual` with the snapshot at `path` (writing it under `DTAC_BLESS=1`).
pub fn compare_snapshot(path: &Path, actual: &str) -> Result<(), String> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("DTAC_BLESS").is_some() {
        std::fs::write(&full, actual).expect("write snapshot");
        return Ok(());
    }
    let expected = std::fs::read_to_string(&full).unwrap_or_default();
    if expected == actual {
        return Ok(());
    }
    let diff = similar::TextDiff::from_lines(expected.as_str(), actual);
    Err(format!(
        "{}\n{}",
        path.display(),
        diff.unified_diff().header("expected", "actual")
    ))
}

/// Every diagnostic code declared in the source (`code(dta::...)`).
pub fn codes_in_source() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut codes = Vec::new();
    for dir in ["grammar/src", "interpreter/src", "stdlib/src", "src"] {
        collect_codes(&root.join(dir), &mut codes);
    }
    codes.sort();
    codes.dedup();
    codes
}

fn collect_codes(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_codes(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for part in text.split("code(").skip(1) {
                let code: String = part
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == ':' || *c == '_')
                    .collect();
                if code.starts_with("dta::") {
                    out.push(code);
                }
            }
        }
    }
}

/// A temporary directory removed on drop.
pub struct TempDir {
    pub path: String,
}

impl TempDir {
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "dtac-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir {
            path: path.display().to_string(),
        }
    }

    pub fn write(&self, name: &str, text: &str) -> String {
        self.write_bytes(name, text.as_bytes())
    }

    pub fn write_bytes(&self, name: &str, bytes: &[u8]) -> String {
        let p = Path::new(&self.path).join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    }
}

impl TempDir {
    /// Writes a tiny random Qwen3 checkpoint at `rel` (a student's `path`), so that the
    /// recipe's checkpoint checks pass; tests never download a model.
    pub fn tiny_checkpoint(&self, rel: &str) {
        let spec = dtac_numeric::fixtures::TinySpec::new(dtac_numeric::model::Arch::Qwen3);
        dtac_numeric::fixtures::write_tiny_checkpoint(&Path::new(&self.path).join(rel), &spec)
            .expect("tiny checkpoint");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
