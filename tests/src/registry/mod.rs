//! Real container registries on loopback, for integration tests of code that
//! talks to OCI registries.
//!
//! - [`TestRegistry`] runs Debian's `docker-registry` (distribution 2.8) on
//!   `127.0.0.1`, with no auth, htpasswd (basic) auth, or token (bearer) auth
//!   backed by a [`TokenServer`] whose grants a [`TokenPolicy`] decides. It can
//!   push tiny images and image indexes (OCI or Docker v2 schema).
//! - [`FaultProxy`] sits in front of a registry and injects failures
//!   ([`Fault`]): error statuses (with `Retry-After` in seconds or as an HTTP
//!   date), delays, connection resets, Harbor's "500 for not found" quirk,
//!   redirect loops, manifest bodies of its own (malformed ones), and bodies
//!   that never end (fast or trickling; manifests and token answers).
//! - [`http_request`] is a minimal blocking HTTP/1.1 client for assertions.
//!
//! Everything runs on its own threads and processes, so it works from plain
//! `#[test]`s and from `#[tokio::test]`s alike (the calls block). Every wait is
//! bounded and panics with a clear message; the registry process is killed (by
//! PID) and its temp dir removed on drop. The `docker-registry` binary must be
//! installed (`apt-get install -y docker-registry`, which `cargo xtask e2e up`
//! does): the harness panics, never skips, when it is missing. No traffic leaves
//! `127.0.0.1`.
//!
//! The modules, one job each:
//!
//! | module | what | built on |
//! |---|---|---|
//! | `test_registry` | the `docker-registry` process, its config, pushes | `bcrypt` (htpasswd) |
//! | `image` | tiny images: one-file layer, config, manifest | `tar`, `flate2` |
//! | `token` | the token server, its policy, RS256 tokens with `x5c` | `rcgen`, `jsonwebtoken` |
//! | `proxy` | the fault-injecting proxy | `hyper` (client side) |
//! | `server` | the loopback HTTP server the two above run on | `hyper` on a private `tokio` runtime |
//! | `client` | [`http_request`], the client for assertions | `ureq` |

mod client;
mod common;
mod image;
mod proxy;
mod server;
mod test_registry;
mod token;

pub use client::{http_request, HttpResponse};
pub use common::{
    http_date, ACCEPT_MANIFESTS, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST,
};
pub use image::{sha256_digest, Format};
pub use proxy::{Fault, FaultProxy, FAULT_TOKEN_SERVICE};
pub use test_registry::TestRegistry;
pub use token::{basic_auth, Scope, TokenPolicy, TokenRequest, TokenServer};
