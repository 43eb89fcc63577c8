//! `dtac lsp`: a Language Server Protocol server for `.dta` recipes, over stdio.
//!
//! One thread answers everything in arrival order (lsp-server's threads only move bytes).
//! Checking is the only slow work, so it is scheduled, not done per message: a change
//! after a quiet spell is checked at once, once the messages already waiting are handled;
//! during a burst of changes, only once the document has been quiet for a while. Every
//! handler runs under `catch_unwind`: a bug answers one request with an error, logged
//! to stderr, and the server goes on.

mod completion;
mod definition;
mod diagnostics;
mod documents;
mod formatting;
mod hover;
mod lookup;
mod position;
mod symbols;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use dtac_interpreter::{CheckOptions, Registry};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    CompletionOptions, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DidSaveTextDocumentParams, DocumentFormattingParams,
    DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams, GotoDefinitionResponse,
    HoverParams, HoverProviderCapability, InitializeParams, OneOf, PublishDiagnosticsParams,
    SaveOptions, ServerCapabilities, ServerInfo, TextDocumentPositionParams,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Url,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use documents::{Analysis, Document, Documents};

/// How long a document must go without changes, during a burst of typing, before it is
/// checked again. Clients may set it with the `debounceMs` initialization option.
const DEFAULT_QUIET: Duration = Duration::from_millis(150);

/// Serves one client on stdin/stdout until it says `exit`.
pub fn run() -> ExitCode {
    let (connection, io_threads) = Connection::stdio();
    let code = match serve(&connection) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dtac lsp: {e}");
            ExitCode::FAILURE
        }
    };
    // Dropping the connection lets the writer thread flush and end.
    drop(connection);
    if let Err(e) = io_threads.join() {
        eprintln!("dtac lsp: {e}");
    }
    code
}

fn serve(connection: &Connection) -> Result<ExitCode, String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let quiet = serde_json::from_value::<InitializeParams>(params)
        .ok()
        .and_then(|p| p.initialization_options)
        .and_then(|o| o.get("debounceMs")?.as_u64())
        .map_or(DEFAULT_QUIET, Duration::from_millis);
    let result = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": ServerInfo {
            name: "dtac".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        },
    });
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let mut server = Server {
        connection,
        docs: Documents::default(),
        registry: dtac_stdlib::registry(),
        options: CheckOptions::default(),
        quiet,
        shut_down: false,
    };
    Ok(server.main_loop())
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![":".into(), "{".into(), "(".into()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

struct Server<'c> {
    connection: &'c Connection,
    docs: Documents,
    registry: Registry,
    options: CheckOptions,
    quiet: Duration,
    shut_down: bool,
}

impl Server<'_> {
    fn main_loop(&mut self) -> ExitCode {
        loop {
            let next = match self.next_check() {
                None => self.connection.receiver.recv().ok(),
                Some(at) => match self.connection.receiver.recv_deadline(at) {
                    Ok(msg) => Some(msg),
                    Err(crossbeam_timeout) if crossbeam_timeout.is_timeout() => {
                        self.check_due();
                        continue;
                    }
                    Err(_) => None,
                },
            };
            // The client went away without `exit`.
            let Some(msg) = next else {
                return ExitCode::FAILURE;
            };
            match msg {
                Message::Request(request) => {
                    let response = self.request(request);
                    self.send(response.into());
                }
                Message::Notification(n) if n.method == note::Exit::METHOD => {
                    // The protocol's rule: exit code 0 only after a `shutdown`.
                    return if self.shut_down {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    };
                }
                Message::Notification(n) => {
                    let method = n.method.clone();
                    if catch_unwind(AssertUnwindSafe(|| self.notification(n))).is_err() {
                        eprintln!("dtac lsp: internal error handling `{method}`");
                    }
                }
                Message::Response(_) => {}
            }
        }
    }

    fn send(&self, msg: Message) {
        // A failed send means the client is gone; the receiver notices and ends the loop.
        let _ = self.connection.sender.send(msg);
    }

    /// The earliest time a document is due for a check.
    fn next_check(&self) -> Option<Instant> {
        self.docs
            .open
            .values()
            .filter_map(|d| d.due(self.quiet))
            .min()
    }

    fn check_due(&mut self) {
        let now = Instant::now();
        let due: Vec<Url> = self
            .docs
            .open
            .iter()
            .filter(|(_, d)| d.due(self.quiet).is_some_and(|at| at <= now))
            .map(|(uri, _)| uri.clone())
            .collect();
        for uri in due {
            self.refresh(&uri);
        }
    }

    /// Checks a document whose text changed since its last check, and publishes the
    /// diagnostics; a no-op when it is up to date.
    fn refresh(&mut self, uri: &Url) -> Option<Rc<Analysis>> {
        let doc = self.docs.get_mut(uri)?;
        if !doc.pending {
            return doc.current.clone();
        }
        let (registry, options) = (&self.registry, &self.options);
        let run = catch_unwind(AssertUnwindSafe(|| {
            let analysis = Analysis::run(uri, &doc.path, &doc.text, registry, options);
            let diagnostics = diagnostics::of(&analysis);
            (analysis, diagnostics)
        }));
        let Ok((analysis, diagnostics)) = run else {
            eprintln!("dtac lsp: internal error checking {uri}");
            doc.give_up();
            return None;
        };
        let analysis = doc.store(analysis);
        let params = PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics,
            version: Some(doc.version),
        };
        self.send(Notification::new(note::PublishDiagnostics::METHOD.into(), params).into());
        Some(analysis)
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                let Some(p) = params::<DidOpenTextDocumentParams>(n.params) else {
                    return;
                };
                let doc = Document::new(
                    &p.text_document.uri,
                    p.text_document.text,
                    p.text_document.version,
                );
                self.docs.open.insert(p.text_document.uri, doc);
            }
            note::DidChangeTextDocument::METHOD => {
                let Some(p) = params::<DidChangeTextDocumentParams>(n.params) else {
                    return;
                };
                let Some(doc) = self.docs.get_mut(&p.text_document.uri) else {
                    return;
                };
                let mut text = std::mem::take(&mut doc.text);
                for change in p.content_changes {
                    match change.range {
                        // Full sync was asked for; apply a ranged change anyway.
                        Some(range) => {
                            let index = position::LineIndex::new(&text);
                            let start = index.offset(&text, range.start);
                            let end = index.offset(&text, range.end).max(start);
                            text.replace_range(start..end, &change.text);
                        }
                        None => text = change.text,
                    }
                }
                doc.replace(text, p.text_document.version);
            }
            note::DidSaveTextDocument::METHOD => {
                let Some(p) = params::<DidSaveTextDocumentParams>(n.params) else {
                    return;
                };
                // Other documents read this one from disk when they import it.
                for (uri, doc) in &mut self.docs.open {
                    if *uri != p.text_document.uri {
                        doc.touch();
                    }
                }
            }
            note::DidCloseTextDocument::METHOD => {
                let Some(p) = params::<DidCloseTextDocumentParams>(n.params) else {
                    return;
                };
                if self.docs.open.remove(&p.text_document.uri).is_some() {
                    let clear = PublishDiagnosticsParams {
                        uri: p.text_document.uri,
                        diagnostics: Vec::new(),
                        version: None,
                    };
                    self.send(
                        Notification::new(note::PublishDiagnostics::METHOD.into(), clear).into(),
                    );
                }
            }
            _ => {}
        }
    }

    fn request(&mut self, request: Request) -> Response {
        let Request { id, method, params } = request;
        if self.shut_down {
            return error(
                id,
                ErrorCode::InvalidRequest,
                "the server is shutting down".into(),
            );
        }
        let answer = catch_unwind(AssertUnwindSafe(|| {
            self.dispatch(id.clone(), &method, params)
        }));
        answer.unwrap_or_else(|_| {
            eprintln!("dtac lsp: internal error handling `{method}`");
            error(
                id,
                ErrorCode::InternalError,
                format!("internal error handling `{method}` (see the server's log)"),
            )
        })
    }

    fn dispatch(&mut self, id: RequestId, method: &str, params: Value) -> Response {
        match method {
            req::Shutdown::METHOD => {
                self.shut_down = true;
                Response::new_ok(id, ())
            }
            req::HoverRequest::METHOD => reply(id, params, |p: HoverParams| {
                let pos = &p.text_document_position_params;
                self.refresh(&pos.text_document.uri);
                let (doc, offset) = locate(&self.docs, pos)?;
                hover::hover(doc, offset, &self.registry)
            }),
            req::GotoDefinition::METHOD => reply(id, params, |p: GotoDefinitionParams| {
                let pos = &p.text_document_position_params;
                self.refresh(&pos.text_document.uri);
                let (doc, offset) = locate(&self.docs, pos)?;
                definition::definition(doc, offset, &self.registry)
                    .map(GotoDefinitionResponse::Scalar)
            }),
            req::Completion::METHOD => reply(id, params, |p: lsp_types::CompletionParams| {
                // No check first: completion comes with every key, and only needs names.
                let (doc, offset) = locate(&self.docs, &p.text_document_position)?;
                Some(completion::complete(doc, offset, &self.registry))
            }),
            req::Formatting::METHOD => reply(id, params, |p: DocumentFormattingParams| {
                let doc = self.docs.get(&p.text_document.uri)?;
                Some(formatting::format(doc))
            }),
            req::DocumentSymbolRequest::METHOD => reply(id, params, |p: DocumentSymbolParams| {
                let analysis = self.refresh(&p.text_document.uri)?;
                let doc = self.docs.get(&p.text_document.uri)?;
                let ast = analysis.ast(analysis.root)?;
                Some(DocumentSymbolResponse::Nested(symbols::outline(
                    ast, &doc.text, &doc.index,
                )))
            }),
            _ => error(
                id,
                ErrorCode::MethodNotFound,
                format!("unsupported request `{method}`"),
            ),
        }
    }
}

/// The document at a position, and the position as a byte offset.
fn locate<'d>(
    docs: &'d Documents,
    p: &TextDocumentPositionParams,
) -> Option<(&'d Document, usize)> {
    let doc = docs.get(&p.text_document.uri)?;
    Some((doc, doc.index.offset(&doc.text, p.position)))
}

/// Parses a request's params and answers with what `f` makes of them; bad params are an
/// error response.
fn reply<P: DeserializeOwned, R: Serialize>(
    id: RequestId,
    params: Value,
    f: impl FnOnce(P) -> R,
) -> Response {
    match serde_json::from_value::<P>(params) {
        Ok(p) => Response::new_ok(id, f(p)),
        Err(e) => error(id, ErrorCode::InvalidParams, format!("invalid params: {e}")),
    }
}

fn params<P: DeserializeOwned>(params: Value) -> Option<P> {
    serde_json::from_value(params)
        .inspect_err(|e| eprintln!("dtac lsp: ignoring a notification with invalid params: {e}"))
        .ok()
}

fn error(id: RequestId, code: ErrorCode, message: String) -> Response {
    Response::new_err(id, code as i32, message)
}
