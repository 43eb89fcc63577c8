//! Benchmark of the provider path: 2,000 `generate` requests at concurrency 64 against
//! `dtac-testserver` answering each after 100 ms.
//!
//! With that latency the ideal wall time is requests × latency / concurrency = 3.125 s;
//! anything above it is time dtac spent not having 64 requests in flight. The reference,
//! measured in the same run against the same server, is a plain loop: 64 tokio tasks
//! posting the same bodies with reqwest (the HTTP client under async-openai) and parsing
//! each answer. The gap between the two is dtac's own cost: rendering, cache keys, limits,
//! the store's fsync'd commits, channels and records.
//!
//! The server runs as a child process so that its CPU time is not counted in ours. CPU
//! time is read from `/proc/self/stat` (every thread of this process, exited ones
//! included), so the benchmark runs on Linux only.
//!
//! Targets (issue 4): at least 95% of ideal throughput and under 200 µs CPU per request.
//!
//! Run: `cargo bench --bench provider`.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dtac_runtime::exec::RunResult;

const REQUESTS: usize = 2_000;
const CONCURRENCY: usize = 64;
const LATENCY_MS: u64 = 100;
/// Cold runs of each side; the medians are reported, so one slow round (a page-cache
/// miss, a neighbour on this machine) does not decide the result.
const ROUNDS: usize = 3;

fn main() {
    let dir = std::env::temp_dir().join(format!("dtac-bench-provider-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let server = Server::start();
    let base = format!("http://127.0.0.1:{}/v1", server.port);

    std::fs::write(dir.join("data.jsonl"), problems()).expect("write data");
    let recipe = dir.join("bench.dta");
    std::fs::write(&recipe, recipe_text(&base)).expect("write recipe");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ticks = clock_ticks();

    let mut dtac = Vec::new();
    let mut plain = Vec::new();
    for round in 0..ROUNDS {
        let state = dir.join(format!("state{round}"));
        let (cost, result) = measure(ticks, || runtime.block_on(run_dtac(&recipe, &state)));
        let (sent, cached) = usage(&result);
        assert_eq!(
            (sent, cached),
            (REQUESTS as u64, 0),
            "a cold run sends every request once"
        );
        dtac.push(cost);
        let (cost, answered) = measure(ticks, || runtime.block_on(plain_loop(&base)));
        assert_eq!(answered, REQUESTS);
        plain.push(cost);
    }
    // The first round's state dir holds every stage output: a rerun replays the stage.
    let state = dir.join("state0");
    let (warm_stage, result) = measure(ticks, || runtime.block_on(run_dtac(&recipe, &state)));
    assert_eq!(
        usage(&result),
        (0, REQUESTS as u64),
        "a warm rerun sends nothing"
    );
    assert!(
        result.stages.iter().all(|s| s.cached),
        "every stage replayed"
    );
    // New record ids change the data file's digest, so every stage runs again, but the
    // rendered prompts are unchanged: each request is answered from the response cache.
    std::fs::write(dir.join("data.jsonl"), problems().replace("\"p", "\"q")).expect("data");
    let (warm_requests, result) = measure(ticks, || runtime.block_on(run_dtac(&recipe, &state)));
    assert_eq!(
        usage(&result),
        (0, REQUESTS as u64),
        "every answer from the store"
    );
    assert!(
        result.stages.iter().all(|s| !s.cached),
        "the stages ran again"
    );

    let dtac = Cost::median(dtac);
    let plain = Cost::median(plain);
    let ideal = REQUESTS as f64 * LATENCY_MS as f64 / 1e3 / CONCURRENCY as f64;
    let share = ideal / dtac.wall.as_secs_f64();
    let per_request = dtac.cpu.as_secs_f64() / REQUESTS as f64 * 1e6;

    println!(
        "provider: {REQUESTS} requests, concurrency {CONCURRENCY}, server latency {LATENCY_MS} ms \
         (median of {ROUNDS} cold runs; CPU clock {ticks} ticks/s)"
    );
    println!(
        "  ideal          wall {:>8.1} ms  (requests × latency / concurrency)",
        ideal * 1e3
    );
    row("dtac run", &dtac, ideal);
    row("plain loop", &plain, ideal);
    println!(
        "  ratio dtac/plain: wall {:.3}x, CPU {:.1}x",
        dtac.wall.as_secs_f64() / plain.wall.as_secs_f64(),
        dtac.cpu.as_secs_f64() / plain.cpu.as_secs_f64().max(1e-9)
    );
    println!("  requests sent by dtac per cold run: {REQUESTS} (from the stage's usage; 0 cached)");
    println!(
        "  warm rerun, stage replayed from the store        wall {:>7.1} ms  CPU {:>7.1} ms",
        ms(warm_stage.wall),
        ms(warm_stage.cpu)
    );
    println!(
        "  warm rerun, stage runs, responses from the store wall {:>7.1} ms  CPU {:>7.1} ms  \
         ({:.0} µs/request, 0 sent)",
        ms(warm_requests.wall),
        ms(warm_requests.cpu),
        warm_requests.cpu.as_secs_f64() / REQUESTS as f64 * 1e6
    );
    println!(
        "  targets: throughput {:.1}% of ideal (≥ 95%: {}); CPU {:.0} µs/request (< 200 µs: {})",
        share * 100.0,
        verdict(share >= 0.95),
        per_request,
        verdict(per_request < 200.0)
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

fn row(name: &str, cost: &Cost, ideal: f64) {
    println!(
        "  {name:<14} wall {:>8.1} ms  {:>5.1}% of ideal  CPU {:>7.1} ms  {:>5.0} µs/request",
        ms(cost.wall),
        ideal / cost.wall.as_secs_f64() * 100.0,
        ms(cost.cpu),
        cost.cpu.as_secs_f64() / REQUESTS as f64 * 1e6
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

fn problems() -> String {
    (0..REQUESTS)
        .map(|i| {
            format!(
                "{{\"id\":\"p{i}\",\"question\":\"What is {i} + {i}?\",\"answer\":\"{}\"}}\n",
                2 * i
            )
        })
        .collect()
}

fn recipe_text(base: &str) -> String {
    format!(
        r#"version = 1
teacher t1 {{ model = "m1", endpoint = "{base}", max_concurrency = {CONCURRENCY} }}
dataset train: jsonl("data.jsonl") {{ schema = {{ id: str, question: str, answer: str }} }}
prompt solve """
    Solve: {{{{question}}}} The answer is {{{{answer}}}}.
    """
stage candidates: generate(train) {{ teachers = [t1], prompt = solve, n = 1, concurrency = {CONCURRENCY} }}
"#
    )
}

/// One complete run, checking and resolving included (the same whatever the provider
/// does; `benches/check.rs` measures them).
async fn run_dtac(recipe: &Path, state: &Path) -> RunResult {
    let result = support::execute(support::resolved(recipe), state).await;
    for stage in &result.stages {
        assert_eq!(stage.errors, 0, "stage `{}` lost records", stage.name);
    }
    result
}

/// Requests sent and requests answered from the response cache, over every stage.
fn usage(result: &RunResult) -> (u64, u64) {
    let mut sent = 0;
    let mut cached = 0;
    for stage in &result.stages {
        for u in stage.usage.values() {
            sent += u.requests;
            cached += u.cached;
        }
    }
    (sent, cached)
}

/// The reference: the same requests from 64 tasks sharing one keep-alive client, each
/// answer parsed as JSON as dtac parses it. Returns how many were answered with 200.
async fn plain_loop(base: &str) -> usize {
    let client = reqwest::Client::new();
    let url = format!("{base}/chat/completions");
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url, next) = (client.clone(), url.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut answered = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= REQUESTS {
                    return answered;
                }
                let body = serde_json::json!({
                    "model": "m1",
                    "messages": [{
                        "role": "user",
                        "content": format!("Solve: What is {i} + {i}? The answer is {}.", 2 * i),
                    }],
                    "seed": 0,
                });
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .expect("request");
                let ok = response.status().is_success();
                let bytes = response.bytes().await.expect("body");
                let answer: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
                if ok && answer["choices"][0]["message"]["content"].is_string() {
                    answered += 1;
                }
            }
        }));
    }
    let mut answered = 0;
    for t in tasks {
        answered += t.await.expect("task");
    }
    answered
}

/// Wall and CPU time of one measured piece of work.
#[derive(Clone, Copy, Debug)]
struct Cost {
    wall: Duration,
    cpu: Duration,
}

impl Cost {
    /// Medians of wall and CPU time, taken separately.
    fn median(costs: Vec<Cost>) -> Cost {
        let mut walls: Vec<Duration> = costs.iter().map(|c| c.wall).collect();
        let mut cpus: Vec<Duration> = costs.iter().map(|c| c.cpu).collect();
        walls.sort();
        cpus.sort();
        Cost {
            wall: walls[walls.len() / 2],
            cpu: cpus[cpus.len() / 2],
        }
    }
}

fn measure<T>(ticks: u64, work: impl FnOnce() -> T) -> (Cost, T) {
    let cpu_before = cpu_ticks();
    let start = Instant::now();
    let out = work();
    let wall = start.elapsed();
    let cpu = Duration::from_secs_f64((cpu_ticks() - cpu_before) as f64 / ticks as f64);
    (Cost { wall, cpu }, out)
}

/// User plus system time of this process, in clock ticks, from `/proc/self/stat`.
/// `getrusage` would need `unsafe`, which the workspace denies outside kernels.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat (Linux only)");
    // The command name (field 2) may hold spaces; the fields after its `)` are regular.
    let rest = &stat[stat.rfind(')').expect("stat format") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `rest` starts at field 3.
    let utime: u64 = fields[11].parse().expect("utime");
    let stime: u64 = fields[12].parse().expect("stime");
    utime + stime
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), asked of `getconf` because calling
/// `sysconf` needs `unsafe`; 100, Linux's value on every common architecture, if that fails.
fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `dtac-testserver` as a child process, killed when dropped (a failed assertion
/// included), so no server outlives the benchmark.
#[derive(Debug)]
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Server {
        let child = Command::new(server_binary())
            .args(["--port", "0", "--latency-ms", &LATENCY_MS.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("dtac-testserver starts");
        // Guarded before anything can fail, so a bad first line still kills the child.
        let mut server = Server { child, port: 0 };
        let stdout = server.child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let port = read
            .ok()
            .and_then(|_| line.trim().strip_prefix("listening on http://127.0.0.1:"))
            .and_then(|rest| rest.strip_suffix("/v1"))
            .and_then(|port| port.parse().ok());
        server.port = port.unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds `dtac-testserver` in release mode (a no-op when it is up to date) and returns
/// its path. `cargo bench` builds only this package's dev-dependency libraries, not their
/// binaries, so the benchmark asks cargo itself.
fn server_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "dtac-testkit",
            "--bin",
            "dtac-testserver",
        ])
        .current_dir(root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building dtac-testserver failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = if target.is_relative() {
        root.join(target)
    } else {
        target
    };
    target.join("release").join("dtac-testserver")
}
