//! Self-test of the registry harness (`imagespec_tests::registry`): every piece
//! against real `docker-registry` processes on 127.0.0.1, checked with raw HTTP
//! and with the `oci-client` crate the image-existence checker uses.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime};

use imagespec_tests::registry::{
    basic_auth, http_date, http_request, sha256_digest, Fault, FaultProxy, Format, HttpResponse,
    TestRegistry, TokenPolicy, ACCEPT_MANIFESTS, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST,
    FAULT_TOKEN_SERVICE, OCI_INDEX, OCI_MANIFEST,
};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::OciManifest;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

fn get(host: &str, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    http_request("GET", host, path, headers, b"")
        .unwrap_or_else(|e| panic!("GET {path} on {host}: {e}"))
}

fn get_manifest(host: &str, repo: &str, reference: &str, auth: Option<&str>) -> HttpResponse {
    let mut headers = vec![("Accept", ACCEPT_MANIFESTS)];
    if let Some(a) = auth {
        headers.push(("Authorization", a));
    }
    get(host, &format!("/v2/{repo}/manifests/{reference}"), &headers)
}

fn client() -> Client {
    Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..Default::default()
    })
}

fn reference(host: &str, repo: &str, tag: &str) -> Reference {
    format!("{host}/{repo}:{tag}").parse().expect("reference")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A token from the registry's token server, asked for like a client would.
fn fetch_token(reg: &TestRegistry, scope: &str) -> HttpResponse {
    let ts = reg.token_server().expect("token registry");
    let path = format!("/token?service={}&scope={}", ts.service(), scope);
    get(&ts.host(), &path, &[])
}

// Runs inside a tokio runtime on purpose: the harness must not depend on it.
#[tokio::test]
async fn no_auth_push_and_pull() {
    let reg = TestRegistry::no_auth();
    let host = reg.host();
    assert_eq!(get(&host, "/v2/", &[]).status, 200);

    let digest = reg.push_image("library/app", "1.0", Format::Oci);
    let resp = get_manifest(&host, "library/app", "1.0", None);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(sha256_digest(&resp.body), digest);
    let manifest = resp.json();
    assert_eq!(manifest["mediaType"], OCI_MANIFEST);
    assert_eq!(manifest["layers"].as_array().map(Vec::len), Some(1));
    // The config and layer blobs are there too.
    for blob in [&manifest["config"], &manifest["layers"][0]] {
        let d = blob["digest"].as_str().expect("digest");
        let r = get(&host, &format!("/v2/library/app/blobs/{d}"), &[]);
        assert_eq!(r.status, 200);
        assert_eq!(sha256_digest(&r.body), d);
    }

    assert_eq!(
        get_manifest(&host, "library/app", &digest, None).status,
        200
    );
    let head = http_request(
        "HEAD",
        &host,
        "/v2/library/app/manifests/1.0",
        &[("Accept", ACCEPT_MANIFESTS)],
        b"",
    )
    .expect("HEAD");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("docker-content-digest"), Some(digest.as_str()));

    let missing = get_manifest(&host, "library/app", "nope", None);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["errors"][0]["code"], "MANIFEST_UNKNOWN");

    let docker = reg.push_image("library/app", "docker", Format::Docker);
    assert_ne!(docker, digest, "each tag gets its own image");
    let resp = get_manifest(&host, "library/app", "docker", None);
    assert_eq!(resp.json()["mediaType"], DOCKER_MANIFEST);

    let c = client();
    let got = c
        .fetch_manifest_digest(
            &reference(&host, "library/app", "1.0"),
            &RegistryAuth::Anonymous,
        )
        .await
        .expect("oci-client finds the image");
    assert_eq!(got, digest);
    assert!(c
        .fetch_manifest_digest(
            &reference(&host, "library/app", "nope"),
            &RegistryAuth::Anonymous
        )
        .await
        .is_err());

    // Dropping the registry stops it.
    drop(reg);
    assert!(http_request("GET", &host, "/v2/", &[], b"").is_err());
}

#[test]
fn htpasswd_requires_credentials() {
    let reg = TestRegistry::htpasswd("alice", "s3cret");
    let host = reg.host();
    let good = basic_auth("alice", "s3cret");
    let bad = basic_auth("alice", "wrong");

    let anon = get(&host, "/v2/", &[]);
    assert_eq!(anon.status, 401);
    let challenge = anon.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Basic "), "{challenge}");
    assert_eq!(get(&host, "/v2/", &[("Authorization", &good)]).status, 200);
    assert_eq!(get(&host, "/v2/", &[("Authorization", &bad)]).status, 401);

    let digest = reg.push_image("team/app", "v1", Format::Oci);
    assert_eq!(get_manifest(&host, "team/app", "v1", None).status, 401);
    let resp = get_manifest(&host, "team/app", "v1", Some(&good));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("docker-content-digest"), Some(digest.as_str()));

    // An index pushed with credentials too.
    let index = reg.push_index("team/multi", "v1", &[("linux", "amd64")], Format::Oci);
    assert_eq!(reg.get_manifest("team/multi", &index).status, 200);

    let rt = runtime();
    let c = client();
    let image = reference(&host, "team/app", "v1");
    let got = rt
        .block_on(c.fetch_manifest_digest(
            &image,
            &RegistryAuth::Basic("alice".into(), "s3cret".into()),
        ))
        .expect("oci-client with basic auth");
    assert_eq!(got, digest);
    assert!(rt
        .block_on(client().fetch_manifest_digest(&image, &RegistryAuth::Anonymous))
        .is_err());
}

#[test]
fn token_auth_challenge_and_policy() {
    let reg = TestRegistry::token(TokenPolicy::pull_only("allowed/"));
    let host = reg.host();
    let ts = reg.token_server().expect("token server");
    let allowed = reg.push_image("allowed/app", "1", Format::Oci);
    reg.push_image("denied/app", "1", Format::Oci);
    assert_eq!(ts.requests(), 0, "the harness's own tokens are not counted");

    let ping = get(&host, "/v2/", &[]);
    assert_eq!(ping.status, 401);
    let challenge = ping.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer ")
            && challenge.contains(&format!("realm=\"{}\"", ts.realm()))
            && challenge.contains(&format!("service=\"{}\"", ts.service())),
        "{challenge}"
    );
    assert_eq!(get_manifest(&host, "allowed/app", "1", None).status, 401);

    // A token for the allowed repository works.
    let resp = fetch_token(&reg, "repository:allowed/app:pull");
    assert_eq!(resp.status, 200);
    let body = resp.json();
    let token = body["token"].as_str().expect("token").to_string();
    assert_eq!(body["access_token"].as_str(), Some(token.as_str()));
    let bearer = format!("Bearer {token}");
    let resp = get_manifest(&host, "allowed/app", "1", Some(&bearer));
    assert_eq!(resp.status, 200, "{}\n{}", resp.text(), reg.log());
    assert_eq!(resp.header("docker-content-digest"), Some(allowed.as_str()));

    // It does not open another repository.
    let resp = get_manifest(&host, "denied/app", "1", Some(&bearer));
    assert!(
        matches!(resp.status, 401 | 403),
        "HTTP {} {}",
        resp.status,
        resp.text()
    );

    // A token asked for the other repository grants nothing: refused.
    let resp = fetch_token(&reg, "repository:denied/app:pull");
    assert_eq!(resp.status, 200);
    let bearer = format!("Bearer {}", resp.json()["token"].as_str().expect("token"));
    let resp = get_manifest(&host, "denied/app", "1", Some(&bearer));
    assert!(
        matches!(resp.status, 401 | 403),
        "HTTP {} {}",
        resp.status,
        resp.text()
    );
    let codes = resp.text();
    assert!(
        codes.contains("UNAUTHORIZED") || codes.contains("DENIED"),
        "{codes}"
    );

    // Pull only: a push with the allowed token is refused.
    let resp = http_request(
        "POST",
        &host,
        "/v2/allowed/app/blobs/uploads/",
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    )
    .expect("POST");
    assert!(matches!(resp.status, 401 | 403), "HTTP {}", resp.status);

    let log = ts.log();
    assert_eq!(ts.requests(), 2);
    assert_eq!(log[0].service.as_deref(), Some(ts.service()));
    assert_eq!(log[0].scopes[0].name, "allowed/app");
    assert_eq!(log[0].granted[0].actions, vec!["pull".to_string()]);
    assert!(log[1].granted[0].actions.is_empty());

    // oci-client goes through the 401 challenge to the token server.
    let rt = runtime();
    let got = rt
        .block_on(client().fetch_manifest_digest(
            &reference(&host, "allowed/app", "1"),
            &RegistryAuth::Anonymous,
        ))
        .expect("oci-client pulls an allowed image anonymously");
    assert_eq!(got, allowed);
    assert_eq!(ts.requests(), 3, "{:?}", ts.log());
    assert!(rt
        .block_on(client().fetch_manifest_digest(
            &reference(&host, "denied/app", "1"),
            &RegistryAuth::Anonymous,
        ))
        .is_err());
}

#[test]
fn token_auth_requiring_credentials() {
    let reg = TestRegistry::token(TokenPolicy::allow_all().require_basic("bob", "pw"));
    let host = reg.host();
    let ts = reg.token_server().expect("token server");
    let digest = reg.push_image("private/app", "1", Format::Docker);

    // No credentials: the token server itself says 401.
    assert_eq!(fetch_token(&reg, "repository:private/app:pull").status, 401);
    let rt = runtime();
    let image = reference(&host, "private/app", "1");
    assert!(rt
        .block_on(client().fetch_manifest_digest(&image, &RegistryAuth::Anonymous))
        .is_err());
    assert!(rt
        .block_on(
            client()
                .fetch_manifest_digest(&image, &RegistryAuth::Basic("bob".into(), "nope".into()))
        )
        .is_err());
    let got = rt
        .block_on(
            client().fetch_manifest_digest(&image, &RegistryAuth::Basic("bob".into(), "pw".into())),
        )
        .expect("oci-client with the right credentials");
    assert_eq!(got, digest);
    let log = ts.log();
    let last = log.last().expect("logged");
    assert_eq!((last.user.as_deref(), last.status), (Some("bob"), 200));
    assert!(log.iter().any(|r| r.status == 401));
}

#[test]
fn push_index_lists_platforms() {
    let reg = TestRegistry::no_auth();
    let platforms = [("linux", "amd64"), ("linux", "arm64"), ("linux", "arm/v7")];
    for (format, index_type, child_type) in [
        (Format::Oci, OCI_INDEX, OCI_MANIFEST),
        (Format::Docker, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST),
    ] {
        let digest = reg.push_index("multi/app", "1", &platforms, format);
        let resp = reg.get_manifest("multi/app", "1");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("docker-content-digest"), Some(digest.as_str()));
        assert_eq!(resp.header("content-type"), Some(index_type), "{format:?}");
        let index = resp.json();
        assert_eq!(index["mediaType"], index_type);
        let entries = index["manifests"].as_array().expect("manifests");
        let listed: Vec<String> = entries
            .iter()
            .map(|m| {
                let p = &m["platform"];
                let mut s = format!(
                    "{}/{}",
                    p["os"].as_str().unwrap(),
                    p["architecture"].as_str().unwrap()
                );
                if let Some(v) = p["variant"].as_str() {
                    s = format!("{s}/{v}");
                }
                s
            })
            .collect();
        assert_eq!(listed, ["linux/amd64", "linux/arm64", "linux/arm/v7"]);
        for m in entries {
            assert_eq!(m["mediaType"], child_type);
            let child = reg.get_manifest("multi/app", m["digest"].as_str().unwrap());
            assert_eq!(child.status, 200);
            assert_eq!(child.json()["mediaType"], child_type);
        }
    }
    // oci-client reads the (last pushed, Docker) list as an index.
    let (manifest, _) = runtime()
        .block_on(client().pull_manifest(
            &reference(&reg.host(), "multi/app", "1"),
            &RegistryAuth::Anonymous,
        ))
        .expect("oci-client pulls the index");
    match manifest {
        OciManifest::ImageIndex(i) => assert_eq!(i.manifests.len(), 3),
        other => panic!("expected an index, got {other:?}"),
    }
}

#[test]
fn fault_proxy_faults_and_passes_through() {
    let reg = TestRegistry::no_auth();
    let digest = reg.push_image("library/app", "1.0", Format::Oci);
    let proxy = FaultProxy::start(&reg.host());
    let host = proxy.host();
    let manifest = || get_manifest(&host, "library/app", "1.0", None);

    // Pass-through.
    let resp = manifest();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(sha256_digest(&resp.body), digest);

    for status in [500, 429, 503] {
        proxy.set(Fault::Status(status));
        let resp = manifest();
        assert_eq!(resp.status, status);
        assert!(resp.header("retry-after").is_none());
        assert!(resp.json()["errors"][0]["code"].is_string());
    }
    proxy.set(Fault::RetryAfter {
        status: 429,
        seconds: 1,
    });
    let resp = manifest();
    assert_eq!((resp.status, resp.header("retry-after")), (429, Some("1")));

    proxy.set(Fault::StatusThenPass {
        status: 503,
        times: 2,
    });
    let statuses: Vec<u16> = (0..3).map(|_| manifest().status).collect();
    assert_eq!(statuses, [503, 503, 200]);

    proxy.set(Fault::HarborNotFound);
    let resp = manifest();
    assert_eq!(resp.status, 500);
    assert_eq!(
        resp.text(),
        r#"{"errors":[{"code":"UNKNOWN","message":"unknown: artifact library/app:1.0 not found"}]}"#
    );
    let ping = get(&host, "/v2/", &[]);
    assert_eq!(ping.status, 200, "non-manifest requests pass");

    proxy.set(Fault::Delay(Duration::from_millis(800)));
    let start = Instant::now();
    let resp = get_manifest(&host, "library/app", "1.0", None);
    assert_eq!(resp.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(800));
    // A client with a shorter timeout gives up.
    let mut raw = TcpStream::connect(&host).expect("connect");
    raw.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    raw.write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut buf = [0u8; 64];
    let err = raw.read(&mut buf).expect_err("times out before the answer");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err:?}"
    );

    proxy.set(Fault::Reset);
    let err = http_request("GET", &host, "/v2/library/app/manifests/1.0", &[], b"")
        .expect_err("reset connection");
    eprintln!("reset gives: {err:?}");

    // Uploads through the proxy: the registry's Location points back at it.
    proxy.set(Fault::None);
    let resp =
        http_request("POST", &host, "/v2/library/app/blobs/uploads/", &[], b"").expect("POST");
    assert_eq!(resp.status, 202);
    assert!(
        resp.header("location").unwrap_or_default().contains(&host),
        "{:?}",
        resp.header("location")
    );

    // oci-client through the proxy.
    let rt = runtime();
    let image = reference(&host, "library/app", "1.0");
    let got = rt
        .block_on(client().fetch_manifest_digest(&image, &RegistryAuth::Anonymous))
        .expect("oci-client through the proxy");
    assert_eq!(got, digest);
    proxy.set(Fault::Status(500));
    let before = proxy.requests();
    assert!(rt
        .block_on(client().fetch_manifest_digest(&image, &RegistryAuth::Anonymous))
        .is_err());
    assert!(proxy.requests() > before);
}

#[test]
fn fault_proxy_counts_requests() {
    let reg = TestRegistry::no_auth();
    let proxy = FaultProxy::start(&reg.host());
    assert_eq!(proxy.requests(), 0);
    for _ in 0..3 {
        assert_eq!(get(&proxy.host(), "/v2/", &[]).status, 200);
    }
    proxy.set(Fault::Status(500));
    assert_eq!(get(&proxy.host(), "/v2/", &[]).status, 500);
    assert_eq!(proxy.requests(), 4);
}

/// Sends `GET path` on a raw connection to `host` and reads the head of the
/// answer and then at least `body_bytes` more bytes (a body that never ends
/// cannot be read to its end), within `limit`. Returns the head and the time
/// the bytes took.
fn read_some(host: &str, path: &str, body_bytes: usize, limit: Duration) -> (String, Duration) {
    let mut raw = TcpStream::connect(host).expect("connect");
    raw.set_read_timeout(Some(limit)).expect("timeout");
    write!(
        raw,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {ACCEPT_MANIFESTS}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let head_end = loop {
        let n = raw.read(&mut buf).expect("read the head");
        assert!(
            n > 0,
            "closed before the head: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&got[..head_end]).into_owned();
    let mut body = got.len() - head_end;
    while body < body_bytes {
        assert!(
            start.elapsed() < limit,
            "{body} of {body_bytes} bytes in {limit:?}"
        );
        let n = raw.read(&mut buf).expect("read the body");
        assert!(n > 0, "the body ended after {body} bytes");
        body += n;
    }
    (head, start.elapsed())
}

#[test]
fn fault_proxy_retry_after_then_pass_with_seconds_or_dates() {
    let reg = TestRegistry::no_auth();
    reg.push_image("library/app", "1.0", Format::Oci);
    let proxy = FaultProxy::start(&reg.host());
    let host = proxy.host();
    let date = http_date(SystemTime::now() + Duration::from_secs(5));
    for value in ["2".to_string(), date] {
        proxy.set(Fault::RetryAfterThenPass {
            status: 503,
            value: value.clone(),
            times: 2,
        });
        for _ in 0..2 {
            let resp = get_manifest(&host, "library/app", "1.0", None);
            assert_eq!(
                (resp.status, resp.header("retry-after")),
                (503, Some(value.as_str()))
            );
        }
        let resp = get_manifest(&host, "library/app", "1.0", None);
        assert_eq!((resp.status, resp.header("retry-after")), (200, None));
    }
    assert!(http_date(SystemTime::UNIX_EPOCH).ends_with("1970 00:00:00 GMT"));
}

#[test]
fn fault_proxy_endless_and_trickling_bodies() {
    let reg = TestRegistry::no_auth();
    let digest = reg.push_image("library/app", "1.0", Format::Oci);
    let proxy = FaultProxy::start(&reg.host());
    let host = proxy.host();
    let path = "/v2/library/app/manifests/1.0";

    proxy.set(Fault::EndlessBody);
    // Far more than any manifest, and still going.
    let (head, _) = read_some(&host, path, 16 << 20, Duration::from_secs(30));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_lowercase()
            .contains(&format!("content-type: {OCI_INDEX}")),
        "{head}"
    );
    assert!(!head.to_lowercase().contains("content-length"), "{head}");
    assert!(proxy.streamed_bytes() >= 16 << 20);
    // HEAD and other requests pass.
    let head =
        http_request("HEAD", &host, path, &[("Accept", ACCEPT_MANIFESTS)], b"").expect("HEAD");
    assert_eq!(head.header("docker-content-digest"), Some(digest.as_str()));
    assert_eq!(get(&host, "/v2/", &[]).status, 200);

    proxy.set(Fault::TrickleBody(Duration::from_millis(100)));
    let before = proxy.streamed_bytes();
    // 60 bytes on the wire: 10 one-byte chunks (`1\r\n \r\n`), one per 100 ms.
    let (head, took) = read_some(&host, path, 60, Duration::from_secs(10));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        took >= Duration::from_millis(500),
        "10 chunks, one per 100 ms: {took:?}"
    );
    assert!(proxy.streamed_bytes() - before < 100);
}

#[test]
fn fault_proxy_manifest_bodies_and_redirect_loops() {
    let reg = TestRegistry::no_auth();
    let digest = reg.push_image("library/app", "1.0", Format::Oci);
    let proxy = FaultProxy::start(&reg.host());
    let host = proxy.host();

    let body =
        br#"{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":{}}"#.to_vec();
    proxy.set(Fault::ManifestBody {
        content_type: OCI_INDEX.into(),
        body: body.clone(),
    });
    let resp = get_manifest(&host, "library/app", "1.0", None);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, body);
    assert_eq!(resp.header("content-type"), Some(OCI_INDEX));
    assert_eq!(
        resp.header("docker-content-digest"),
        Some(sha256_digest(&body).as_str())
    );
    let head = http_request(
        "HEAD",
        &host,
        "/v2/library/app/manifests/1.0",
        &[("Accept", ACCEPT_MANIFESTS)],
        b"",
    )
    .expect("HEAD");
    assert_eq!(head.header("docker-content-digest"), Some(digest.as_str()));

    proxy.set(Fault::RedirectLoop);
    let path = "/v2/library/app/manifests/1.0";
    let first = get(&host, path, &[]);
    assert_eq!(first.status, 307);
    let next = first.header("location").expect("Location").to_string();
    assert_eq!(next, format!("{path}?imagespec-loop=1"));
    let second = get(&host, &next, &[]);
    assert_eq!(
        (second.status, second.header("location")),
        (307, Some(path))
    );
    assert_eq!(
        get(&host, "/v2/", &[]).status,
        200,
        "non-manifest requests pass"
    );
}

#[test]
fn fault_proxy_endless_token_server() {
    let reg = TestRegistry::no_auth();
    let proxy = FaultProxy::start(&reg.host());
    let host = proxy.host();
    proxy.set(Fault::EndlessToken);
    let ping = get(&host, "/v2/", &[]);
    assert_eq!(ping.status, 401);
    assert_eq!(
        ping.header("www-authenticate"),
        Some(
            format!("Bearer realm=\"http://{host}/token\",service=\"{FAULT_TOKEN_SERVICE}\"")
                .as_str()
        )
    );
    assert_eq!(get_manifest(&host, "library/app", "1.0", None).status, 401);
    let (head, _) = read_some(
        &host,
        "/token?scope=repository:library/app:pull",
        8 << 20,
        Duration::from_secs(30),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
}
