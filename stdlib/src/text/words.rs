//! Text normalization shared by `decontaminate`, `dedup` and `token_shift`: lowercase,
//! punctuation and LaTeX markup to spaces, whitespace collapsed, split into words.
//!
//! A word is a maximal run of alphanumeric characters (Unicode's definition), lowercased.
//! Everything else separates words: punctuation, symbols, whitespace, and LaTeX markup:
//! a backslash and the command name after it (`\frac{1}{2}` gives the words `1 2`,
//! `\alpha` gives nothing), and the environment name of `\begin{..}` and `\end{..}`.
//! Braces, `$`, `^` and `_` are punctuation. Scripts written without spaces (Chinese,
//! Japanese) therefore give one word per run of text, as in the n-gram tests this
//! follows, which split on whitespace.
//!
//! One scanner feeds two consumers, so they cannot disagree: the hot path hashes each
//! word as its bytes go by, with no allocation per word; the other spells the words out
//! (for reports, and for the word counts of `token_shift`).

use super::hash::WordHasher;

/// What the scanner feeds: the bytes of the current lowercased word, then its end.
trait Sink {
    fn byte(&mut self, b: u8);
    /// The current word (possibly empty: the sink must skip empty words) is complete.
    fn end(&mut self);
}

/// Per ASCII byte: 0 separates words, 1 is a backslash (LaTeX markup), anything else is
/// the byte of a word, lowercased.
const ASCII: [u8; 128] = ascii_table();

const SEPARATOR: u8 = 0;
const BACKSLASH: u8 = 1;

const fn ascii_table() -> [u8; 128] {
    let mut t = [SEPARATOR; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_digit() || c.is_ascii_lowercase() {
            t[b] = c;
        } else if c.is_ascii_uppercase() {
            t[b] = c.to_ascii_lowercase();
        } else if c == b'\\' {
            t[b] = BACKSLASH;
        }
        b += 1;
    }
    t
}

fn scan<S: Sink>(text: &str, sink: &mut S) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            let class = ASCII[usize::from(b)];
            i += 1;
            match class {
                SEPARATOR => sink.end(),
                BACKSLASH => {
                    sink.end();
                    i = skip_command(bytes, i);
                }
                lower => sink.byte(lower),
            }
            continue;
        }
        // `i` only ever advances by whole characters, so it is on a boundary here.
        let Some(ch) = text.get(i..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        i += ch.len_utf8();
        if ch.is_alphanumeric() {
            let mut buf = [0u8; 4];
            for lower in ch.to_lowercase() {
                lower
                    .encode_utf8(&mut buf)
                    .bytes()
                    .for_each(|b| sink.byte(b));
            }
        } else {
            sink.end();
        }
    }
    sink.end();
}

/// Skips a LaTeX command name starting at `i` (just after its backslash), and the braced
/// environment name after `\begin` or `\end`: markup, not text.
fn skip_command(bytes: &[u8], mut i: usize) -> usize {
    let start = i;
    while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
        i += 1;
    }
    let name = &bytes[start..i];
    if (name == b"begin" || name == b"end") && bytes.get(i) == Some(&b'{') {
        if let Some(close) = bytes[i..].iter().position(|&b| b == b'}') {
            i += close + 1;
        }
    }
    i
}

struct Hashes<'a> {
    word: WordHasher,
    out: &'a mut Vec<u64>,
}

impl Sink for Hashes<'_> {
    #[inline]
    fn byte(&mut self, b: u8) {
        self.word.push(b);
    }

    #[inline]
    fn end(&mut self) {
        if !self.word.is_empty() {
            self.out.push(self.word.finish());
        }
    }
}

struct Spelled<F> {
    word: Vec<u8>,
    each: F,
}

impl<F: FnMut(&str)> Sink for Spelled<F> {
    fn byte(&mut self, b: u8) {
        self.word.push(b);
    }

    fn end(&mut self) {
        if !self.word.is_empty() {
            // Whole characters are pushed, so the bytes are always UTF-8.
            if let Ok(word) = std::str::from_utf8(&self.word) {
                (self.each)(word);
            }
            self.word.clear();
        }
    }
}

/// Replaces `out` with the hash of each word of `text` (see [`super::hash::hash_word`]).
pub fn word_hashes(text: &str, out: &mut Vec<u64>) {
    out.clear();
    scan(
        text,
        &mut Hashes {
            word: WordHasher::default(),
            out,
        },
    );
}

/// Calls `each` with every word of `text`, in order.
pub fn for_each_word(text: &str, each: impl FnMut(&str)) {
    scan(
        text,
        &mut Spelled {
            word: Vec::new(),
            each,
        },
    );
}

/// The words of `text`.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_word(text, |w| out.push(w.to_string()));
    out
}

/// The normalized text: its words joined by single spaces.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for_each_word(text, |w| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    });
    out
}

#[cfg(test)]
mod tests {
    use super::super::hash::hash_word;
    use super::*;

    #[test]
    fn case_punctuation_and_whitespace_are_normalized() {
        assert_eq!(
            normalize("  Hello,   WORLD!\n\tIt's 3.14 -- ok?"),
            "hello world it s 3 14 ok"
        );
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(" .,;!? "), "");
    }

    #[test]
    fn latex_markup_becomes_space() {
        assert_eq!(
            normalize(r"Thus $x = \frac{1}{2}$ and \alpha^2_{i}"),
            "thus x 1 2 and 2 i"
        );
        assert_eq!(normalize(r"\begin{align} a &= b \\ c \end{align}"), "a b c");
        assert_eq!(normalize(r"\boxed{42}."), "42");
        // A backslash before a non-letter is only punctuation.
        assert_eq!(normalize(r"50\% of x"), "50 of x");
        // An unclosed environment name is left as text.
        assert_eq!(normalize(r"\begin{ab"), "ab");
    }

    #[test]
    fn unicode_letters_are_lowercased_and_symbols_separate() {
        assert_eq!(normalize("Ärger über ΣΑΣ × 2"), "ärger über σασ 2");
        assert_eq!(normalize("İ"), "i\u{307}");
        assert_eq!(normalize("a→b"), "a b");
    }

    #[test]
    fn the_hashed_and_spelled_paths_agree() {
        let texts = [
            "The answer is \\boxed{17}. Therefore, we GET x=3.",
            "Ärger über ΣΑΣ × 2 — done",
            "",
            "\\\\ \\begin{x}",
        ];
        let mut hashes = Vec::new();
        for t in texts {
            word_hashes(t, &mut hashes);
            let spelled: Vec<u64> = words(t).iter().map(|w| hash_word(w)).collect();
            assert_eq!(hashes, spelled, "{t:?}");
        }
    }
}
