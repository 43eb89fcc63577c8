//! A minimal HTTP/1.1 client written against raw sockets, for the integration tests.
//!
//! Hand-written rather than a client library so the tests see exactly what went over the
//! wire: a connection closed without a byte, headers arriving before a slow body, the
//! raw bytes of a broken JSON body.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Time from sending the request to the end of the headers.
    pub head_after: Duration,
    /// Time from sending the request to the end of the body.
    pub body_after: Duration,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The assistant text of a chat completion.
    pub fn content(&self) -> String {
        self.json()["choices"][0]["message"]["content"]
            .as_str()
            .expect("no message content")
            .to_string()
    }
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> io::Result<Self> {
        Ok(Conn {
            stream: TcpStream::connect(addr).await?,
            buf: Vec::new(),
        })
    }

    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<HttpResponse> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let sent = Instant::now();
        self.stream.write_all(head.as_bytes()).await?;
        self.stream.write_all(body).await?;

        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            self.fill().await?;
        };
        let head_after = sent.elapsed();
        let head_text = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let mut lines = head_text.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| bad("no content-length".into()))?;
        self.buf.drain(..head_end + 4);
        while self.buf.len() < length {
            self.fill().await?;
        }
        let body: Vec<u8> = self.buf.drain(..length).collect();
        Ok(HttpResponse {
            status,
            headers,
            body,
            head_after,
            body_after: sent.elapsed(),
        })
    }

    /// Reads more bytes; a closed connection is an `UnexpectedEof` error.
    async fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// One request on a fresh connection.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    Conn::open(addr)
        .await?
        .send(method, path, headers, body)
        .await
}

/// POSTs JSON and expects a response.
pub async fn post(addr: SocketAddr, path: &str, body: &Value) -> HttpResponse {
    request(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
    .await
    .expect("request failed")
}

/// A chat request body with one user message.
pub fn chat_body(model: &str, user: &str) -> Value {
    serde_json::json!({"model": model, "messages": [{"role": "user", "content": user}]})
}

/// GETs a path on a fresh connection.
pub async fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    request(addr, "GET", path, &[], b"")
        .await
        .expect("request failed")
}

/// A `multipart/form-data` body with CRLF line breaks; a field with a filename is a file.
pub fn multipart(boundary: &str, fields: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, data) in fields {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match filename {
            Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream"),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(format!("Content-Disposition: {disposition}\r\n\r\n").as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

/// Uploads `data` as a file with this purpose and returns the response.
pub async fn upload(addr: SocketAddr, purpose: &str, filename: &str, data: &[u8]) -> HttpResponse {
    let boundary = "testkit-boundary-7MA4YWxk";
    let body = multipart(
        boundary,
        &[
            ("purpose", None, purpose.as_bytes()),
            ("file", Some(filename), data),
        ],
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    request(
        addr,
        "POST",
        "/v1/files",
        &[("Content-Type", &content_type)],
        &body,
    )
    .await
    .expect("upload failed")
}

/// One batch input line for the chat endpoint.
pub fn batch_line(custom_id: &str, body: &Value) -> String {
    serde_json::json!({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body})
        .to_string()
}

/// Uploads JSONL lines and creates a batch over them; returns the create response.
pub async fn start_batch(addr: SocketAddr, endpoint: &str, lines: &[String]) -> HttpResponse {
    let file = upload(addr, "batch", "input.jsonl", lines.join("\n").as_bytes()).await;
    assert_eq!(file.status, 200, "{}", String::from_utf8_lossy(&file.body));
    let id = file.json()["id"].as_str().expect("file id").to_string();
    post(
        addr,
        "/v1/batches",
        &serde_json::json!({"input_file_id": id, "endpoint": endpoint, "completion_window": "24h"}),
    )
    .await
}

/// Polls a batch until its status is final and returns the batch object.
pub async fn wait_for_batch(addr: SocketAddr, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let batch = get(addr, &format!("/v1/batches/{id}")).await.json();
        let status = batch["status"].as_str().unwrap_or_default().to_string();
        if ["completed", "failed", "expired", "cancelled"].contains(&status.as_str()) {
            return batch;
        }
        assert!(Instant::now() < deadline, "batch {id} stuck in {status}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A file's lines, each parsed as JSON.
pub async fn jsonl(addr: SocketAddr, file_id: &str) -> Vec<Value> {
    let r = get(addr, &format!("/v1/files/{file_id}/content")).await;
    assert_eq!(r.status, 200);
    String::from_utf8(r.body)
        .expect("file is not UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("line is not JSON"))
        .collect()
}
