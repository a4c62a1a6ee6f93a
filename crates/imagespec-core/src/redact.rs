//! Secrets the process knows of, and their removal from everything it prints.
//!
//! A spec can carry credentials (`pip_index: https://user:token@host/simple`)
//! and name secret files (`pip_secret_mounts`). imagespec keeps them out of
//! the Dockerfile and the image (see [`crate::plan::PlanBuilder::index_url`]),
//! and out of its own output: every secret is registered here when the spec
//! is checked or its inputs are read, and every line the program prints
//! (logs, errors, a builder's streamed output) goes through [`redact`].

use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

use serde::{Serialize, Serializer};

/// What a secret is replaced with.
pub const MASK: &str = "****";

/// Secrets shorter than this are not masked: masking every `pw` would garble
/// the output and hide little.
pub const MIN_LEN: usize = 4;

static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret: from now on [`redact`] masks it.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.chars().count() < MIN_LEN {
        return;
    }
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| k == secret) {
        known.push(secret.to_string());
        // Longest first, so a secret containing another is masked whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// Registers the content of a secret file: the whole of it, each of its
/// lines (an error message may quote one), the token after each netrc
/// `password`, and the value of each `key=value` or `key: value` line whose
/// key names a password, token, secret or key (`.pypirc`, env files).
pub fn register_file_content(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    register(&text);
    for line in text.lines() {
        register(line);
        let words: Vec<&str> = line.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[0] == "password" {
                register(pair[1]);
            }
        }
        if let Some((key, value)) = line.split_once(['=', ':']) {
            let key = key.trim().to_ascii_lowercase();
            if ["pass", "token", "secret", "key", "auth"]
                .iter()
                .any(|k| key.contains(k))
            {
                register(value.trim().trim_matches(['"', '\'']));
            }
        }
    }
}

/// Registers the credentials of every URL in `text` (see [`url_credentials`]).
pub fn register_urls_in(text: &str) {
    for userinfo in urls_with_credentials(text) {
        register_userinfo(userinfo);
    }
}

/// The userinfo, its password and their percent-decoded forms.
fn register_userinfo(userinfo: &str) {
    register(userinfo);
    let password = userinfo.split_once(':').map(|(_, p)| p);
    if let Some(p) = password {
        register(p);
    }
    for part in [Some(userinfo), password].into_iter().flatten() {
        let decoded = percent_decode(part);
        if decoded != part {
            register(&decoded);
        }
    }
}

/// `text` with every registered secret masked.
pub fn redact(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for secret in known.iter() {
        if out.contains(secret.as_str()) {
            out = Cow::Owned(out.replace(secret.as_str(), MASK));
        }
    }
    out
}

/// The userinfo of a URL (`user:token` in `https://user:token@host/path`),
/// when it has one. Nothing is normalized: the rest of the URL is as written.
pub fn url_credentials(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return None;
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let at = authority.rfind('@')?;
    Some(&authority[..at])
}

/// The URL with its userinfo removed (`https://host/path`), for messages.
pub fn without_credentials(url: &str) -> Cow<'_, str> {
    match url_credentials(url) {
        Some(userinfo) => {
            let start = userinfo.as_ptr() as usize - url.as_ptr() as usize;
            Cow::Owned(format!(
                "{}{}",
                &url[..start],
                &url[start + userinfo.len() + 1..]
            ))
        }
        None => Cow::Borrowed(url),
    }
}

/// The userinfo of every `scheme://userinfo@host` in free text (a shell
/// command, pip arguments).
pub fn urls_with_credentials(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let sep = from + i;
        // The scheme: letters, digits, `+-.` back to the first non-scheme char.
        let start = text[..sep]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map_or(sep, |(i, _)| i);
        let end = text[sep + 3..]
            .find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '`'))
            .map_or(text.len(), |e| sep + 3 + e);
        if start < sep {
            if let Some(userinfo) = url_credentials(&text[start..end]) {
                if !userinfo.is_empty() {
                    found.push(userinfo);
                }
            }
        }
        from = sep + 3;
    }
    found
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A secret value: shown, serialized and debug-printed as [`MASK`].
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    /// Wraps a secret. (Masking in output is [`register`]'s business: for
    /// a URL, only its credentials are masked.)
    pub fn new(value: impl Into<String>) -> Self {
        SecretText(value.into())
    }
    /// The secret itself, for the one place that hands it to a build.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for SecretText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

/// An [`std::io::Write`] that masks secrets in what it is given; for a log
/// subscriber's writer (each event is one write).
#[derive(Debug)]
pub struct RedactingWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_found_in_urls_and_in_text() {
        assert_eq!(
            url_credentials("https://u:t0ken@host/simple"),
            Some("u:t0ken")
        );
        assert_eq!(
            url_credentials("https://t0ken@host:8080/simple"),
            Some("t0ken")
        );
        assert_eq!(url_credentials("https://host/simple/@x"), None);
        assert_eq!(url_credentials("https://host/simple"), None);
        assert_eq!(url_credentials("/local/path@x"), None);
        assert_eq!(without_credentials("https://u:p@h/s"), "https://h/s");
        assert_eq!(
            urls_with_credentials("--extra-index-url 'https://a:bcde@h/s' x http://k@h2"),
            vec!["a:bcde", "k"]
        );
        assert!(urls_with_credentials("echo ://@ and a://").is_empty());
    }

    #[test]
    fn registered_secrets_are_masked_with_their_decoded_forms() {
        register_urls_in("https://someone:pa%24%24word-1234@host/simple");
        let text = redact("fetching https://someone:pa%24%24word-1234@host/ with pa$$word-1234");
        assert!(
            !text.contains("pa%24%24word-1234") && !text.contains("pa$$word-1234"),
            "{text}"
        );
        assert!(!text.contains("someone:"), "{text}");
        register("ab");
        assert_eq!(redact("ab"), "ab", "short strings are not masked");
        assert_eq!(format!("{:?}", SecretText::new("xyzw-secret")), MASK);
        register("xyzw-secret");
        assert_eq!(redact("a xyzw-secret b"), "a **** b");
        register_file_content(
            b"machine h.example login me password pw-in-netrc\nAPI_TOKEN=\"tok-in-env\"\n",
        );
        let text = redact("pw-in-netrc tok-in-env h.example me");
        assert_eq!(text, "**** **** h.example me");
    }
}
