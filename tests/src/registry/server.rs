//! The loopback HTTP/1.1 server the token server and the fault proxy run on:
//! hyper, on a current-thread tokio runtime of its own on a thread of its own,
//! so it neither needs nor disturbs the caller's runtime. One request per
//! connection (answers say `Connection: close`); a handler may instead have
//! the connection reset. Dropping the [`Server`] stops it and cancels the
//! connections still open.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::common::IO_TIMEOUT;

/// A response body: built here ([`respond`]) or streamed from elsewhere.
pub(super) type Body = BoxBody<Bytes, hyper::Error>;

/// What a [`Handler`] does with a request.
pub(super) enum Reply {
    /// Send this answer, then close the connection.
    Respond(Response<Body>),
    /// Reset the connection (`SO_LINGER` 0, so the peer gets an RST) without
    /// answering.
    Reset,
}

/// Answers the requests of a [`Server`], each on a task of its own, once
/// their whole body has been read.
pub(super) trait Handler: Send + Sync + 'static {
    fn handle(&self, req: Request<Bytes>) -> impl Future<Output = Reply> + Send;
}

/// A response with `status`, `headers` and `body` (not sent for `HEAD`).
pub(super) fn respond(status: u16, headers: &[(&str, &str)], body: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body)).map_err(|n| match n {}).boxed());
    *resp.status_mut() = StatusCode::from_u16(status).expect("a valid HTTP status");
    for (name, value) in headers {
        resp.headers_mut().append(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"),
            hyper::header::HeaderValue::from_str(value).expect("a valid header value"),
        );
    }
    resp
}

/// A server on `127.0.0.1:0` (see the module docs).
pub(super) struct Server {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    /// Binds `127.0.0.1:0` and serves `handler` on a thread named `name-PORT`.
    pub(super) fn start(name: &str, handler: impl Handler) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("cannot bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for a test server");
        let (shutdown, stopped) = oneshot::channel::<()>();
        let handler = Arc::new(handler);
        let thread = std::thread::Builder::new()
            .name(format!("{name}-{}", addr.port()))
            .spawn(move || {
                runtime.spawn(async move {
                    let listener = TcpListener::from_std(listener).expect("tokio listener");
                    accept_loop(listener, handler).await;
                });
                // Until the Server is dropped (or its sender with it); dropping
                // the runtime then cancels every connection task.
                let _ = runtime.block_on(stopped);
            })
            .expect("spawn server thread");
        Server {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The address it listens on.
    pub(super) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop<H: Handler>(listener: TcpListener, handler: Arc<H>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream, Arc::clone(&handler)));
            }
            // Out of file descriptors, say: try again shortly.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

async fn serve_connection<H: Handler>(stream: TcpStream, handler: Arc<H>) {
    // A second handle on the socket, to set SO_LINGER on for a reset: hyper
    // owns the first. The socket closes when both are dropped.
    let Ok(stream) = stream.into_std() else {
        return;
    };
    let Ok(second) = stream.try_clone() else {
        return;
    };
    let Ok(stream) = TcpStream::from_std(stream) else {
        return;
    };
    let second = &second;
    let service = hyper::service::service_fn(|req| answer(&*handler, second, req));
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(IO_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The whole request first (hyper answers `Expect: 100-continue`): a socket
/// closed with unread input resets instead of closing. Then the handler's
/// answer; an `Err` makes hyper drop the connection without answering.
async fn answer<H: Handler>(
    handler: &H,
    second: &std::net::TcpStream,
    req: Request<Incoming>,
) -> io::Result<Response<Body>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
    match handler.handle(Request::from_parts(parts, body)).await {
        Reply::Respond(resp) => Ok(resp),
        Reply::Reset => {
            let _ = second
                .try_clone()
                .and_then(TcpStream::from_std)
                .and_then(|s| s.set_zero_linger());
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "reset by the handler",
            ))
        }
    }
}
