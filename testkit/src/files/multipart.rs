//! A `multipart/form-data` parser (RFC 7578 over RFC 2046), enough for file uploads.
//!
//! Written by hand because the crate only needs the common case: CRLF line breaks and
//! `Content-Disposition: form-data; name=...; filename=...` part headers. A part's own
//! `Content-Type` is ignored, since the server stores bytes as sent. Parts are slices of
//! the request body, so a large upload is not copied. Every malformation is an error
//! message for a 400, never a panic.

use hyper::body::Bytes;

/// One part of a form.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub(crate) name: String,
    /// Present for file fields.
    pub(crate) filename: Option<String>,
    pub(crate) data: Bytes,
}

/// The boundary named by a request's `Content-Type`, which must be
/// `multipart/form-data`.
pub(crate) fn boundary(content_type: &str) -> Result<String, String> {
    let (kind, params) = header_params(content_type)?;
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return Err(format!(
            "expected a multipart/form-data body, got Content-Type '{content_type}'"
        ));
    }
    let boundary = params
        .into_iter()
        .find(|(name, _)| name == "boundary")
        .map(|(_, value)| value)
        .ok_or("the multipart/form-data Content-Type has no boundary")?;
    // RFC 2046 caps boundaries at 70 characters; an empty one would match everywhere.
    if boundary.is_empty() || boundary.len() > 70 {
        return Err("the multipart boundary must be 1 to 70 characters long".into());
    }
    Ok(boundary)
}

/// The parts of a `multipart/form-data` body, in order.
pub(crate) fn parse(body: &Bytes, boundary: &str) -> Result<Vec<Part>, String> {
    let dash = format!("--{boundary}");
    // Every delimiter after the first is preceded by the line break that ends the part
    // before it; that line break belongs to the delimiter, not to the part's data.
    let delimiter = format!("\r\n{dash}");
    // Anything before the first delimiter is a preamble, to be ignored.
    let mut pos = if body.starts_with(dash.as_bytes()) {
        dash.len()
    } else {
        find(body, delimiter.as_bytes())
            .map(|i| i + delimiter.len())
            .ok_or("the multipart body does not contain its boundary")?
    };
    let mut parts = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            // The closing delimiter; what follows is an epilogue, also ignored.
            return Ok(parts);
        }
        // Transport padding (spaces, tabs) may sit between a boundary and its CRLF.
        let padding = rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        if !rest[padding..].starts_with(b"\r\n") {
            return Err("a multipart boundary line must end with CRLF".into());
        }
        pos += padding + 2;
        let (headers, data_start) = if body[pos..].starts_with(b"\r\n") {
            (Vec::new(), pos + 2)
        } else {
            let end = find(&body[pos..], b"\r\n\r\n")
                .ok_or("a multipart part's headers do not end with a blank line")?;
            (part_headers(&body[pos..pos + end])?, pos + end + 4)
        };
        let data_end = find(&body[data_start..], delimiter.as_bytes())
            .map(|i| data_start + i)
            .ok_or("the multipart body ends without a closing boundary")?;
        parts.push(make_part(&headers, body.slice(data_start..data_end))?);
        pos = data_end + delimiter.len();
    }
}

fn make_part(headers: &[(String, String)], data: Bytes) -> Result<Part, String> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let disposition = header("content-disposition")
        .ok_or("a multipart part has no Content-Disposition header")?;
    let (kind, params) = header_params(disposition)?;
    if !kind.eq_ignore_ascii_case("form-data") {
        return Err(format!(
            "a multipart part's Content-Disposition must be form-data, got '{kind}'"
        ));
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let name = param("name").ok_or("a multipart part's Content-Disposition has no name")?;
    Ok(Part {
        name,
        filename: param("filename"),
        data,
    })
}

/// `Name: value` lines of a part's header block.
fn part_headers(block: &[u8]) -> Result<Vec<(String, String)>, String> {
    String::from_utf8_lossy(block)
        .split("\r\n")
        .map(|line| {
            line.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| format!("malformed multipart part header '{line}'"))
        })
        .collect()
}

/// Splits `value; name=token; name="quoted"` into the value and its parameters, whose
/// names are lower-cased.
fn header_params(header: &str) -> Result<(String, Vec<(String, String)>), String> {
    let (value, mut rest) = header.split_once(';').unwrap_or((header, ""));
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return Ok((value.trim().to_string(), params));
        }
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| format!("header parameter without a value in '{header}'"))?;
        let after = after.trim_start();
        let (param, remaining) = match after.strip_prefix('"') {
            Some(quoted) => unquote(quoted)
                .ok_or_else(|| format!("unterminated quoted string in '{header}'"))?,
            None => {
                let end = after.find(';').unwrap_or(after.len());
                (after[..end].trim().to_string(), &after[end..])
            }
        };
        if !remaining.trim_start().is_empty() && !remaining.trim_start().starts_with(';') {
            return Err(format!(
                "unexpected text after a quoted string in '{header}'"
            ));
        }
        params.push((name.trim().to_ascii_lowercase(), param));
        rest = remaining;
    }
}

/// Reads a quoted string whose opening quote is already consumed; returns its value and
/// the text after the closing quote. Only `\"` and `\\` are escapes: clients send
/// Windows paths with bare backslashes, which must survive.
fn unquote(s: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &s[i + 1..])),
            '\\' if matches!(s[i + 1..].chars().next(), Some('"' | '\\')) => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            c => value.push(c),
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(parts: &[&str], boundary: &str) -> Bytes {
        let mut s = String::from("preamble\r\n");
        for p in parts {
            s.push_str(&format!("--{boundary}\r\n{p}\r\n"));
        }
        s.push_str(&format!("--{boundary}--\r\nepilogue"));
        Bytes::from(s)
    }

    #[test]
    fn boundary_from_content_type() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").unwrap(),
            "abc"
        );
        assert_eq!(
            boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b;c\"").unwrap(),
            "a b;c"
        );
        for bad in [
            "application/json",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=\"open",
            "multipart/form-data; boundary",
        ] {
            assert!(boundary(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fields_and_files() {
        let body = form(
            &[
                "Content-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch",
                "content-disposition: form-data; name=\"file\"; filename=\"C:\\dir\\in \\\"x\\\".jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n{\"a\":1}\r\n{\"b\":2}\r\n",
            ],
            "XyZ",
        );
        let parts = parse(&body, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "purpose");
        assert_eq!(parts[0].filename, None);
        assert_eq!(&parts[0].data[..], b"batch");
        assert_eq!(
            parts[1].filename.as_deref(),
            Some("C:\\dir\\in \"x\".jsonl")
        );
        // The CRLF before the delimiter is not data; the one inside the file is.
        assert_eq!(&parts[1].data[..], b"{\"a\":1}\r\n{\"b\":2}\r\n");
    }

    #[test]
    fn no_preamble_and_empty_data() {
        let body =
            Bytes::from_static(b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--b--");
        let parts = parse(&body, "b").unwrap();
        assert_eq!(parts[0].name, "x");
        assert!(parts[0].data.is_empty());
    }

    #[test]
    fn malformed_bodies_are_errors() {
        let cases: &[&[u8]] = &[
            b"",
            b"no boundary here",
            b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\nunterminated",
            b"--b\r\nContent-Disposition: form-data; name=x\r\nno blank line",
            b"--b\r\n\r\ndata without headers\r\n--b--",
            b"--b\r\nContent-Disposition: attachment; name=x\r\n\r\nd\r\n--b--",
            b"--b\r\nContent-Disposition: form-data\r\n\r\nd\r\n--b--",
            b"--b\r\nno colon\r\n\r\nd\r\n--b--",
            b"--bjunk\r\nContent-Disposition: form-data; name=x\r\n\r\nd\r\n--b--",
            b"--b\nContent-Disposition: form-data; name=x\n\nd\n--b--",
            b"--b\r\nContent-Disposition: form-data; name=\"x\r\n\r\nd\r\n--b--",
        ];
        for body in cases {
            let body = Bytes::copy_from_slice(body);
            assert!(
                parse(&body, "b").is_err(),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
    }
}
