//! The `dtac-testserver` binary: first line, serving, flags, exit codes.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dtac-testserver");

/// Kills the child even when an assertion fails first.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn prints_its_address_and_serves() {
    let mut child = Child(
        Command::new(BIN)
            .args([
                "--port",
                "0",
                "--latency-ms",
                "1",
                "--fail-rate",
                "1",
                "--fail-kind",
                "429-detail",
                "--seed",
                "1",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.strip_suffix("/v1"))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let addr: SocketAddr = url.parse().unwrap();
    assert!(addr.ip().is_loopback());
    let r = common::post(addr, "/v1/chat/completions", &common::chat_body("m", "x")).await;
    assert_eq!(r.status, 429);
    assert!(r.json()["detail"].is_string());
}

#[test]
fn help_and_bad_arguments() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    let usage = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--latency-ms",
        "--batch-delay-ms",
        "--batch-expire-after",
        "STATUS-vllm",
    ] {
        assert!(usage.contains(flag), "{flag}");
    }
    for bad in [
        &["--port", "nope"][..],
        &["--fail-rate", "1.5"],
        &["--what"],
        &["--seed"],
    ] {
        let out = Command::new(BIN).args(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(!out.stderr.is_empty());
    }
}
