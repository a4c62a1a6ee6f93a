//! [`http_request`]: a blocking HTTP/1.1 client for the harness and for test
//! assertions (ureq, without TLS, redirects, compression or connection reuse).

use std::io;
use std::sync::OnceLock;

use serde_json::Value;
use ureq::config::AutoHeaderValue;
use ureq::http;

use super::common::{CONNECT_TIMEOUT, IO_TIMEOUT};

/// An HTTP response as [`http_request`] returns it (body de-chunked).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers, in order (names in lower case, as HTTP's are compared).
    pub headers: Vec<(String, String)>,
    /// The body (empty for `HEAD`).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }
}

/// Sends one HTTP/1.1 request to `host` (`127.0.0.1:PORT`) over a fresh
/// connection (`Connection: close`) and reads the whole answer, whatever its
/// status; redirects are not followed. Connecting times out after 5 s, each
/// read or write after 30 s. `Host`, `Connection` and `Content-Length` are
/// set here; `headers` adds the others. `Err` for connection failures, resets
/// and truncated answers.
pub fn http_request(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    let invalid = |e: http::Error| io::Error::new(io::ErrorKind::InvalidInput, e);
    let mut request = http::Request::builder()
        .method(method)
        .uri(format!("http://{host}{path}"))
        .header("Connection", "close");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    // No Content-Length on a GET, HEAD or DELETE without a body; 0 on the others.
    let response = if body.is_empty() && matches!(method, "GET" | "HEAD" | "DELETE") {
        agent().run(request.body(ureq::SendBody::none()).map_err(invalid)?)
    } else {
        agent().run(request.body(body).map_err(invalid)?)
    }
    .map_err(ureq::Error::into_io)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .map_err(ureq::Error::into_io)?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// One agent for every request: it keeps no connection, adds no header of
/// its own but `Host` and `Content-Length`, and reports every status as a
/// response.
fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections(0)
            .allow_non_standard_methods(true)
            .user_agent(AutoHeaderValue::None)
            .accept(AutoHeaderValue::None)
            .accept_encoding(AutoHeaderValue::None)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(IO_TIMEOUT))
            .timeout_per_write(Some(IO_TIMEOUT))
            .build()
            .new_agent()
    })
}
