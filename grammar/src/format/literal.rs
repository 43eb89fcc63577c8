//! Literals as canonical text: line strings re-escaped, block strings laid out again under
//! the current indentation, numbers as written.

use std::fmt::Write;

use crate::ast::{ExprKind, Number};
use crate::strings::decode_block;

/// `value` as a `"..."` string with the canonical escapes.
pub(super) fn line_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:02x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `value` as a `"""` block whose lines are indented by `pad` spaces, or `None` when the
/// block rules could not give `value` back (strings.rs, `decode_block`): then the caller
/// prints a line string, which can say anything.
pub(super) fn block_string(value: &str, pad: usize) -> Option<String> {
    if !fits_block(value) {
        return None;
    }
    let mut out = String::from("\"\"\"\n");
    if !value.is_empty() {
        for line in value.split('\n') {
            // Blank lines stay empty: no trailing whitespace in the output.
            if !line.is_empty() {
                super::pad(&mut out, pad);
                out.push_str(line);
            }
            out.push('\n');
        }
    }
    super::pad(&mut out, pad);
    out.push_str("\"\"\"");
    // Decode what was built: the guarantee is the round trip, so check it, not a proof.
    let body = &out[3..out.len() - 3];
    let back = decode_block(body, 0).ok()?;
    (back.value == value).then_some(out)
}

/// What `decode_block` can never produce: a closing `"""`, a whitespace-only line that is
/// not empty, a line ending in `\r`, or lines that all share leading whitespace (it would
/// be stripped). Checked first also because the decoder slices the shared prefix by bytes.
fn fits_block(value: &str) -> bool {
    if value.contains("\"\"\"") {
        return false;
    }
    let mut common: Option<&[u8]> = None;
    for line in value.split('\n') {
        if line.trim().is_empty() {
            if !line.is_empty() {
                return false;
            }
            continue;
        }
        if line.ends_with('\r') {
            return false;
        }
        let ws = &line.as_bytes()[..line.len() - line.trim_start().len()];
        common = Some(match common {
            None => ws,
            Some(c) => &c[..c.iter().zip(ws).take_while(|(a, b)| a == b).count()],
        });
    }
    common.is_none_or(<[u8]>::is_empty)
}

/// Numbers, durations, booleans and references: always one short line.
pub(super) fn scalar(kind: &ExprKind) -> Option<String> {
    Some(match kind {
        ExprKind::Int(n) => lexeme(n).unwrap_or_else(|| n.value.to_string()),
        // `{:?}` keeps the `.0` that tells a float from an integer.
        ExprKind::Float(n) => lexeme(n).unwrap_or_else(|| format!("{:?}", n.value)),
        ExprKind::Duration(n) => {
            lexeme(n).unwrap_or_else(|| format!("{:?}s", n.value.as_secs_f64()))
        }
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Ref(path) => {
            let names: Vec<&str> = path.iter().map(|i| i.node.as_str()).collect();
            names.join(".")
        }
        _ => return None,
    })
}

/// The spelling the source used; absent only in a tree built by hand.
fn lexeme<T>(n: &Number<T>) -> Option<String> {
    let text = n.lexeme.0.trim();
    (!text.is_empty()).then(|| text.to_string())
}
