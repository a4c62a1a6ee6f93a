//! [`FaultProxy`]: an HTTP proxy on `127.0.0.1` in front of a registry that
//! answers, delays, resets or forwards each request as its [`Fault`] says.

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpStream;

use super::server::{respond, Body, Handler, Reply, Server};
use super::{CONNECT_TIMEOUT, IO_TIMEOUT};

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
}

#[derive(Debug)]
struct ProxyState {
    target: SocketAddr,
    /// The current fault and how many requests it has been applied to.
    fault: Mutex<(Fault, usize)>,
    requests: AtomicUsize,
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
}

enum ProxyAction {
    Respond(u16, Vec<(&'static str, String)>, Vec<u8>),
    Reset,
    Forward(Duration),
}

fn error_body(code: &str, message: &str) -> Vec<u8> {
    json!({"errors": [{"code": code, "message": message}]})
        .to_string()
        .into_bytes()
}

fn status_response(status: u16, retry_after: Option<u64>) -> ProxyAction {
    let code = match status {
        429 => "TOOMANYREQUESTS",
        401 => "UNAUTHORIZED",
        403 => "DENIED",
        404 => "NOT_FOUND",
        _ => "UNKNOWN",
    };
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    if let Some(s) = retry_after {
        headers.push(("Retry-After", s.to_string()));
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

fn decide(fault: &mut (Fault, usize), path: &str) -> ProxyAction {
    fault.1 += 1;
    match &fault.0 {
        Fault::None => ProxyAction::Forward(Duration::ZERO),
        Fault::Status(s) => status_response(*s, None),
        Fault::RetryAfter { status, seconds } => status_response(*status, Some(*seconds)),
        Fault::StatusThenPass { status, times } => {
            if fault.1 <= *times {
                status_response(*status, None)
            } else {
                ProxyAction::Forward(Duration::ZERO)
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
        let action = decide(
            &mut state.fault.lock().expect("proxy fault"),
            req.uri().path(),
        );
        match action {
            ProxyAction::Respond(status, headers, body) => {
                let headers: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                Reply::Respond(respond(status, &headers, body))
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
