//! Open documents: their unsaved text, and the latest check of that text.
//!
//! A document is checked as the editor has it; the files it imports are read from disk.
//! The last check that got as far as names is kept apart, so hover, definition and
//! completion still work while the user is mid-edit and the text does not parse.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use dtac_grammar::ast::{File, Span};
use dtac_interpreter::source::FileId;
use dtac_interpreter::{check_text, CheckOptions, Checked, Diag, Registry};
use lsp_types::{Location, Url};

use super::position::LineIndex;

/// One check of one version of a document.
#[derive(Debug)]
pub struct Analysis {
    /// The document's URI as the client spelled it (the root file's own path may not
    /// round-trip to the same string).
    pub uri: Url,
    pub checked: Checked,
    pub root: FileId,
    /// Whether loading had no errors, so `checked.output` holds symbols and schemas.
    pub complete: bool,
}

impl Analysis {
    pub fn run(
        uri: &Url,
        path: &Path,
        text: &str,
        registry: &Registry,
        options: &CheckOptions,
    ) -> Self {
        let checked = check_text(path, text, registry, options);
        let root = checked.program.root.unwrap_or(FileId(0));
        let complete = !checked.program.diags.iter().any(Diag::is_error);
        Analysis {
            uri: uri.clone(),
            checked,
            root,
            complete,
        }
    }

    pub fn text(&self, file: FileId) -> &str {
        &self.checked.program.sources.get(file).text
    }

    pub fn ast(&self, file: FileId) -> Option<&File> {
        self.checked.program.file(file)
    }

    /// Where `span` of `file` is, for the editor.
    pub fn location(&self, file: FileId, span: Span) -> Option<Location> {
        let source = self.checked.program.sources.get(file);
        let uri = if file == self.root {
            self.uri.clone()
        } else {
            path_to_uri(&source.path)?
        };
        let index = LineIndex::new(&source.text);
        Some(Location::new(
            uri,
            index.range(&source.text, span.start, span.end),
        ))
    }
}

#[derive(Debug)]
pub struct Document {
    pub path: PathBuf,
    pub text: String,
    pub index: LineIndex,
    pub version: i32,
    /// The check of `text`; `None` while a newer change waits to be checked (or when
    /// checking it failed).
    pub current: Option<Rc<Analysis>>,
    /// Whether `text` still needs a check.
    pub pending: bool,
    /// The newest check whose text loaded without errors.
    pub last_complete: Option<Rc<Analysis>>,
    pub changed_at: Instant,
    pub checked_at: Option<Instant>,
}

impl Document {
    pub fn new(uri: &Url, text: String, version: i32) -> Self {
        Document {
            path: uri_to_path(uri),
            index: LineIndex::new(&text),
            text,
            version,
            current: None,
            pending: true,
            last_complete: None,
            changed_at: Instant::now(),
            checked_at: None,
        }
    }

    pub fn replace(&mut self, text: String, version: i32) {
        self.index = LineIndex::new(&text);
        self.text = text;
        self.version = version;
        self.touch();
    }

    /// Something this document depends on changed: check it again.
    pub fn touch(&mut self) {
        self.current = None;
        self.pending = true;
        self.changed_at = Instant::now();
    }

    /// When to check it: at once after a quiet spell (the first key after a pause gets its
    /// diagnostics without waiting); during a burst of changes, once `quiet` has passed
    /// since the newest one.
    pub fn due(&self, quiet: Duration) -> Option<Instant> {
        if !self.pending {
            return None;
        }
        let burst = self
            .checked_at
            .is_some_and(|t| self.changed_at.saturating_duration_since(t) < quiet);
        Some(if burst {
            self.changed_at + quiet
        } else {
            self.changed_at
        })
    }

    /// Checking this text failed (a bug, already logged): wait for the next change.
    pub fn give_up(&mut self) {
        self.current = None;
        self.pending = false;
        self.checked_at = Some(Instant::now());
    }

    pub fn store(&mut self, analysis: Analysis) -> Rc<Analysis> {
        let analysis = Rc::new(analysis);
        if analysis.complete {
            self.last_complete = Some(analysis.clone());
        }
        self.current = Some(analysis.clone());
        self.pending = false;
        self.checked_at = Some(Instant::now());
        analysis
    }

    /// The check to answer questions about names with: the current one when it loaded,
    /// else the last one that did.
    pub fn semantic(&self) -> Option<&Rc<Analysis>> {
        match &self.current {
            Some(a) if a.complete => Some(a),
            _ => self.last_complete.as_ref(),
        }
    }
}

/// Every open document by URI.
#[derive(Debug, Default)]
pub struct Documents {
    pub open: HashMap<Url, Document>,
}

impl Documents {
    pub fn get(&self, uri: &Url) -> Option<&Document> {
        self.open.get(uri)
    }

    pub fn get_mut(&mut self, uri: &Url) -> Option<&mut Document> {
        self.open.get_mut(uri)
    }
}

/// The file a URI names; a non-file URI (an untitled buffer) gets a name of its own, so
/// its imports resolve from the working directory.
pub fn uri_to_path(uri: &Url) -> PathBuf {
    uri.to_file_path().unwrap_or_else(|()| {
        let name = uri
            .path_segments()
            .and_then(|mut s| s.next_back().map(str::to_string))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "untitled.dta".into());
        PathBuf::from(name)
    })
}

pub fn path_to_uri(path: &Path) -> Option<Url> {
    if path.is_absolute() {
        return Url::from_file_path(path).ok();
    }
    let absolute = std::env::current_dir().ok()?.join(path);
    Url::from_file_path(absolute).ok()
}
