//! A private Python package index for end-to-end tests: PEP 503 "simple"
//! pages and one wheel, behind HTTP basic auth, on a loopback port. A build
//! reaches it with `--build-network host`.
//!
//! It answers 401 without the right credentials, 404 for any project it does
//! not hold (so an installer moves on to its next index), and records every
//! request with whether it carried the credentials.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine;
use sha2::{Digest, Sha256};

/// One request the index saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub authorized: bool,
}

/// A running index; it stops when dropped.
#[derive(Debug)]
pub struct PrivateIndex {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

/// A wheel: a zip of a module and its `.dist-info`.
pub fn wheel(project: &str, version: &str, module: &str, source: &str) -> (String, Vec<u8>) {
    let dist = project.replace('-', "_");
    let name = format!("{dist}-{version}-py3-none-any.whl");
    let info = format!("{dist}-{version}.dist-info");
    let files: Vec<(String, String)> = vec![
        (format!("{module}/__init__.py"), source.to_string()),
        (
            format!("{info}/METADATA"),
            format!("Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n"),
        ),
        (
            format!("{info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: imagespec-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .to_string(),
        ),
    ];
    let mut record = String::new();
    for (path, body) in &files {
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(body));
        record.push_str(&format!("{path},sha256={digest},{}\n", body.len()));
    }
    record.push_str(&format!("{info}/RECORD,,\n"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (path, body) in files.iter().chain([&(format!("{info}/RECORD"), record)]) {
        zip.start_file(path.as_str(), options).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    (name, zip.finish().unwrap().into_inner())
}

impl PrivateIndex {
    /// Serves `project`'s one wheel to requests authorized as `user:password`.
    pub fn start(project: &str, wheel: (String, Vec<u8>), user: &str, password: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        let state = Arc::new(State {
            project: normalize(project),
            wheel_name: wheel.0,
            sha256: hex::encode(Sha256::digest(&wheel.1)),
            wheel: wheel.1,
            auth,
        });
        let (seen2, stop2) = (Arc::clone(&seen), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (state, seen) = (Arc::clone(&state), Arc::clone(&seen2));
                        std::thread::spawn(move || {
                            let _ = serve(stream, &state, &seen);
                        });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    Err(_) => break,
                }
            }
        });
        PrivateIndex { port, seen, stop }
    }

    /// The requests so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for PrivateIndex {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

struct State {
    project: String,
    wheel_name: String,
    wheel: Vec<u8>,
    sha256: String,
    auth: String,
}

/// PEP 503's name normalization.
fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn serve(stream: TcpStream, state: &State, seen: &Mutex<Vec<Seen>>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut request = String::new();
        if reader.read_line(&mut request)? == 0 {
            return Ok(());
        }
        let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut authorized = false;
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                if k.eq_ignore_ascii_case("authorization") && v.trim() == state.auth {
                    authorized = true;
                }
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        seen.lock().unwrap().push(Seen {
            path: path.clone(),
            authorized,
        });
        let simple = format!("/simple/{}/", state.project);
        let file = format!("/files/{}", state.wheel_name);
        let (status, kind, body): (&str, &str, Vec<u8>) = if !authorized {
            (
                "401 Unauthorized",
                "text/plain",
                b"credentials required".to_vec(),
            )
        } else if path == simple || path == simple.trim_end_matches('/') {
            let page = format!(
                "<!DOCTYPE html><html><body><a href=\"/files/{0}#sha256={1}\">{0}</a></body></html>",
                state.wheel_name, state.sha256
            );
            ("200 OK", "text/html", page.into_bytes())
        } else if path == file {
            ("200 OK", "application/octet-stream", state.wheel.clone())
        } else {
            ("404 Not Found", "text/plain", b"not here".to_vec())
        };
        let extra = if authorized {
            ""
        } else {
            "WWW-Authenticate: Basic realm=\"private\"\r\n"
        };
        write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n{extra}\r\n",
            body.len()
        )?;
        out.write_all(&body)?;
        out.flush()?;
    }
}
