//! Go to definition: a declared name to its declaration (in whichever file declares it),
//! an `import` to the imported file.

use std::path::Path;

use dtac_interpreter::Registry;
use lsp_types::{Location, Position, Range};

use super::documents::{path_to_uri, Document};
use super::lookup::{self, Target};

pub fn definition(doc: &Document, offset: usize, registry: &Registry) -> Option<Location> {
    let current = doc.current.as_deref();
    let ast = current.and_then(|a| a.ast(a.root));
    match lookup::at(&doc.text, ast, offset, registry)? {
        Target::Name(name, _) => {
            let analysis = doc.semantic()?;
            let symbol = analysis.checked.output.symbols.get(&name)?;
            analysis.location(symbol.file, symbol.name_span)
        }
        Target::Import(path, _) => {
            let dir = doc.path.parent().unwrap_or(Path::new(""));
            let target = dir.join(path);
            target.is_file().then_some(())?;
            let start = Position::new(0, 0);
            Some(Location::new(
                path_to_uri(&target)?,
                Range::new(start, start),
            ))
        }
        Target::Op(..) | Target::Setting(..) => None,
    }
}
