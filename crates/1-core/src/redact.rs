//! Secrets, and their removal from everything imagespec prints.
//!
//! A spec can carry credentials (`pip_index: https://user:token@host/simple`)
//! and name secret files (`pip_secret_mounts`). imagespec keeps them out of
//! the Dockerfile and the image (the plan crate's `PlanBuilder::index_url`),
//! and out of its own output. Secrets travel as values: a spec's are
//! [`crate::ImageSpec::secrets`], the inputs add those of the files they read
//! (`Inputs::masked`, in the inputs crate), a job gathers its chain's
//! (`BuildJob::secrets`, in the identity crate), and whoever prints (the
//! command line's printer, a builder streaming its engine's output) masks
//! with the [`Masker`] it was given. No list of secrets is global.
//!
//! Every mask also removes the credentials of any `scheme://user:pass@host`
//! URL in the text, known or not, so that an error about a spec that never
//! loaded cannot show one either.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, RwLock};

use serde::{Serialize, Serializer};

/// What a secret is replaced with.
pub const MASK: &str = "****";

/// Secrets shorter than this are not masked: masking every `pw` would garble
/// the output and hide little.
pub const MIN_LEN: usize = 4;

/// A set of secrets to mask. Its `Debug` shows how many, never them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// Longest first, so a secret containing another is masked whole.
    known: Vec<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} masked)", self.known.len())
    }
}

impl Secrets {
    /// No secrets.
    pub fn new() -> Secrets {
        Secrets::default()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Adds a secret (trimmed; one shorter than [`MIN_LEN`] is ignored).
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.chars().count() < MIN_LEN || self.known.iter().any(|k| k == secret) {
            return;
        }
        self.known.push(secret.to_string());
        self.known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }

    /// Adds every secret of `other`.
    pub fn extend(&mut self, other: &Secrets) {
        for s in &other.known {
            self.add(s);
        }
    }

    /// Adds the content of a secret file: the whole of it, each of its
    /// lines (an error message may quote one), the token after each netrc
    /// `password`, and the value of each `key=value` or `key: value` line
    /// whose key names a password, token, secret or key (`.pypirc`, env files).
    pub fn add_file_content(&mut self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        self.add(&text);
        for line in text.lines() {
            self.add(line);
            let words: Vec<&str> = line.split_whitespace().collect();
            for pair in words.windows(2) {
                if pair[0] == "password" {
                    self.add(pair[1]);
                }
            }
            if let Some((key, value)) = line.split_once(['=', ':']) {
                let key = key.trim().to_ascii_lowercase();
                if ["pass", "token", "secret", "key", "auth"]
                    .iter()
                    .any(|k| key.contains(k))
                {
                    self.add(value.trim().trim_matches(['"', '\'']));
                }
            }
        }
    }

    /// Adds the credentials of every URL in `text` (see [`urls_with_credentials`]).
    pub fn add_urls_in(&mut self, text: &str) {
        for userinfo in urls_with_credentials(text) {
            self.add_userinfo(userinfo);
        }
    }

    /// Adds a URL's userinfo (`user:token`), its password and their
    /// percent-decoded forms.
    pub fn add_userinfo(&mut self, userinfo: &str) {
        self.add(userinfo);
        let password = userinfo.split_once(':').map(|(_, p)| p);
        if let Some(p) = password {
            self.add(p);
        }
        for part in [Some(userinfo), password].into_iter().flatten() {
            let decoded = percent_decode(part);
            if decoded != part {
                self.add(&decoded);
            }
        }
    }

    /// `text` with every secret masked, and the credentials of any URL in it.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.known {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), MASK));
            }
        }
        let found: Vec<String> = urls_with_credentials(&out)
            .into_iter()
            .filter(|u| *u != MASK)
            .map(|u| format!("{u}@"))
            .collect();
        for userinfo in found {
            out = Cow::Owned(out.replace(&userinfo, &format!("{MASK}@")));
        }
        out
    }
}

/// `text` with the credentials of every URL in it masked.
pub fn mask_urls(text: &str) -> Cow<'_, str> {
    Secrets::new().mask(text)
}

/// Whether an `env` entry holds a credential by its name: `HF_TOKEN`,
/// `DB_PASSWORD`, `OPENAI_API_KEY` (not `HF_TOKEN_PATH`, nor an empty, `None`,
/// boolean or `$VAR` value).
pub fn env_value_is_secret(name: &str, value: &imagespec_pycompat::PyValue) -> bool {
    use imagespec_pycompat::PyValue;
    let text = value.py_str();
    secret_name(name)
        && !text.trim().is_empty()
        && !matches!(value, PyValue::None | PyValue::Bool(_))
        && !text.contains('$')
}

/// Whether a variable's name says it holds a secret: a word (between `_`
/// or `-`) `TOKEN`, `SECRET`, `PASSWORD`, `PASSWD`, `APIKEY`, or
/// `API`/`ACCESS`/`PRIVATE` before `KEY`; not when it ends with `PATH`,
/// `FILE` or `DIR` (a secret's file, the right way to pass one).
pub fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(['_', '-']).filter(|w| !w.is_empty()).collect();
    if words
        .last()
        .is_some_and(|w| ["PATH", "FILE", "DIR"].contains(w))
    {
        return false;
    }
    words
        .iter()
        .any(|w| ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "APIKEY"].contains(w))
        || words
            .windows(2)
            .any(|p| ["API", "ACCESS", "PRIVATE"].contains(&p[0]) && p[1] == "KEY")
}

/// The secrets an output sink masks, shared by its clones: the command line
/// adds each spec's and job's as it meets them, and its log writer, its
/// printer and a builder's output stream all mask with the same set.
#[derive(Clone, Default)]
pub struct Masker(Arc<RwLock<Secrets>>);

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Masker").field(&*self.read()).finish()
    }
}

impl Masker {
    /// A masker that knows `secrets`.
    pub fn with(secrets: Secrets) -> Masker {
        Masker(Arc::new(RwLock::new(secrets)))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Secrets> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Masks `secrets` too, from now on.
    pub fn add(&self, secrets: &Secrets) {
        if !secrets.is_empty() {
            self.0
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .extend(secrets);
        }
    }

    /// `text` masked.
    pub fn mask(&self, text: &str) -> String {
        self.read().mask(text).into_owned()
    }
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
    /// Wraps a secret. (Masking in output is [`Secrets`]' business: for
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
pub struct MaskingWriter<W> {
    /// What to mask.
    pub masker: Masker,
    /// Where the masked text goes.
    pub inner: W,
}

impl<W: std::io::Write> std::io::Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.inner.write_all(self.masker.mask(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
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
    fn secrets_are_masked_with_their_decoded_forms() {
        let mut secrets = Secrets::new();
        secrets.add_urls_in("https://someone:pa%24%24word-1234@host/simple");
        let text =
            secrets.mask("fetching https://someone:pa%24%24word-1234@host/ with pa$$word-1234");
        assert!(
            !text.contains("pa%24%24word-1234") && !text.contains("pa$$word-1234"),
            "{text}"
        );
        assert!(!text.contains("someone:"), "{text}");
        secrets.add("ab");
        assert_eq!(secrets.mask("ab"), "ab", "short strings are not masked");
        assert_eq!(format!("{:?}", SecretText::new("xyzw-secret")), MASK);
        secrets.add("xyzw-secret");
        assert_eq!(secrets.mask("a xyzw-secret b"), "a **** b");
        secrets.add_file_content(
            b"machine h.example login me password pw-in-netrc\nAPI_TOKEN=\"tok-in-env\"\n",
        );
        let text = secrets.mask("pw-in-netrc tok-in-env h.example me");
        assert_eq!(text, "**** **** h.example me");
        assert!(
            !format!("{secrets:?}").contains("xyzw"),
            "Debug never shows them"
        );
    }

    #[test]
    fn any_url_credentials_are_masked_even_unknown_ones() {
        let none = Secrets::new();
        assert_eq!(
            none.mask("cannot reach https://me:hunter22@pypi.example/simple"),
            "cannot reach https://****@pypi.example/simple"
        );
    }

    #[test]
    fn a_masker_is_shared_by_its_clones() {
        let masker = Masker::default();
        let writer_side = masker.clone();
        let mut found = Secrets::new();
        found.add("tok-123456");
        masker.add(&found);
        assert_eq!(writer_side.mask("a tok-123456"), "a ****");
    }

    #[test]
    fn a_spec_s_secrets_are_found_without_registering_anything() {
        let load = |text: &str| {
            crate::spec::load_str(
                text,
                crate::spec::SpecFormat::Yaml,
                None,
                std::path::Path::new("."),
            )
        };
        let spec = load(
            "name: x\npip_index: https://u:tok-idx-9@h/simple\nenv: {HF_TOKEN: hf-tok-9, PLAIN: v}\n",
        )
        .unwrap();
        let secrets = spec.secrets();
        assert_eq!(secrets.mask("tok-idx-9 hf-tok-9 v"), "**** **** v");
        // A spec refused while loading hands its secrets over with the error.
        let refused = load("name: x\nregistry: me:tok-reg-9@localhost:5000\n").unwrap_err();
        assert_eq!(refused.carried.masked.mask("me:tok-reg-9"), "****");
    }
}
