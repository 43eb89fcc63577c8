//! Byte offsets ↔ LSP positions: zero-based lines, columns counted in UTF-16 code units.
//!
//! Spans in dtac are byte offsets; editors speak UTF-16. Conversions clamp instead of
//! failing, so a stale position from the client never panics the server.

use lsp_types::{Position, Range};

/// Where each line of a text starts, for quick lookups both ways.
#[derive(Debug)]
pub struct LineIndex {
    /// Byte offset of the start of each line; the first is always 0.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The position of byte `offset` (clamped to the text, rounded down to a character).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(to_u32(line), to_u32(character))
    }

    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        Range::new(
            self.position(text, start),
            self.position(text, end.max(start)),
        )
    }

    /// The byte offset of `pos`. A line past the end gives the end of the text; a column
    /// past the end of its line gives the end of that line (before its newline).
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return text.len();
        };
        let end = self
            .starts
            .get(pos.line as usize + 1)
            .map_or(text.len(), |&next| next - 1);
        let mut units = 0usize;
        for (i, c) in text[start..end].char_indices() {
            if units >= pos.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    /// The position just past the last character.
    pub fn end(&self, text: &str) -> Position {
        self.position(text, text.len())
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        let text = "a = \"é𝄞\" x\nsecond";
        let index = LineIndex::new(text);
        // `x` follows a 2-byte `é` (1 unit) and a 4-byte `𝄞` (2 units).
        let x = text.find('x').unwrap();
        assert_eq!(index.position(text, x), Position::new(0, 10));
        assert_eq!(index.offset(text, Position::new(0, 10)), x);
        assert_eq!(index.position(text, text.len()), Position::new(1, 6));
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let text = "ab\ncd";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, Position::new(0, 99)), 2);
        assert_eq!(index.offset(text, Position::new(7, 0)), text.len());
        // Inside a multi-byte character rounds down.
        let text = "é";
        assert_eq!(LineIndex::new(text).position(text, 1), Position::new(0, 0));
    }
}
