//! The source map: every file a check read, by id, with its text for rendering.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::NamedSource;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub usize);

#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user would recognise it (relative when given relative).
    pub path: PathBuf,
    pub text: Arc<str>,
    named: NamedSource<Arc<str>>,
}

impl SourceFile {
    pub fn named(&self) -> &NamedSource<Arc<str>> {
        &self.named
    }
}

#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        SourceMap::default()
    }

    pub fn add(&mut self, path: &Path, text: Arc<str>) -> FileId {
        let name = path.display().to_string();
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            named: NamedSource::new(name, text.clone()).with_language("dta"),
            text,
        });
        FileId(self.files.len() - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i), f))
    }
}
