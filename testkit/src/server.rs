//! The HTTP server: [`TestServer`], its accept loop and request routing.
//!
//! Answering requests are handled here; `/v1/files` and `/v1/batches` are routed to
//! their own modules.
//!
//! Plain hyper 1 HTTP/1.1 with keep-alive and no framework: one task per connection,
//! waits are `tokio::time::sleep`, so thousands of requests a second stay cheap even with
//! long latencies configured.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::batch::{self, BatchSummary};
use crate::body::ReplyBody;
use crate::call::Call;
use crate::completion;
use crate::counter::{RecordedRequest, StatsSnapshot};
use crate::engine::Outcome;
use crate::files;
use crate::reply;
use crate::request::Endpoint;
use crate::script::Script;
use crate::shared::Shared;

const MODELS_PATH: &str = "/v1/models";

/// Request bodies larger than this are refused rather than buffered.
const MAX_BODY: usize = 32 << 20;

/// The error that makes hyper close a connection without writing a response, which is
/// exactly the dropped-connection fault.
#[derive(Debug)]
struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DropConnection {}

/// A running OpenAI-compatible server on 127.0.0.1. Dropping it shuts it down.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    /// The server's own thread and runtime, for servers made by [`TestServer::spawn`].
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl TestServer {
    /// Starts a server on a free port, served by the current tokio runtime.
    ///
    /// With a current-thread runtime (`#[tokio::test]`'s default) the server only runs
    /// while the test awaits; a test that blocks its thread should use
    /// [`TestServer::spawn`] instead.
    ///
    /// # Panics
    /// If no port on 127.0.0.1 can be bound, or outside a tokio runtime.
    pub async fn start(script: Script) -> Self {
        match Self::bind(script, 0).await {
            Ok(server) => server,
            Err(e) => panic!("dtac-testkit: cannot bind 127.0.0.1: {e}"),
        }
    }

    /// Starts a server on 127.0.0.1 at `port` (0 picks a free one) in the current tokio
    /// runtime.
    pub async fn bind(script: Script, port: u16) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared::new(script, stopped.clone()));
        tokio::spawn(serve(listener, Arc::clone(&shared), stopped));
        Ok(TestServer {
            addr,
            shared,
            stop,
            thread: Mutex::new(None),
        })
    }

    /// Starts a server on a free port on a thread of its own, with its own runtime: for
    /// synchronous tests, and for tests that run the dtac binary against it.
    ///
    /// # Panics
    /// If no port on 127.0.0.1 can be bound or the runtime cannot be built.
    pub fn spawn(script: Script) -> Self {
        match Self::try_spawn(script, 0) {
            Ok(server) => server,
            Err(e) => panic!("dtac-testkit: cannot start the server: {e}"),
        }
    }

    /// [`TestServer::spawn`] at a chosen port (0 picks a free one), reporting failures.
    pub fn try_spawn(script: Script, port: u16) -> io::Result<Self> {
        // Bind here rather than on the new thread, so the port is known, and any error
        // reported, before this returns.
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("dtac-testkit")
            .enable_all()
            .build()?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared::new(script, stopped.clone()));
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("dtac-testkit".into())
            .spawn(move || {
                runtime.block_on(async move {
                    // from_std needs a runtime context, which only exists in here.
                    match TcpListener::from_std(std_listener) {
                        Ok(listener) => serve(listener, for_thread, stopped).await,
                        Err(e) => eprintln!("dtac-testkit: cannot listen: {e}"),
                    }
                });
            })?;
        Ok(TestServer {
            addr,
            shared,
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The API base, `http://127.0.0.1:PORT/v1`, as OpenAI clients take it.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// A copy of all counters now.
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.counters.snapshot()
    }

    /// Requests received so far, of every kind.
    pub fn total(&self) -> u64 {
        self.shared.counters.total()
    }

    /// Requests received so far for a [`crate::key_of`] key.
    pub fn count_for(&self, key: &str) -> u64 {
        self.shared.counters.count_for(key)
    }

    /// Requests being handled now.
    pub fn in_flight(&self) -> u64 {
        self.shared.counters.in_flight()
    }

    /// The most requests handled at once so far.
    pub fn max_in_flight(&self) -> u64 {
        self.shared.counters.max_in_flight()
    }

    /// The recorded requests, oldest first (at most the script's `record_last`).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.counters.requests()
    }

    /// The most recent recorded request.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared.counters.last_request()
    }

    /// Every batch created so far, oldest first, as it stands now.
    pub fn batches(&self) -> Vec<BatchSummary> {
        self.shared
            .batches
            .list()
            .iter()
            .map(|cell| cell.lock().summary())
            .collect()
    }

    /// One batch as it stands now, by id.
    pub fn batch(&self, id: &str) -> Option<BatchSummary> {
        self.shared
            .batches
            .get(id)
            .map(|cell| cell.lock().summary())
    }

    /// The contents of a stored file (an upload or a batch result file), by id.
    pub fn file_content(&self, id: &str) -> Option<Vec<u8>> {
        self.shared.files.get(id).map(|f| f.data.to_vec())
    }

    /// Stops accepting and closes open connections. Idempotent; also done on drop. A
    /// spawned server's thread is joined, so its port is closed when this returns; a
    /// started one closes its port at the runtime's next turn.
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            // The thread only ever ends by its runtime winding down; a panic there has
            // already been printed, and shutdown (often in drop) should not panic again.
            let _ = thread.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Accepts connections until told to stop, one task per connection.
async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // A dropped sender (error) means the server handle is gone: stop as well.
            _ = stop.wait_for(|s| *s) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Typically out of file descriptors: wait for some to free up instead of
                // spinning on the error.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // Small JSON responses must not wait on Nagle's algorithm (up to 40 ms a reply).
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(Arc::clone(&shared), req));
            let conn = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                // Connection errors (a client hanging up, a dropped-connection fault) end
                // only that connection; there is nobody to report them to.
                _ = conn => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        });
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<ReplyBody>, DropConnection> {
    let path = req.uri().path().to_string();
    let (seq, in_flight) = shared.counters.arrive(&path);
    let at = Instant::now();
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            shared.counters.rejected();
            let message = format!("could not read the request body: {e}");
            return Ok(reply::bad_request(&message).map(|b| b.holding(in_flight)));
        }
    };
    shared.counters.record(RecordedRequest {
        seq,
        at,
        method: parts.method.to_string(),
        path: path.clone(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: bytes.to_vec(),
    });

    let method = parts.method.as_str();
    let response = match (method, Endpoint::from_path(&path)) {
        ("POST", Some(endpoint)) => answer(&shared, seq, Call::parse(endpoint, &bytes)).await,
        _ if method == "GET" && path == MODELS_PATH => {
            Some(reply::json(200, &completion::models(&shared.models)))
        }
        _ => match files::api::handle(&shared, method, &path, &parts.headers, &bytes)
            .or_else(|| batch::api::handle(&shared, method, &path, &bytes))
        {
            Some(res) => Some(res),
            None => {
                shared.counters.not_found();
                Some(reply::not_found(method, &path))
            }
        },
    };
    match response {
        Some(res) => Ok(res.map(|b| b.holding(in_flight))),
        None => Err(DropConnection),
    }
}

/// The common path of both answering endpoints: validate, count the attempt, decide,
/// wait, then render an answer or a fault. `None` means drop the connection.
async fn answer(
    shared: &Shared,
    seq: u64,
    parsed: Result<Call, String>,
) -> Option<Response<ReplyBody>> {
    let mut call = match parsed {
        Ok(call) => call,
        Err(message) => {
            shared.counters.rejected();
            return Some(reply::bad_request(&message));
        }
    };
    let attempt = shared.counters.attempt(&call.view().key);
    call.view_mut().attempt = attempt;
    let decision = shared.engine.decide(call.view());
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    // Counted only now, after the wait, so a client that gave up mid-wait is not
    // counted as served.
    match decision.outcome {
        Outcome::Fail(fault) => {
            shared.counters.fault(&fault.kind());
            reply::fault(&fault)
        }
        Outcome::Answer { text, trickle } => {
            shared.counters.answered();
            let body = call.render(seq, &text).to_string();
            Some(match trickle {
                Some(over) => {
                    shared.counters.fault("slow_body");
                    reply::trickled(body, over)
                }
                None => reply::raw(200, "application/json", body),
            })
        }
    }
}
