//! [`CheckConfig`]: how checks are made, from the `IMAGESPEC_*` variables,
//! each validated against its bounds (the constants below).

use std::ffi::OsString;
use std::time::Duration;

use crate::error::Error;

/// Environment variable: seconds one attempt may take, end to end.
pub const ENV_TIMEOUT: &str = "IMAGESPEC_REGISTRY_TIMEOUT";
/// Environment variable: how many times a failed attempt is retried.
pub const ENV_RETRIES: &str = "IMAGESPEC_REGISTRY_RETRIES";
/// Environment variable: first backoff between retries, in milliseconds (doubles each time).
pub const ENV_BACKOFF_MS: &str = "IMAGESPEC_REGISTRY_BACKOFF_MS";
/// Environment variable: comma-separated registries reached over plain HTTP.
pub const ENV_INSECURE: &str = "IMAGESPEC_INSECURE_REGISTRIES";

/// The timeout when [`ENV_TIMEOUT`] is unset.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest timeout [`ENV_TIMEOUT`] accepts (it must also be above 0).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// The retries when [`ENV_RETRIES`] is unset.
pub const DEFAULT_RETRIES: u32 = 3;
/// The most retries [`ENV_RETRIES`] accepts.
pub const MAX_RETRIES: u32 = 10;
/// The first backoff when [`ENV_BACKOFF_MS`] is unset.
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between two attempts: the largest backoff
/// [`ENV_BACKOFF_MS`] accepts, the cap of its doubling, and the longest
/// `Retry-After` that is honoured (a longer one ends the retries).
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// How registry checks are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckConfig {
    /// How long one attempt may take, end to end: the `/v2/` ping, the token
    /// exchange, the request and reading its answer. A credential helper gets
    /// as long, then it is killed.
    pub timeout: Duration,
    /// Retries after the first attempt, for 5xx, 429, timeouts and connection failures.
    pub retries: u32,
    /// The first wait between attempts; it doubles each time, up to [`MAX_WAIT`].
    pub backoff: Duration,
    /// Registries reached over plain HTTP (besides loopback ones).
    pub insecure: Vec<String>,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff: DEFAULT_BACKOFF,
            insecure: Vec::new(),
        }
    }
}

impl CheckConfig {
    /// The defaults, changed by the `IMAGESPEC_REGISTRY_*` and
    /// `IMAGESPEC_INSECURE_REGISTRIES` variables. A variable that is unset or
    /// empty keeps its default; any other value outside its bounds is an
    /// error naming the variable, the value and what it accepts.
    pub fn from_env() -> Result<CheckConfig, Error> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// [`CheckConfig::from_env`] with `lookup` in place of the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<CheckConfig, Error> {
        let value = |name: &'static str| -> Result<Option<String>, Error> {
            match lookup(name) {
                None => Ok(None),
                Some(v) => {
                    let v = v
                        .into_string()
                        .map_err(|_| Error::KnobNotUnicode { name })?;
                    Ok((!v.trim().is_empty()).then_some(v))
                }
            }
        };
        let mut c = CheckConfig::default();
        if let Some(v) = value(ENV_TIMEOUT)? {
            c.timeout = parse_timeout(&v)?;
        }
        if let Some(v) = value(ENV_RETRIES)? {
            c.retries = parse_retries(&v)?;
        }
        if let Some(v) = value(ENV_BACKOFF_MS)? {
            c.backoff = parse_backoff(&v)?;
        }
        if let Some(v) = value(ENV_INSECURE)? {
            c.insecure = parse_insecure(&v)?;
        }
        Ok(c)
    }

    /// Whether `registry` is reached over plain HTTP: loopback, or listed.
    pub(crate) fn plain_http(&self, registry: &str) -> bool {
        let host = registry.rsplit_once(':').map_or(registry, |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                registry
            }
        });
        matches!(host, "localhost" | "127.0.0.1" | "[::1]")
            || self.insecure.iter().any(|r| r == registry)
    }
}

fn invalid(name: &'static str, value: &str, expected: impl Into<String>) -> Error {
    Error::InvalidKnob {
        name,
        value: value.to_string(),
        expected: expected.into(),
    }
}

fn parse_timeout(value: &str) -> Result<Duration, Error> {
    let expected = format!(
        "a number of seconds t with 0 < t ≤ {} (default {})",
        MAX_TIMEOUT.as_secs(),
        DEFAULT_TIMEOUT.as_secs()
    );
    match value.trim().parse::<f64>() {
        // NaN fails both comparisons; infinity fails the second.
        Ok(secs) if secs > 0.0 && secs <= MAX_TIMEOUT.as_secs_f64() => {
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(invalid(ENV_TIMEOUT, value, expected)),
    }
}

fn parse_retries(value: &str) -> Result<u32, Error> {
    match value.trim().parse::<u32>() {
        Ok(n) if n <= MAX_RETRIES => Ok(n),
        _ => Err(invalid(
            ENV_RETRIES,
            value,
            format!("a whole number from 0 to {MAX_RETRIES} (default {DEFAULT_RETRIES})"),
        )),
    }
}

fn parse_backoff(value: &str) -> Result<Duration, Error> {
    let max = MAX_WAIT.as_millis() as u64;
    match value.trim().parse::<u64>() {
        Ok(ms) if ms <= max => Ok(Duration::from_millis(ms)),
        _ => Err(invalid(
            ENV_BACKOFF_MS,
            value,
            format!(
                "a whole number of milliseconds from 0 to {max} (default {})",
                DEFAULT_BACKOFF.as_millis()
            ),
        )),
    }
}

/// `host[:port]` entries, comma-separated; empty entries are skipped.
fn parse_insecure(value: &str) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if let Some(why) = bad_registry_host(entry) {
            return Err(invalid(
                ENV_INSECURE,
                value,
                format!(
                    "comma-separated registry hosts `host[:port]`, such as \
                     `reg.internal:5000` (`{entry}` {why})"
                ),
            ));
        }
        out.push(entry.to_string());
    }
    Ok(out)
}

/// Why `entry` is not a registry host `host[:port]`, if it is not.
fn bad_registry_host(entry: &str) -> Option<&'static str> {
    if entry.contains("://") {
        return Some("has a scheme: write the host alone");
    }
    if entry.contains('/') {
        return Some("has a path: write the host alone");
    }
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        // [v6 address] or [v6 address]:port
        let Some((addr, after)) = rest.split_once(']') else {
            return Some("has no closing `]`");
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Some("is not an IPv6 address in brackets");
        }
        match after {
            "" => (entry, None),
            p => match p.strip_prefix(':') {
                Some(p) => (entry, Some(p)),
                None => return Some("has text after `]`"),
            },
        }
    } else {
        match entry.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (entry, None),
        }
    };
    if let Some(p) = port {
        if !matches!(p.parse::<u16>(), Ok(n) if n > 0) {
            return Some("has a port that is not a number from 1 to 65535");
        }
    }
    if !host.starts_with('[') {
        let label_ok = |l: &str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !host.split('.').all(label_ok) {
            return Some("is not a host name or address");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<CheckConfig, Error> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CheckConfig::from_lookup(move |name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    fn error(vars: &[(&str, &str)]) -> String {
        with(vars).expect_err("invalid").to_string()
    }

    #[test]
    fn unset_and_empty_keep_the_defaults() {
        assert_eq!(with(&[]).unwrap(), CheckConfig::default());
        let blank = [
            (ENV_TIMEOUT, ""),
            (ENV_RETRIES, " "),
            (ENV_BACKOFF_MS, ""),
            (ENV_INSECURE, ""),
        ];
        assert_eq!(with(&blank).unwrap(), CheckConfig::default());
    }

    #[test]
    fn values_in_range_are_taken() {
        let c = with(&[
            (ENV_TIMEOUT, "0.5"),
            (ENV_RETRIES, "0"),
            (ENV_BACKOFF_MS, "30000"),
            (ENV_INSECURE, " reg.internal:5000, ,[::2]:80,10.0.0.1,"),
        ])
        .unwrap();
        assert_eq!(c.timeout, Duration::from_millis(500));
        assert_eq!(c.retries, 0);
        assert_eq!(c.backoff, MAX_WAIT);
        assert_eq!(c.insecure, ["reg.internal:5000", "[::2]:80", "10.0.0.1"]);
        assert_eq!(with(&[(ENV_TIMEOUT, "600")]).unwrap().timeout, MAX_TIMEOUT);
        assert_eq!(with(&[(ENV_RETRIES, "10")]).unwrap().retries, MAX_RETRIES);
    }

    #[test]
    fn the_timeout_is_finite_positive_and_at_most_600_s() {
        for bad in [
            "inf", "-inf", "NaN", "0", "-1", "600.5", "1e300", "ten", "10s",
        ] {
            let e = error(&[(ENV_TIMEOUT, bad)]);
            assert!(e.contains(&format!("`{ENV_TIMEOUT}={bad}`")), "{e}");
            assert!(e.contains("0 < t ≤ 600"), "{e}");
        }
    }

    #[test]
    fn retries_and_backoff_are_whole_numbers_in_range() {
        for bad in ["11", "-1", "2.5", "1e300", "many"] {
            let e = error(&[(ENV_RETRIES, bad)]);
            assert!(e.contains(&format!("`{ENV_RETRIES}={bad}`")), "{e}");
            assert!(e.contains("from 0 to 10"), "{e}");
        }
        for bad in ["30001", "1e300", "-5", "0.5", "inf", "250ms"] {
            let e = error(&[(ENV_BACKOFF_MS, bad)]);
            assert!(e.contains(&format!("`{ENV_BACKOFF_MS}={bad}`")), "{e}");
            assert!(e.contains("from 0 to 30000"), "{e}");
        }
    }

    #[test]
    fn insecure_registries_are_hosts_with_optional_ports() {
        for (bad, why) in [
            ("http://reg:5000", "scheme"),
            ("reg:5000/path", "path"),
            ("reg:0", "port"),
            ("reg:99999", "port"),
            ("reg:abc", "port"),
            ("re g", "host name"),
            ("[::1", "`]`"),
            ("[nope]:5000", "IPv6"),
            ("ok.example,-bad-.example", "host name"),
        ] {
            let e = error(&[(ENV_INSECURE, bad)]);
            assert!(e.contains(&format!("`{ENV_INSECURE}={bad}`")), "{e}");
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_unicode_is_named() {
        use std::os::unix::ffi::OsStringExt as _;
        let e = CheckConfig::from_lookup(|name| {
            (name == ENV_RETRIES).then(|| OsString::from_vec(vec![0xff]))
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains(ENV_RETRIES) && e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn loopback_is_plain_http() {
        let c = CheckConfig {
            insecure: vec!["reg.internal:5000".into()],
            ..CheckConfig::default()
        };
        assert!(c.plain_http("localhost:5000"));
        assert!(c.plain_http("127.0.0.1:5765"));
        assert!(c.plain_http("reg.internal:5000"));
        assert!(!c.plain_http("ghcr.io"));
    }
}
