//! The token server of a token-auth [`TestRegistry`](super::TestRegistry): it
//! answers `GET /token?service=..&scope=..` with an RS256 JWT (signed with the
//! key of a self-signed certificate the registry trusts, which its `x5c`
//! header carries) granting what a [`TokenPolicy`] allows, and logs each
//! request ([`TokenRequest`]).

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hyper::body::Bytes;
use hyper::{Request, Response};
use serde_json::json;

use super::common::random_string;
use super::server::{respond, Body, Handler, Reply, Server};

const TOKEN_SERVICE: &str = "imagespec-test-registry";
const TOKEN_ISSUER: &str = "imagespec-test-issuer";

/// One scope of a token request, e.g. `repository:allowed/app:pull,push`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// `repository` (or `registry` for `registry:catalog:*`).
    pub kind: String,
    /// The repository name.
    pub name: String,
    /// Requested (or, in [`TokenRequest::granted`], granted) actions.
    pub actions: Vec<String>,
}

impl Scope {
    fn parse(s: &str) -> Option<Scope> {
        let (kind, rest) = s.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        Some(Scope {
            kind: kind.into(),
            name: name.into(),
            actions: actions
                .split(',')
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect(),
        })
    }
}

/// What the token server saw in one request (the harness's own requests are
/// not recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The `service` query parameter.
    pub service: Option<String>,
    /// The basic-auth user name presented, if any.
    pub user: Option<String>,
    /// The scopes asked for (the `scope` parameter may repeat or be absent).
    pub scopes: Vec<Scope>,
    /// What was granted (empty when the request was refused with 401).
    pub granted: Vec<Scope>,
    /// The HTTP status the token server answered.
    pub status: u16,
}

type GrantFn = dyn Fn(Option<(&str, &str)>, &Scope) -> Vec<String> + Send + Sync;

/// Decides which actions a token grants, per requested scope and presented
/// basic credentials. Granted actions are always limited to those requested.
#[derive(Clone)]
pub struct TokenPolicy {
    grant: Arc<GrantFn>,
    required: Option<(String, String)>,
}

impl fmt::Debug for TokenPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPolicy")
            .field("required_user", &self.required.as_ref().map(|(u, _)| u))
            .finish_non_exhaustive()
    }
}

impl TokenPolicy {
    /// `grant(credentials, scope)` returns the actions to grant for `scope`;
    /// `credentials` is the `(user, password)` of the request's basic auth.
    pub fn new(
        grant: impl Fn(Option<(&str, &str)>, &Scope) -> Vec<String> + Send + Sync + 'static,
    ) -> TokenPolicy {
        TokenPolicy {
            grant: Arc::new(grant),
            required: None,
        }
    }

    /// Grants every requested action to anyone.
    pub fn allow_all() -> TokenPolicy {
        TokenPolicy::new(|_, scope| scope.actions.clone())
    }

    /// Grants `pull` (only) on repositories whose name starts with `prefix`
    /// (e.g. `"allowed/"`), nothing anywhere else.
    pub fn pull_only(prefix: &str) -> TokenPolicy {
        let prefix = prefix.to_string();
        TokenPolicy::new(move |_, scope| {
            if scope.kind == "repository" && scope.name.starts_with(&prefix) {
                vec!["pull".into()]
            } else {
                Vec::new()
            }
        })
    }

    /// Token requests without exactly these basic credentials are answered
    /// 401 by the token server (as a private registry's would).
    pub fn require_basic(mut self, user: &str, password: &str) -> TokenPolicy {
        self.required = Some((user.into(), password.into()));
        self
    }
}

/// The token signing key and the self-signed certificate holding its public
/// half (the registry's `rootcertbundle`).
struct SigningMaterial {
    key: jsonwebtoken::EncodingKey,
    cert_der: Vec<u8>,
    cert_pem: String,
}

/// One RSA key and self-signed certificate per test process (key generation
/// is the slow part).
fn signing_material() -> &'static SigningMaterial {
    static MATERIAL: OnceLock<SigningMaterial> = OnceLock::new();
    MATERIAL.get_or_init(|| {
        use rcgen::{
            BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair,
            KeyUsagePurpose, SerialNumber,
        };
        let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("generate an RSA key");
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "imagespec-test-token-issuer");
        params.serial_number = Some(SerialNumber::from(1u64));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        let now = SystemTime::now();
        params.not_before = (now - Duration::from_secs(3600)).into();
        params.not_after = (now + Duration::from_secs(7 * 86400)).into();
        let cert = params.self_signed(&key).expect("sign the certificate");
        SigningMaterial {
            key: jsonwebtoken::EncodingKey::from_rsa_pem(key.serialize_pem().as_bytes())
                .expect("the RSA key as a JWT signing key"),
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
        }
    })
}

/// An RS256 JWT the registry accepts, granting `access`: the claims
/// distribution's token auth reads (`iss`, `sub`, `aud`, `exp`, `nbf`, `iat`,
/// `jti`, `access`), the certificate in the `x5c` header.
fn sign_token(service: &str, subject: &str, access: &[Scope]) -> String {
    let material = signing_material();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.x5c = Some(vec![B64.encode(&material.cert_der)]);
    let access: Vec<_> = access
        .iter()
        .map(|s| json!({"type": s.kind, "name": s.name, "actions": s.actions}))
        .collect();
    let claims = json!({
        "iss": TOKEN_ISSUER,
        "sub": subject,
        "aud": service,
        "exp": now + 600,
        "nbf": now.saturating_sub(10),
        "iat": now,
        "jti": random_string(20),
        "access": access,
    });
    jsonwebtoken::encode(&header, &claims, &material.key).expect("sign a token")
}

#[derive(Debug)]
struct TokenState {
    policy: TokenPolicy,
    admin: (String, String),
    log: Mutex<Vec<TokenRequest>>,
}

/// The token server of a [`TestRegistry::token`](super::TestRegistry::token)
/// registry: an HTTP/1.1 server on `127.0.0.1` answering
/// `GET /token?service=..&scope=..` with `{"token": JWT, "access_token": JWT}`.
/// Stopped on drop.
#[derive(Debug)]
pub struct TokenServer {
    server: Server,
    state: Arc<TokenState>,
}

impl TokenServer {
    pub(super) fn start(policy: TokenPolicy) -> TokenServer {
        // Make the key before the first request needs it.
        signing_material();
        let state = Arc::new(TokenState {
            policy,
            admin: (format!("harness-{}", random_string(8)), random_string(24)),
            log: Mutex::new(Vec::new()),
        });
        let server = Server::start("token-server", TokenHandler(Arc::clone(&state)));
        TokenServer { server, state }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.server.addr().to_string()
    }

    /// `http://127.0.0.1:PORT/token`, the realm of the registry's challenge.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.host())
    }

    /// The `service` the registry names in its challenge (and expects as `aud`).
    pub fn service(&self) -> &str {
        TOKEN_SERVICE
    }

    /// How many token requests it has answered (the harness's own excluded).
    pub fn requests(&self) -> usize {
        self.state.log.lock().expect("token log").len()
    }

    /// The token requests it has answered (the harness's own excluded).
    pub fn log(&self) -> Vec<TokenRequest> {
        self.state.log.lock().expect("token log").clone()
    }

    /// The issuer the registry expects (`iss`).
    pub(super) fn issuer(&self) -> &str {
        TOKEN_ISSUER
    }

    /// The PEM certificate the registry trusts for tokens (`rootcertbundle`).
    pub(super) fn cert_pem(&self) -> &str {
        &signing_material().cert_pem
    }

    /// A token with pull and push on `repo`, bypassing the policy.
    pub(super) fn admin_token(&self, repo: &str) -> String {
        let scope = Scope {
            kind: "repository".into(),
            name: repo.into(),
            actions: vec!["pull".into(), "push".into()],
        };
        sign_token(TOKEN_SERVICE, &self.state.admin.0, &[scope])
    }
}

struct TokenHandler(Arc<TokenState>);

impl Handler for TokenHandler {
    async fn handle(&self, req: Request<Bytes>) -> Reply {
        Reply::Respond(answer(&self.0, &req))
    }
}

fn answer(state: &TokenState, req: &Request<Bytes>) -> Response<Body> {
    if req.method() != hyper::Method::GET || req.uri().path() != "/token" {
        return respond(
            404,
            &[("Content-Type", "text/plain")],
            b"not found\n".to_vec(),
        );
    }
    let mut service = None;
    let mut scopes = Vec::new();
    for (k, v) in form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        match &*k {
            "service" => service = Some(v.into_owned()),
            "scope" => scopes.extend(v.split_whitespace().filter_map(Scope::parse)),
            _ => {}
        }
    }
    let creds = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_basic);
    let creds_ref = creds.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
    let is_admin = creds_ref == Some((state.admin.0.as_str(), state.admin.1.as_str()));
    let refused = !is_admin
        && state
            .policy
            .required
            .as_ref()
            .is_some_and(|(u, p)| creds_ref != Some((u.as_str(), p.as_str())));
    let granted: Vec<Scope> = if refused {
        Vec::new()
    } else {
        scopes
            .iter()
            .map(|s| {
                let allowed = if is_admin {
                    s.actions.clone()
                } else {
                    (state.policy.grant)(creds_ref, s)
                };
                Scope {
                    kind: s.kind.clone(),
                    name: s.name.clone(),
                    actions: s
                        .actions
                        .iter()
                        .filter(|a| allowed.contains(a))
                        .cloned()
                        .collect(),
                }
            })
            .collect()
    };
    let status = if refused { 401 } else { 200 };
    if !is_admin {
        state.log.lock().expect("token log").push(TokenRequest {
            service: service.clone(),
            user: creds.as_ref().map(|(u, _)| u.clone()),
            scopes,
            granted: granted.clone(),
            status,
        });
    }
    if refused {
        return respond(
            401,
            &[
                ("Content-Type", "application/json"),
                ("Www-Authenticate", "Basic realm=\"imagespec-test-token\""),
            ],
            br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#.to_vec(),
        );
    }
    let subject = creds.as_ref().map(|(u, _)| u.as_str()).unwrap_or("");
    let token = sign_token(
        service.as_deref().unwrap_or(TOKEN_SERVICE),
        subject,
        &granted,
    );
    let body = json!({"token": token, "access_token": token, "expires_in": 600});
    respond(
        200,
        &[("Content-Type", "application/json")],
        body.to_string().into_bytes(),
    )
}

/// `Basic base64(user:password)`, an `Authorization` header value.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", B64.encode(format!("{user}:{password}")))
}

fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(B64.decode(rest.trim()).ok()?).ok()?;
    let (u, p) = decoded.split_once(':')?;
    Some((u.into(), p.into()))
}
