//! [`FaultProxy`]: an HTTP proxy on `127.0.0.1` in front of a registry that
//! answers, delays, resets, redirects, streams endlessly or forwards each
//! request as its [`Fault`] says.

use std::future::Future as _;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Frame};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpStream;

use super::common::{CONNECT_TIMEOUT, IO_TIMEOUT, OCI_INDEX};
use super::image::sha256_digest;
use super::server::{respond, Body, Handler, Reply, Server};

/// The `service` the proxy names in its [`Fault::EndlessToken`] challenge.
pub const FAULT_TOKEN_SERVICE: &str = "imagespec-fault-proxy";

/// What a [`FaultProxy`] does to the requests it receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward every request unchanged.
    None,
    /// Answer every request with this status (and a distribution-style JSON
    /// error body), without forwarding.
    Status(u16),
    /// Like [`Fault::Status`], with a `Retry-After: seconds` header (for 429/503).
    RetryAfter {
        /// The status to answer.
        status: u16,
        /// The `Retry-After` value.
        seconds: u64,
    },
    /// Answer the first `times` requests (from when it is set) with `status`,
    /// then forward.
    StatusThenPass {
        /// The status to answer.
        status: u16,
        /// How many requests get it.
        times: usize,
    },
    /// Wait this long, then forward.
    Delay(Duration),
    /// Read the request, then reset the connection (SO_LINGER 0) without answering.
    Reset,
    /// Answer manifest requests (`/v2/NAME/manifests/REF`) with Harbor's quirk,
    /// HTTP 500 with `{"errors":[{"code":"UNKNOWN","message":"unknown: artifact
    /// NAME:REF not found"}]}`; forward the others.
    HarborNotFound,
    /// Like [`Fault::StatusThenPass`], with `Retry-After: value` on the
    /// faulted answers: seconds, or an HTTP date ([`http_date`](super::common::http_date)),
    /// sent as given.
    RetryAfterThenPass {
        /// The status to answer.
        status: u16,
        /// The `Retry-After` value.
        value: String,
        /// How many requests get it.
        times: usize,
    },
    /// Answer manifest `GET`s with 200 and a body that never ends (an OCI
    /// index whose `manifests` list goes on, no `Content-Length`), as fast as
    /// the client reads; forward the others (a `HEAD` gets the real digest).
    /// [`FaultProxy::streamed_bytes`] counts what was sent.
    EndlessBody,
    /// Like [`Fault::EndlessBody`], one byte (a space) every `Duration`: each
    /// read is quick, the whole never ends.
    TrickleBody(Duration),
    /// Answer manifest `GET`s with 200, this `Content-Type`, a
    /// `Docker-Content-Digest` that matches `body`, and `body`; forward the
    /// others (a `HEAD` gets the real digest).
    ManifestBody {
        /// The `Content-Type` header.
        content_type: String,
        /// The body.
        body: Vec<u8>,
    },
    /// Answer manifest requests with `307` redirects that go round in a
    /// circle, `PATH` → `PATH?imagespec-loop=1` → `PATH`; forward the others.
    RedirectLoop,
    /// Play a token-auth registry whose token server never stops answering:
    /// `GET /token` gets 200 and a JSON body that never ends; every other
    /// request gets 401 with `Www-Authenticate: Bearer
    /// realm="http://PROXY/token",service="imagespec-fault-proxy"`.
    EndlessToken,
}

#[derive(Debug)]
struct ProxyState {
    target: SocketAddr,
    /// The current fault and how many requests it has been applied to.
    fault: Mutex<(Fault, usize)>,
    requests: AtomicUsize,
    /// Bytes of endless bodies handed to the connections.
    streamed: Arc<AtomicU64>,
}

/// An HTTP proxy on `127.0.0.1:PORT` in front of a registry (or any HTTP
/// server on loopback) that injects a [`Fault`]. Each connection carries one
/// request (answers say `Connection: close`); the `Host` header is passed
/// through, so the registry's `Location` headers point back at the proxy.
/// Stopped on drop.
#[derive(Debug)]
pub struct FaultProxy {
    server: Server,
    state: Arc<ProxyState>,
}

impl FaultProxy {
    /// Starts a proxy forwarding to `target` (`127.0.0.1:PORT`; must be a
    /// loopback address), with [`Fault::None`].
    pub fn start(target: &str) -> FaultProxy {
        let target = target
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| panic!("FaultProxy: cannot resolve target {target:?}"));
        assert!(
            target.ip().is_loopback(),
            "FaultProxy only forwards to loopback, not {target}"
        );
        let state = Arc::new(ProxyState {
            target,
            fault: Mutex::new((Fault::None, 0)),
            requests: AtomicUsize::new(0),
            streamed: Arc::new(AtomicU64::new(0)),
        });
        let server = Server::start("fault-proxy", ProxyHandler(Arc::clone(&state)));
        FaultProxy { server, state }
    }

    /// `127.0.0.1:PORT`, to use as the registry host.
    pub fn host(&self) -> String {
        self.server.addr().to_string()
    }

    /// Sets the fault for the requests that follow (and restarts the count of
    /// [`Fault::StatusThenPass`]).
    pub fn set(&self, fault: Fault) {
        *self.state.fault.lock().expect("proxy fault") = (fault, 0);
    }

    /// How many requests the proxy has received (faulted or forwarded).
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// How many bytes of endless bodies ([`Fault::EndlessBody`],
    /// [`Fault::TrickleBody`], [`Fault::EndlessToken`]) the proxy has handed
    /// to its connections: at most what the clients read, plus what socket
    /// buffers hold.
    pub fn streamed_bytes(&self) -> u64 {
        self.state.streamed.load(Ordering::SeqCst)
    }
}

enum ProxyAction {
    Respond(u16, Vec<(&'static str, String)>, Vec<u8>),
    /// 200 with these headers and an endless body.
    Stream(Vec<(&'static str, String)>, Endless),
    Reset,
    Forward(Duration),
}

/// A body that never ends: `first`, then `chunk` over and over, each after
/// `every` if set.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endless {
    first: Bytes,
    chunk: Bytes,
    every: Option<Duration>,
}

impl Endless {
    fn index() -> Endless {
        let entry = r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","platform":{"os":"linux","architecture":"amd64"}},"#;
        Endless {
            first: Bytes::from(format!(
                r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":["#
            )),
            chunk: Bytes::from(entry.repeat(64 * 1024 / entry.len())),
            every: None,
        }
    }

    fn trickle(every: Duration) -> Endless {
        Endless {
            first: Bytes::new(),
            chunk: Bytes::from_static(b" "),
            every: Some(every),
        }
    }

    fn token() -> Endless {
        Endless {
            first: Bytes::from_static(br#"{"token":""#),
            chunk: Bytes::from("A".repeat(64 * 1024)),
            every: None,
        }
    }
}

/// [`Endless`] as a response body, counting what it hands out.
struct EndlessBody {
    spec: Endless,
    started: bool,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    counter: Arc<AtomicU64>,
}

impl hyper::body::Body for EndlessBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        if !this.started {
            this.started = true;
            if !this.spec.first.is_empty() {
                let first = this.spec.first.clone();
                this.counter.fetch_add(first.len() as u64, Ordering::SeqCst);
                return Poll::Ready(Some(Ok(Frame::data(first))));
            }
        }
        if let Some(every) = this.spec.every {
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(every)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.sleep = None;
        }
        let chunk = this.spec.chunk.clone();
        this.counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }
}

fn error_body(code: &str, message: &str) -> Vec<u8> {
    json!({"errors": [{"code": code, "message": message}]})
        .to_string()
        .into_bytes()
}

fn status_response(status: u16, retry_after: Option<String>) -> ProxyAction {
    let code = match status {
        429 => "TOOMANYREQUESTS",
        401 => "UNAUTHORIZED",
        403 => "DENIED",
        404 => "NOT_FOUND",
        _ => "UNKNOWN",
    };
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    if let Some(value) = retry_after {
        headers.push(("Retry-After", value));
    }
    ProxyAction::Respond(
        status,
        headers,
        error_body(
            code,
            &format!("fault injected by the test proxy: HTTP {status}"),
        ),
    )
}

/// `(NAME, REF)` of a `/v2/NAME/manifests/REF` path.
fn manifest_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/v2/")?;
    let i = rest.rfind("/manifests/")?;
    let reference = &rest[i + "/manifests/".len()..];
    (!reference.is_empty() && !reference.contains('/')).then_some((&rest[..i], reference))
}

/// What the proxy knows of a request when it decides.
struct Seen<'a> {
    method: &'a Method,
    path: &'a str,
    query: Option<&'a str>,
    /// The `Host` header (the proxy's own address, for clients that reach it).
    host: &'a str,
}

fn decide(fault: &mut (Fault, usize), req: &Seen<'_>) -> ProxyAction {
    fault.1 += 1;
    let path = req.path;
    let manifest_get = *req.method == Method::GET && manifest_path(path).is_some();
    match &fault.0 {
        Fault::None => ProxyAction::Forward(Duration::ZERO),
        Fault::Status(s) => status_response(*s, None),
        Fault::RetryAfter { status, seconds } => {
            status_response(*status, Some(seconds.to_string()))
        }
        Fault::StatusThenPass { status, times } => {
            if fault.1 <= *times {
                status_response(*status, None)
            } else {
                ProxyAction::Forward(Duration::ZERO)
            }
        }
        Fault::RetryAfterThenPass {
            status,
            value,
            times,
        } => {
            if fault.1 <= *times {
                status_response(*status, Some(value.clone()))
            } else {
                ProxyAction::Forward(Duration::ZERO)
            }
        }
        Fault::EndlessBody if manifest_get => ProxyAction::Stream(
            vec![("Content-Type", OCI_INDEX.to_string())],
            Endless::index(),
        ),
        Fault::TrickleBody(every) if manifest_get => ProxyAction::Stream(
            vec![("Content-Type", OCI_INDEX.to_string())],
            Endless::trickle(*every),
        ),
        Fault::ManifestBody { content_type, body } if manifest_get => ProxyAction::Respond(
            200,
            vec![
                ("Content-Type", content_type.clone()),
                ("Docker-Content-Digest", sha256_digest(body)),
            ],
            body.clone(),
        ),
        Fault::EndlessBody | Fault::TrickleBody(_) | Fault::ManifestBody { .. } => {
            ProxyAction::Forward(Duration::ZERO)
        }
        Fault::RedirectLoop => match manifest_path(path) {
            Some(_) => {
                let location = match req.query {
                    Some(q) if q.contains("imagespec-loop") => path.to_string(),
                    _ => format!("{path}?imagespec-loop=1"),
                };
                ProxyAction::Respond(
                    307,
                    vec![
                        ("Location", location),
                        ("Content-Type", "text/plain".to_string()),
                    ],
                    b"redirected by the test proxy\n".to_vec(),
                )
            }
            None => ProxyAction::Forward(Duration::ZERO),
        },
        Fault::EndlessToken => {
            if *req.method == Method::GET && path == "/token" {
                ProxyAction::Stream(
                    vec![("Content-Type", "application/json".to_string())],
                    Endless::token(),
                )
            } else {
                ProxyAction::Respond(
                    401,
                    vec![
                        ("Content-Type", "application/json".to_string()),
                        (
                            "Www-Authenticate",
                            format!(
                                "Bearer realm=\"http://{}/token\",service=\"{FAULT_TOKEN_SERVICE}\"",
                                req.host
                            ),
                        ),
                    ],
                    error_body("UNAUTHORIZED", "authentication required (test proxy)"),
                )
            }
        }
        Fault::Delay(d) => ProxyAction::Forward(*d),
        Fault::Reset => ProxyAction::Reset,
        Fault::HarborNotFound => match manifest_path(path) {
            Some((name, reference)) => {
                let sep = if reference.contains(':') { '@' } else { ':' };
                ProxyAction::Respond(
                    500,
                    vec![("Content-Type", "application/json; charset=utf-8".into())],
                    error_body(
                        "UNKNOWN",
                        &format!("unknown: artifact {name}{sep}{reference} not found"),
                    ),
                )
            }
            None => ProxyAction::Forward(Duration::ZERO),
        },
    }
}

struct ProxyHandler(Arc<ProxyState>);

impl Handler for ProxyHandler {
    async fn handle(&self, req: Request<Bytes>) -> Reply {
        let state = &self.0;
        state.requests.fetch_add(1, Ordering::SeqCst);
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1")
            .to_string();
        let seen = Seen {
            method: req.method(),
            path: req.uri().path(),
            query: req.uri().query(),
            host: &host,
        };
        let action = decide(&mut state.fault.lock().expect("proxy fault"), &seen);
        match action {
            ProxyAction::Respond(status, headers, body) => {
                let headers: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                Reply::Respond(respond(status, &headers, body))
            }
            ProxyAction::Stream(headers, spec) => {
                let headers: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let mut resp = respond(200, &headers, Vec::new());
                *resp.body_mut() = EndlessBody {
                    spec,
                    started: false,
                    sleep: None,
                    counter: Arc::clone(&state.streamed),
                }
                .boxed();
                Reply::Respond(resp)
            }
            ProxyAction::Reset => Reply::Reset,
            ProxyAction::Forward(delay) => {
                tokio::time::sleep(delay).await;
                Reply::Respond(forward(state.target, req).await.unwrap_or_else(|_| {
                    respond(
                        502,
                        &[("Content-Type", "application/json")],
                        error_body("UNKNOWN", "test proxy: upstream unreachable"),
                    )
                }))
            }
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Headers that describe one hop, not the message: not forwarded.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TRANSFER_ENCODING,
    header::CONTENT_LENGTH,
    header::EXPECT,
    header::TE,
    header::UPGRADE,
];

/// Sends `req` (its `Host` header kept) to `target` over a new connection,
/// with `Content-Length` and `Connection: close`, and streams the answer
/// back. `Err` when the upstream could not be reached or sent no answer
/// within the timeouts.
async fn forward(target: SocketAddr, req: Request<Bytes>) -> Result<Response<Body>, BoxError> {
    let (mut parts, body) = req.into_parts();
    for name in &HOP_BY_HOP {
        parts.headers.remove(name);
    }
    parts
        .headers
        .insert(header::CONTENT_LENGTH, body.len().into());
    parts
        .headers
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    let upstream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await??;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(upstream)).await?;
    // Drives the upstream connection until the answer's body is read.
    tokio::spawn(connection);
    let request = Request::from_parts(parts, Full::new(body));
    let response = tokio::time::timeout(IO_TIMEOUT, sender.send_request(request)).await??;
    Ok(response.map(BodyExt::boxed))
}
