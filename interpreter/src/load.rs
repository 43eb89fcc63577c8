//! Loading a recipe: read the root file, parse it, and follow its `import`s.
//!
//! Imports resolve relative to the importing file. A file reached twice (diamond imports)
//! is loaded once; a file reached from itself is an import cycle, reported with the whole
//! chain. Every problem becomes a [`Diag`]; loading never stops at the first one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dtac_grammar::ast::{File, Item};

use crate::diagnostic::Diag;
use crate::load_error::LoadError;
use crate::source::{FileId, SourceMap};

/// Recipes larger than this are refused before parsing.
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// A recipe and everything it imports.
#[derive(Debug, Default)]
pub struct Program {
    pub sources: SourceMap,
    /// Parsed files in load order; the root first. Files that failed to parse are absent.
    pub files: Vec<(FileId, File)>,
    pub root: Option<FileId>,
    pub diags: Vec<Diag>,
}

impl Program {
    pub fn file(&self, id: FileId) -> Option<&File> {
        self.files.iter().find(|(f, _)| *f == id).map(|(_, f)| f)
    }
}

/// Load `path` and its imports.
pub fn load(path: &Path) -> Program {
    let mut loader = Loader::default();
    loader.program.root = loader.load_file(path, None, &mut Vec::new());
    loader.program
}

/// Load recipe text that is not on disk (editors, tests); imports resolve from `dir`.
pub fn load_text(name: &Path, text: &str) -> Program {
    let mut loader = Loader::default();
    let id = loader.program.sources.add(name, Arc::from(text));
    loader.program.root = Some(id);
    let mut stack = vec![canonical(name)];
    loader.parse_and_follow(id, name, &mut stack);
    loader.program
}

#[derive(Default)]
struct Loader {
    program: Program,
    /// Canonical paths already loaded, with their ids.
    seen: Vec<(PathBuf, FileId)>,
}

impl Loader {
    /// Reads and parses one file; `stack` holds the canonical paths of the import chain.
    fn load_file(
        &mut self,
        path: &Path,
        from: Option<FileId>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<FileId> {
        let key = canonical(path);
        if let Some(&(_, id)) = self.seen.iter().find(|(p, _)| *p == key) {
            return Some(id);
        }
        let text = match read_source(path) {
            Ok(text) => text,
            Err((err, lossy)) => {
                // Keep the bytes we could decode so an encoding error can point at them.
                let file = lossy.map(|t| self.program.sources.add(path, Arc::from(t)));
                self.program.diags.push(Diag::new(file.or(from), err));
                return None;
            }
        };
        let id = self.program.sources.add(path, Arc::from(text.as_str()));
        self.seen.push((key.clone(), id));
        stack.push(key);
        self.parse_and_follow(id, path, stack);
        stack.pop();
        Some(id)
    }

    fn parse_and_follow(&mut self, id: FileId, path: &Path, stack: &mut Vec<PathBuf>) {
        let text = self.program.sources.get(id).text.clone();
        let file = match dtac_grammar::parse(&text) {
            Ok(file) => file,
            Err(errors) => {
                self.program
                    .diags
                    .extend(errors.into_iter().map(|e| Diag::new(Some(id), e)));
                return;
            }
        };
        let dir = path.parent().unwrap_or(Path::new(""));
        for item in &file.items {
            let Item::Import(import) = item else { continue };
            let target = dir.join(&import.path.value);
            let key = canonical(&target);
            if let Some(pos) = stack.iter().position(|p| *p == key) {
                let mut chain: Vec<String> = stack[pos..].iter().map(|p| display_name(p)).collect();
                chain.push(display_name(&key));
                self.program.diags.push(Diag::new(
                    Some(id),
                    LoadError::ImportCycle {
                        cycle: chain.join(" → "),
                        span: import.path.span,
                    },
                ));
                continue;
            }
            if !target.is_file() && !target.is_dir() {
                self.program.diags.push(Diag::new(
                    Some(id),
                    LoadError::ImportNotFound {
                        import: import.path.value.clone(),
                        resolved: target.display().to_string(),
                        span: import.path.span,
                    },
                ));
                continue;
            }
            self.load_file(&target, Some(id), stack);
        }
        self.program.files.push((id, file));
    }
}

/// Reads a recipe file, refusing directories, huge files and invalid UTF-8. On an encoding
/// error, also returns the text decoded lossily so the error can be shown in context.
pub fn read_source(path: &Path) -> Result<String, (LoadError, Option<String>)> {
    let meta = std::fs::metadata(path).map_err(|e| (io_error(path, &e), None))?;
    if meta.is_dir() {
        return Err((LoadError::IsDirectory { path: path.into() }, None));
    }
    if meta.len() > MAX_FILE_SIZE {
        let err = LoadError::TooLarge {
            path: path.into(),
            size: meta.len(),
            limit: MAX_FILE_SIZE,
        };
        return Err((err, None));
    }
    let bytes = std::fs::read(path).map_err(|e| (io_error(path, &e), None))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
        // In the lossy text the bad sequence became U+FFFD, which starts at the same byte.
        let end = lossy[at..].chars().next().map_or(at, |c| at + c.len_utf8());
        let err = LoadError::InvalidUtf8 {
            path: path.into(),
            span: dtac_grammar::Span::new(at, end),
        };
        (err, Some(lossy))
    })
}

fn io_error(path: &Path, e: &std::io::Error) -> LoadError {
    match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound { path: path.into() },
        _ => LoadError::Unreadable {
            path: path.into(),
            reason: e.to_string(),
        },
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
