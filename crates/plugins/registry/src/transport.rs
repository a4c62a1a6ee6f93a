//! HTTP for the checks: the client (its redirect policy), answers read with a
//! cap ([`MAX_BODY_BYTES`]), `Retry-After`, and what a failed request or an
//! error status means ([`Failure`]).

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Response, StatusCode, Url};

/// The most bytes read of any answer: a manifest, an index, an error body, a
/// token server's answer, a credential helper's output. The OCI distribution
/// spec has registries accept manifests of at least 4 MiB, and no registry
/// needs more for a token; an answer that goes on is cut here.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The most redirects followed for one request (a loop is reported at once).
pub const MAX_REDIRECTS: usize = 10;

/// What one attempt's failure means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The manifest is not there.
    NotFound(String),
    /// Worth another attempt, after `retry_after` if the registry said so.
    Transient {
        reason: String,
        retry_after: Option<RetryAfter>,
    },
    /// No point retrying (refused, malformed, too large, ...).
    Final(String),
}

impl Failure {
    pub(crate) fn transient(reason: impl Into<String>) -> Failure {
        Failure::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }
}

/// A `Retry-After` header: the wait it asks for, and the value as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RetryAfter {
    pub wait: Duration,
    pub value: String,
}

/// A redirect that is not followed.
#[derive(Debug)]
enum RedirectError {
    Loop(String),
    TooMany,
}

impl std::fmt::Display for RedirectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedirectError::Loop(url) => {
                write!(f, "redirect loop: the registry redirects back to `{url}`")
            }
            RedirectError::TooMany => write!(f, "more than {MAX_REDIRECTS} redirects"),
        }
    }
}

impl std::error::Error for RedirectError {}

/// `scheme://host[:port]/path` of `url`: its query is left out, as it can
/// carry a signature (pre-signed storage URLs).
pub(crate) fn safe_url(url: &Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.path()
    )
}

/// The client of one check: redirects up to [`MAX_REDIRECTS`], a loop
/// stopped at once. `timeout` bounds connecting; the caller bounds the whole
/// attempt.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, Failure> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().contains(attempt.url()) {
            let url = safe_url(attempt.url());
            attempt.error(RedirectError::Loop(url))
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(RedirectError::TooMany)
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .redirect(policy)
        .connect_timeout(timeout)
        .user_agent(concat!("imagespec/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Failure::Final(format!("cannot make an HTTP client: {e}")))
}

/// What a request that got no answer means. The URL is not named (the
/// caller says what was asked).
pub(crate) fn request_failure(e: &reqwest::Error) -> Failure {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<RedirectError>() {
            return Failure::Final(r.to_string());
        }
        source = s.source();
    }
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "redirect failed"
    } else {
        "connection failed"
    };
    Failure::transient(kind)
}

/// Why an answer's body could not be read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// It is longer than the cap.
    TooLarge,
    /// The connection failed while reading.
    Read(reqwest::Error),
}

/// The body of `resp`, at most `cap` bytes: streamed, so that no more than
/// `cap` (plus one chunk) is ever held.
pub(crate) async fn read_capped(mut resp: Response, cap: usize) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The first bytes of an answer, at most `len`: the rest is not read (the
/// connection is dropped).
pub(crate) async fn read_start(mut resp: Response, len: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        let room = len - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= len {
            break;
        }
    }
    Ok(body)
}

/// The cap, for messages.
pub(crate) fn cap_text() -> String {
    format!("{} MiB", MAX_BODY_BYTES / (1024 * 1024))
}

/// What a body that could not be read means, for the answer to `what`.
pub(crate) fn body_failure(e: BodyError, what: &str) -> Failure {
    match e {
        BodyError::TooLarge => Failure::Final(format!(
            "the answer to {what} is larger than {} (imagespec reads at most {MAX_BODY_BYTES} \
             bytes of a manifest, index or token answer)",
            cap_text()
        )),
        BodyError::Read(e) => match request_failure(&e) {
            Failure::Transient { reason, .. } => {
                Failure::transient(format!("{reason} while reading the answer to {what}"))
            }
            other => other,
        },
    }
}

/// [`read_capped`] with [`MAX_BODY_BYTES`], its errors as failures of `what`.
pub(crate) async fn read_body(resp: Response, what: &str) -> Result<Vec<u8>, Failure> {
    read_capped(resp, MAX_BODY_BYTES)
        .await
        .map_err(|e| body_failure(e, what))
}

/// The `Retry-After` of an answer with `status`: only 429 and 503 carry one
/// that counts. Seconds or an HTTP date (one in the past waits 0 s); a value
/// that is neither is ignored.
pub(crate) fn retry_after(status: StatusCode, headers: &HeaderMap) -> Option<RetryAfter> {
    if !matches!(status.as_u16(), 429 | 503) {
        return None;
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim().to_string();
    let wait = parse_retry_after(&value, SystemTime::now())?;
    Some(RetryAfter { wait, value })
}

fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // An absurd number of seconds is still "too long", not "ignored".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn harbor_not_found(message: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"unknown: (artifact|repository) .* not found").expect("valid regex")
    })
    .is_match(message)
}

/// The error codes of a distribution error body (`{"errors":[{"code":..}]}`),
/// if it is one.
/// The most error codes of one answer a message names.
const MAX_ERROR_CODES: usize = 5;
/// The most characters of one error code a message shows.
const MAX_CODE_CHARS: usize = 64;

/// An error code as a message shows it: cut, and on one line (a server's
/// text must not reach a terminal raw, nor start a line of its own).
fn shown_code(code: &str) -> String {
    let cut: String = code.chars().take(MAX_CODE_CHARS).collect();
    let more = if cut.len() < code.len() { "…" } else { "" };
    format!("{}{more}", imagespec_core::text::single_line(&cut))
}

fn error_codes(body: &[u8]) -> Option<Vec<String>> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let codes: Vec<String> = json
        .get("errors")?
        .as_array()?
        .iter()
        .take(MAX_ERROR_CODES)
        .map(|e| e.get("code").and_then(|c| c.as_str()).map(shown_code))
        .collect::<Option<_>>()?;
    (!codes.is_empty()).then_some(codes)
}

/// What an answer other than 200 means, from its status, headers and
/// (capped) body.
pub(crate) fn status_failure(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Failure {
    let code = status.as_u16();
    let retry_after = retry_after(status, headers);
    let transient = |reason: String| Failure::Transient {
        reason,
        retry_after: retry_after.clone(),
    };
    if code == 401 {
        return Failure::Final(
            "the registry refused access (401); check your docker credentials".into(),
        );
    }
    if status.is_success() {
        return Failure::Final(format!("unexpected answer {code}"));
    }
    if status.is_client_error() {
        if let Some(codes) = error_codes(body) {
            let text = codes.join(", ");
            let squashed = text.replace('_', "").to_uppercase();
            // The errors a registry gives for a manifest or repository that is not there.
            let not_found = ["MANIFESTUNKNOWN", "NAMEUNKNOWN", "NOTFOUND"];
            return if not_found.iter().any(|c| squashed.contains(c)) {
                Failure::NotFound(format!("registry says {text}"))
            } else if squashed.contains("TOOMANYREQUESTS") {
                transient("429 too many requests".into())
            } else if squashed.contains("UNAUTHORIZED") || squashed.contains("DENIED") {
                Failure::Final(format!("the registry refused access ({text})"))
            } else {
                Failure::Final(format!("the registry answered {text}"))
            };
        }
    }
    match code {
        404 => Failure::NotFound("404".into()),
        // Harbor answers a missing artifact with a 500 that says so.
        500 if harbor_not_found(&String::from_utf8_lossy(body)) => {
            Failure::NotFound("500 saying not found (Harbor)".into())
        }
        403 => Failure::Final(format!("the registry refused access ({code})")),
        429 => transient("429 too many requests".into()),
        c if c >= 500 => transient(format!("server error {c}")),
        c => Failure::Final(format!("unexpected answer {c}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_error_codes_are_cut_and_kept_on_one_line() {
        let long = format!("X{}", "y".repeat(2_000_000));
        let body = serde_json::json!({"errors": [
            {"code": "DENIED\nerror: forged line \u{1b}[31m"},
            {"code": long},
        ]})
        .to_string();
        let Failure::Final(reason) =
            status_failure(StatusCode::FORBIDDEN, &HeaderMap::new(), body.as_bytes())
        else {
            panic!("a final failure")
        };
        assert!(
            !reason.contains('\n') && !reason.contains('\u{1b}'),
            "{reason}"
        );
        assert!(reason.len() < 400, "{}", reason.len());
    }

    #[test]
    fn harbor_quirk() {
        assert!(harbor_not_found(
            "unknown: artifact library/demo:abc not found"
        ));
        assert!(harbor_not_found(
            "unknown: repository library/demo not found"
        ));
        assert!(!harbor_not_found("internal error"));
        let body =
            br#"{"errors":[{"code":"UNKNOWN","message":"unknown: artifact a/b:c not found"}]}"#;
        assert!(matches!(
            status_failure(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new(), body),
            Failure::NotFound(_)
        ));
    }

    #[test]
    fn statuses_and_error_codes() {
        let h = HeaderMap::new();
        let f =
            |code: u16, body: &[u8]| status_failure(StatusCode::from_u16(code).unwrap(), &h, body);
        assert_eq!(
            f(404, br#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#),
            Failure::NotFound("registry says MANIFEST_UNKNOWN".into())
        );
        assert_eq!(f(404, b""), Failure::NotFound("404".into()));
        assert!(
            matches!(f(403, br#"{"errors":[{"code":"DENIED"}]}"#), Failure::Final(r) if r.contains("refused"))
        );
        assert!(matches!(f(401, b""), Failure::Final(r) if r.contains("refused")));
        assert!(matches!(f(429, b""), Failure::Transient { .. }));
        assert!(matches!(f(502, b""), Failure::Transient { .. }));
        assert!(matches!(f(418, b""), Failure::Final(_)));
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date_on_429_and_503_only() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
        let wait = parse_retry_after(&later, now).unwrap();
        assert!(
            wait <= Duration::from_secs(120) && wait >= Duration::from_secs(118),
            "{wait:?}"
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(60));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);

        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(
            retry_after(StatusCode::TOO_MANY_REQUESTS, &h).map(|r| r.wait),
            Some(Duration::from_secs(3))
        );
        assert!(retry_after(StatusCode::SERVICE_UNAVAILABLE, &h).is_some());
        assert!(retry_after(StatusCode::INTERNAL_SERVER_ERROR, &h).is_none());
    }

    #[test]
    fn urls_in_messages_lose_their_query() {
        let url = Url::parse("https://s3.example:8443/bucket/blob?X-Amz-Signature=secret").unwrap();
        assert_eq!(safe_url(&url), "https://s3.example:8443/bucket/blob");
    }
}
