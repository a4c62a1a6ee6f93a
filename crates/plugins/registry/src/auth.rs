//! How requests to a registry are authorized, as docker does it: ping
//! `/v2/`; a `401` with a `Bearer` challenge sends the client to the realm
//! for a pull token (with docker's credentials, if any, as basic auth); a
//! `Basic` challenge has the credentials sent as they are.

use imagespec_core::redact::Secrets;
use oci_client::secrets::RegistryAuth;
use reqwest::header::WWW_AUTHENTICATE;
use reqwest::{RequestBuilder, StatusCode, Url};

use crate::transport::{read_body, request_failure, retry_after, safe_url, Failure};

/// A registry's answer to an unauthorized request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
    },
    Basic,
}

/// The challenge in `WWW-Authenticate` headers: the first `Bearer` one with
/// a realm, else `Basic` if offered.
fn challenge(headers: &reqwest::header::HeaderMap) -> Option<Challenge> {
    let mut basic = false;
    for value in headers.get_all(WWW_AUTHENTICATE) {
        let Ok(value) = value.to_str() else { continue };
        let Ok(challenges) = http_auth::parse_challenges(value) else {
            continue;
        };
        for c in challenges {
            if c.scheme.eq_ignore_ascii_case("bearer") {
                let param = |name: &str| {
                    c.params
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.to_unescaped())
                };
                if let Some(realm) = param("realm") {
                    return Some(Challenge::Bearer {
                        realm,
                        service: param("service"),
                    });
                }
            } else if c.scheme.eq_ignore_ascii_case("basic") {
                basic = true;
            }
        }
    }
    basic.then_some(Challenge::Basic)
}

/// What a request carries to be allowed.
#[derive(Clone)]
pub(crate) enum Authorization {
    None,
    Basic(String, String),
    Bearer(String),
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret itself.
        f.write_str(match self {
            Authorization::None => "None",
            Authorization::Basic(..) => "Basic(<redacted>)",
            Authorization::Bearer(_) => "Bearer(<redacted>)",
        })
    }
}

impl Authorization {
    /// `request` with this `Authorization` header (marked sensitive).
    pub(crate) fn apply(&self, request: RequestBuilder) -> RequestBuilder {
        match self {
            Authorization::None => request,
            Authorization::Basic(user, password) => request.basic_auth(user, Some(password)),
            Authorization::Bearer(token) => request.bearer_auth(token),
        }
    }
}

/// One check's way of authorizing its requests to one repository.
#[derive(Debug)]
pub(crate) struct Session {
    pub client: reqwest::Client,
    /// `scheme://registry`.
    pub base: String,
    pub repository: String,
    pub credentials: RegistryAuth,
    /// The authorization to send, once found.
    authorization: tokio::sync::OnceCell<Authorization>,
    /// The secrets met (credentials, tokens): masked in what the checker says.
    pub masked: std::sync::Arc<std::sync::Mutex<Secrets>>,
    /// What a token is asked for: `pull`, or `pull,push` to write.
    pub actions: &'static str,
}

impl Session {
    pub(crate) fn new(
        client: reqwest::Client,
        base: String,
        repository: String,
        credentials: RegistryAuth,
        masked: std::sync::Arc<std::sync::Mutex<Secrets>>,
    ) -> Session {
        {
            let mut m = masked.lock().unwrap_or_else(|e| e.into_inner());
            match &credentials {
                RegistryAuth::Basic(_, secret) | RegistryAuth::Bearer(secret) => m.add(secret),
                RegistryAuth::Anonymous => {}
            }
        }
        Session {
            client,
            base,
            repository,
            credentials,
            authorization: tokio::sync::OnceCell::new(),
            masked,
            actions: "pull",
        }
    }

    /// The same session asking for tokens that also push.
    pub(crate) fn pushing(mut self) -> Session {
        self.actions = "pull,push";
        self
    }

    /// The `Authorization` header for this session's requests, found once
    /// (ping, then a token if the registry asks for one) and kept.
    pub(crate) async fn authorization(&self) -> Result<Authorization, Failure> {
        self.authorization
            .get_or_try_init(|| self.negotiate())
            .await
            .cloned()
    }

    fn basic(&self) -> Authorization {
        match &self.credentials {
            RegistryAuth::Basic(user, password) => {
                Authorization::Basic(user.clone(), password.clone())
            }
            _ => Authorization::None,
        }
    }

    async fn negotiate(&self) -> Result<Authorization, Failure> {
        if let RegistryAuth::Bearer(token) = &self.credentials {
            return Ok(Authorization::Bearer(token.clone()));
        }
        let ping = self
            .client
            .get(format!("{}/v2/", self.base))
            .send()
            .await
            .map_err(|e| request_failure(&e))?;
        let status = ping.status();
        match status.as_u16() {
            401 => match challenge(ping.headers()) {
                Some(Challenge::Bearer { realm, service }) => {
                    let token = self.token(&realm, service.as_deref()).await?;
                    Ok(Authorization::Bearer(token))
                }
                Some(Challenge::Basic) | None => Ok(self.basic()),
            },
            429 | 500.. => Err(Failure::Transient {
                reason: if status == StatusCode::TOO_MANY_REQUESTS {
                    "429 too many requests".into()
                } else {
                    format!("server error {}", status.as_u16())
                },
                retry_after: retry_after(status, ping.headers()),
            }),
            // The registry needs no credentials (or says nothing useful here).
            _ => Ok(Authorization::None),
        }
    }

    /// A token for the repository (its `actions`) from `realm`.
    async fn token(&self, realm: &str, service: Option<&str>) -> Result<String, Failure> {
        let mut url = Url::parse(realm)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                Failure::Final("the registry's token realm is not an http(s) URL".into())
            })?;
        let shown = safe_url(&url);
        // Credentials (and the token that comes back) never travel in the
        // clear for a registry spoken to over HTTPS. (A realm on another host
        // or port is used, as docker uses it: the registry names it.)
        if self.base.starts_with("https://") && url.scheme() == "http" {
            return Err(Failure::Final(format!(
                "the registry `{}` is spoken to over HTTPS but names a token server over plain HTTP \
                 (`{shown}`); imagespec sends no credentials and asks for no token in the clear",
                self.base.trim_start_matches("https://")
            )));
        }
        url.query_pairs_mut().append_pair(
            "scope",
            &format!("repository:{}:{}", self.repository, self.actions),
        );
        if let Some(s) = service {
            url.query_pairs_mut().append_pair("service", s);
        }
        let resp = self
            .basic()
            .apply(self.client.get(url))
            .send()
            .await
            .map_err(|e| match request_failure(&e) {
                Failure::Transient { reason, .. } => {
                    Failure::transient(format!("token server `{shown}`: {reason}"))
                }
                other => other,
            })?;
        let status = resp.status();
        match status.as_u16() {
            200 => {}
            401 | 403 => {
                let whose = match self.credentials {
                    RegistryAuth::Anonymous => "an anonymous token request",
                    _ => "the docker credentials",
                };
                return Err(Failure::Final(format!(
                    "the token server `{shown}` refused {whose} ({}); check your docker credentials",
                    status.as_u16()
                )));
            }
            429 | 500.. => {
                return Err(Failure::Transient {
                    reason: format!("token server `{shown}` answered {}", status.as_u16()),
                    retry_after: retry_after(status, resp.headers()),
                })
            }
            c => {
                return Err(Failure::Final(format!(
                    "the token server `{shown}` answered {c}"
                )))
            }
        }
        let body = read_body(resp, &format!("the token request to `{shown}`")).await?;
        let json: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
            Failure::Final(format!("the token server `{shown}` answered with no JSON"))
        })?;
        ["token", "access_token"]
            .iter()
            .find_map(|k| {
                json.get(k)
                    .and_then(|t| t.as_str())
                    .filter(|t| !t.is_empty())
            })
            .map(|token| {
                // A bearer token is a credential too: masked in what is said.
                self.masked
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .add(token);
                token.to_string()
            })
            .ok_or_else(|| {
                Failure::Final(format!("the token server `{shown}` answered with no token"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(WWW_AUTHENTICATE, v.parse().unwrap());
        }
        h
    }

    /// Credentials never go to a plain-HTTP token server for a registry
    /// spoken to over HTTPS: refused before any connection.
    #[tokio::test]
    async fn a_plain_http_realm_of_an_https_registry_is_refused() {
        let session = Session::new(
            reqwest::Client::new(),
            "https://registry.example".into(),
            "team/app".into(),
            RegistryAuth::Basic("alice".into(), "s3cret".into()),
            Default::default(),
        );
        let Err(Failure::Final(reason)) = session.token("http://127.0.0.1:9/token", None).await
        else {
            panic!("refused")
        };
        assert!(reason.contains("plain HTTP"), "{reason}");
        assert!(!reason.contains("s3cret"), "{reason}");
    }

    #[test]
    fn challenges() {
        assert_eq!(
            challenge(&headers(&[
                r#"Bearer realm="http://127.0.0.1:1/token",service="reg \"x\"",scope="repository:a:pull""#
            ])),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:1/token".into(),
                service: Some("reg \"x\"".into()),
            })
        );
        assert_eq!(
            challenge(&headers(&[r#"Basic realm="reg""#])),
            Some(Challenge::Basic)
        );
        assert_eq!(
            challenge(&headers(&[
                r#"Basic realm="a""#,
                r#"Bearer realm="https://t/""#
            ])),
            Some(Challenge::Bearer {
                realm: "https://t/".into(),
                service: None
            })
        );
        assert_eq!(challenge(&headers(&["Bearer service=x"])), None);
        assert_eq!(challenge(&headers(&["garbage ,,, ="])), None);
    }
}
