//! What the benchmarks against PyTorch share: the pinned virtual environment, running a
//! measuring process that prints one JSON line, and the kernel's peak-memory counters.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned CPU PyTorch the references run on.
pub const TORCH: &str = "torch==2.9.1";

/// The benchmarks' Python: `target/bench-venv`, made with the pinned torch on first use.
pub fn venv() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-venv");
    let python = root.join("bin/python");
    let ready = Command::new(&python)
        .args(["-c", "import torch, safetensors"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        eprintln!("making {} with {TORCH} (once; about 3 GB)", root.display());
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&root)
            .status();
        assert!(made.is_ok_and(|s| s.success()), "python3 -m venv failed");
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "-q", TORCH, "safetensors", "numpy"])
            .status();
        assert!(
            installed.is_ok_and(|s| s.success()),
            "pip install {TORCH} failed"
        );
    }
    python
}

/// Runs `command` and parses the last line of its output as JSON.
pub fn run_json(command: &mut Command) -> serde_json::Value {
    let out = command.output().expect("benchmark process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "no result from {command:?}:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Resets the peak resident size (VmHWM) to the current one (Linux ≥ 4.0).
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A `/proc/self/status` field in bytes (`VmHWM`, `VmRSS`).
pub fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
