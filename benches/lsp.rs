//! Benchmark: `dtac lsp`, from a `didChange` to the `publishDiagnostics` it causes, on a
//! generated 2,000-line recipe (goal: under 50 ms).
//!
//! Measured against `check_text` alone on the same text in the same run, so the ratio
//! shows what the server adds (framing, JSON, UTF-16 positions, scheduling) over the check
//! itself. Edits are spaced past the server's quiet period, as a user's pauses are; a
//! burst of back-to-back edits is timed too, from its last edit, which by design waits
//! for the quiet period. Run: `cargo bench --bench lsp`.

// The test client: only its message framing is used here.
#[path = "../tests/support/lsp_client.rs"]
#[allow(dead_code)]
mod lsp_client;

use std::fmt::Write as _;
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use dtac_interpreter::{check_text, CheckOptions};
use lsp_client::read_message;
use serde_json::{json, Value};

const LINES: usize = 2_000;
const EDITS: usize = 30;
/// The server's default quiet period; edits spaced wider are each checked at once.
const QUIET: Duration = Duration::from_millis(150);

/// A recipe of about `lines` lines: generate → verify pairs, each stage over three lines.
fn recipe(lines: usize) -> String {
    let mut s = String::from(
        "version = 1\nparam samples: int = 4\nteacher gpt { model = \"gpt-4o\", rpm = 500 }\n\
         dataset train: jsonl(\"train.jsonl\") { schema = { id: str, question: str, answer: str } }\n\
         prompt solve \"\"\"\n    Solve: {{question}} (answer: {{answer}})\n    \"\"\"\n",
    );
    let mut previous = "train".to_string();
    let mut i = 0;
    while s.lines().count() + 1 < lines {
        let _ = writeln!(
            s,
            "stage gen{i}: generate({previous}) {{\n    teachers = [gpt], prompt = solve, n = samples\n}}\n\
             stage ver{i}: verify(gen{i}) {{\n    answer = train.answer\n}}"
        );
        previous = format!("ver{i}");
        i += 1;
    }
    let _ = writeln!(s, "export {previous} to \"out.jsonl\" as jsonl");
    s
}

struct Server {
    stdin: std::process::ChildStdin,
    incoming: Receiver<Value>,
    child: std::process::Child,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dtac"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("dtac lsp starts");
        let stdin = child.stdin.take().unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = channel();
        std::thread::spawn(move || {
            while let Some(msg) = read_message(&mut reader) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            stdin,
            incoming,
            child,
        };
        server.send(json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
                            "params": { "processId": null, "rootUri": null, "capabilities": {} } }));
        server.wait_for(|m| m["id"] == 1);
        server.notify("initialized", json!({}));
        server
    }

    fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn wait_for(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        loop {
            let msg = self
                .incoming
                .recv_timeout(Duration::from_secs(30))
                .expect("the server answers");
            if want(&msg) {
                return msg;
            }
        }
    }

    fn diagnostics_for(&mut self, version: i64) -> Value {
        self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version
        })
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version },
                    "contentChanges": [{ "text": text }] }),
        );
    }

    fn stop(mut self) {
        self.send(json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }));
        self.wait_for(|m| m["id"] == 2);
        self.notify("exit", Value::Null);
        let _ = self.child.wait();
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let text = recipe(LINES);
    let lines = text.lines().count();
    let dir = std::env::temp_dir().join(format!("dtac-bench-lsp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.dta");
    std::fs::write(&path, &text).unwrap();
    let uri = format!("file://{}", path.display());
    // Each edit changes the text; every other one breaks a name, so half the checks
    // publish a diagnostic.
    let edited = |i: usize| {
        if i.is_multiple_of(2) {
            format!("{text}# edit {i}\n")
        } else {
            text.replacen("teachers = [gpt]", "teachers = [gtp]", 1)
        }
    };

    let registry = dtac_stdlib::registry();
    let options = CheckOptions::default();
    let check_alone = median(
        (0..EDITS)
            .map(|i| {
                let t = Instant::now();
                let checked = check_text(Path::new(&path), &edited(i), &registry, &options);
                let elapsed = t.elapsed();
                assert_eq!(checked.has_errors(), !i.is_multiple_of(2));
                elapsed
            })
            .collect(),
    );

    let mut server = Server::start();
    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "dta", "version": 0, "text": text } }),
    );
    server.diagnostics_for(0);
    let mut version = 0;
    let mut samples = Vec::new();
    for i in 0..EDITS {
        std::thread::sleep(QUIET + Duration::from_millis(50));
        version += 1;
        let new = edited(i);
        let t = Instant::now();
        server.change(&uri, version, &new);
        let published = server.diagnostics_for(version);
        samples.push(t.elapsed());
        let count = published["params"]["diagnostics"].as_array().unwrap().len();
        assert_eq!(count, i % 2, "edit {i}");
    }
    let worst = *samples.iter().max().unwrap();
    let lsp = median(samples);

    std::thread::sleep(QUIET * 2);
    let burst = 20;
    for i in 0..burst {
        version += 1;
        server.change(&uri, version, &edited(i));
    }
    let t = Instant::now();
    server.diagnostics_for(version);
    let after_burst = t.elapsed();
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);

    println!("recipe: {lines} lines, {} bytes", text.len());
    println!(
        "check_text alone:                      {} (median of {EDITS})",
        ms(check_alone)
    );
    println!(
        "didChange → publishDiagnostics:        {} (median of {EDITS}; worst {}), {:.2}× check_text; goal < 50 ms",
        ms(lsp),
        ms(worst),
        lsp.as_secs_f64() / check_alone.as_secs_f64()
    );
    println!(
        "last of {burst} back-to-back edits → diagnostics: {} (includes the {} quiet period)",
        ms(after_burst),
        ms(QUIET)
    );
}
