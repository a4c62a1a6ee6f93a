//! What the registry harness's modules share: timeouts, media types, dates.

use std::time::{Duration, SystemTime};

/// Connect timeout of every connection the harness opens.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Read/write timeout of every connection the harness opens or accepts.
pub(super) const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker v2 schema 2 manifest media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker v2 schema 2 manifest list media type.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// An `Accept` header value naming the four manifest media types above.
pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// `t` as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), as `Retry-After`
/// may carry it.
pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

/// `len` random ASCII letters and digits.
pub(super) fn random_string(len: usize) -> String {
    use rand::Rng as _;
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
