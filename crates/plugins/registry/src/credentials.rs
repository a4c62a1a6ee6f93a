//! docker's credentials for a registry: `config.json`'s `credHelpers`, then
//! `auths`, then `credsStore` (the precedence of the `docker_credential`
//! crate, which reads `auths` here). Helpers (`docker-credential-NAME get`)
//! run with a timeout and are killed after it; their output is read up to
//! [`MAX_BODY_BYTES`] and never shown.
//!
//! A helper that answers "credentials not found in native keychain" means
//! anonymous, as for docker. A helper that cannot be run, fails, answers
//! nonsense or hangs is an [`Error`]: docker's own `pull` fails then ("error
//! getting credentials") rather than going on anonymously, and the check
//! makes it an "unknown" answer naming the helper.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use oci_client::secrets::RegistryAuth;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::error::Error;
use crate::transport::MAX_BODY_BYTES;

/// What a helper prints when it has nothing for the server (docker-credential-helpers).
const NOT_FOUND: &str = "credentials not found in native keychain";

/// docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_file() -> Option<PathBuf> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")))?;
    Some(dir.join("config.json"))
}

/// The server name docker files a registry's credentials under.
fn server_for(registry: &str) -> &str {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "https://index.docker.io/v1/",
        other => other,
    }
}

/// The credentials docker would use for `registry`, or anonymous. A
/// credential helper gets `helper_timeout` to answer.
pub async fn credentials_for(
    registry: &str,
    helper_timeout: Duration,
) -> Result<RegistryAuth, Error> {
    let Some(file) = docker_config_file().filter(|f| f.is_file()) else {
        return Ok(RegistryAuth::Anonymous);
    };
    let config: serde_json::Value = match std::fs::read(&file)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(c) => c,
        Err(e) => {
            // docker warns about an unreadable config and goes on without it.
            tracing::warn!(
                registry,
                "cannot read docker's config {} ({e}); asking anonymously",
                file.display()
            );
            return Ok(RegistryAuth::Anonymous);
        }
    };
    let server = server_for(registry);
    let helper_named = |key: &str| {
        config
            .get(key)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if let Some(helper) = config
        .get("credHelpers")
        .and_then(|h| h.get(server))
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
    {
        return from_helper(helper, server, helper_timeout).await;
    }
    // `auths` alone, helpers left out: the crate would run them without a timeout.
    let mut files_only = config.clone();
    if let Some(o) = files_only.as_object_mut() {
        o.remove("credHelpers");
        o.remove("credsStore");
    }
    let text = files_only.to_string();
    match docker_credential::get_credential_from_reader(text.as_bytes(), server) {
        Ok(credential) => Ok(auth_of(registry, credential)),
        Err(docker_credential::CredentialRetrievalError::NoCredentialConfigured) => {
            match helper_named("credsStore") {
                Some(store) => from_helper(&store, server, helper_timeout).await,
                None => Ok(RegistryAuth::Anonymous),
            }
        }
        Err(e) => {
            tracing::warn!(
                registry,
                "cannot read docker credentials ({e}); asking anonymously"
            );
            Ok(RegistryAuth::Anonymous)
        }
    }
}

fn auth_of(registry: &str, credential: docker_credential::DockerCredential) -> RegistryAuth {
    match credential {
        docker_credential::DockerCredential::UsernamePassword(user, password) => {
            tracing::debug!(registry, "using docker credentials (user and password)");
            RegistryAuth::Basic(user, password)
        }
        docker_credential::DockerCredential::IdentityToken(token) => {
            tracing::debug!(registry, "using a docker identity token");
            RegistryAuth::Basic("<token>".to_string(), token)
        }
    }
}

async fn from_helper(name: &str, server: &str, timeout: Duration) -> Result<RegistryAuth, Error> {
    let helper = format!("docker-credential-{name}");
    let failed = |why: String| Error::HelperFailed {
        helper: helper.clone(),
        why,
    };
    let mut child = tokio::process::Command::new(&helper)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| failed(format!("could not be run ({e}); is it on PATH?")))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let talk = async {
        // A helper that exits without reading its input is not an error here.
        let _ = stdin.write_all(server.as_bytes()).await;
        drop(stdin);
        let mut out = Vec::new();
        (&mut stdout)
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .await?;
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status, out))
    };
    let talked = tokio::time::timeout(timeout, talk).await;
    let (status, out) = match talked {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            let _ = child.kill().await;
            return Err(failed(format!("could not be talked to ({e})")));
        }
        Err(_) => {
            // Killed by its own PID (the child's handle), then reaped.
            let _ = child.kill().await;
            return Err(Error::HelperTimeout { helper, timeout });
        }
    };
    if out.len() > MAX_BODY_BYTES {
        return Err(failed(format!("printed more than {MAX_BODY_BYTES} bytes")));
    }
    if !status.success() {
        if String::from_utf8_lossy(&out).trim() == NOT_FOUND {
            tracing::debug!(helper, "the helper has no credentials for {server}");
            return Ok(RegistryAuth::Anonymous);
        }
        // Its output is not shown: it could hold a secret.
        return Err(failed(format!("failed ({status})")));
    }
    let answer: serde_json::Value = serde_json::from_slice(&out)
        .map_err(|_| failed("answered something that is not credentials JSON".into()))?;
    let field = |k: &str| answer.get(k).and_then(serde_json::Value::as_str);
    match (field("Username"), field("Secret")) {
        (Some("<token>"), Some(token)) => Ok(auth_of(
            server,
            docker_credential::DockerCredential::IdentityToken(token.to_string()),
        )),
        (Some(user), Some(secret)) => Ok(auth_of(
            server,
            docker_credential::DockerCredential::UsernamePassword(
                user.to_string(),
                secret.to_string(),
            ),
        )),
        _ => Err(failed(
            "answered JSON without `Username` and `Secret`".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_is_filed_under_its_index() {
        assert_eq!(server_for("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(server_for("ghcr.io"), "ghcr.io");
    }
}
