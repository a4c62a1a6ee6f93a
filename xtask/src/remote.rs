//! A second Docker engine, "remote": its own data root, exec root and pid
//! file, a bridge of its own (`--bridge=none` would make dockerd delete the
//! first engine's `docker0`) and no iptables changes, reachable over TCP on
//! 127.0.0.1 with mutual TLS (certificates made here with openssl). It
//! starts empty of images but the base and helper images, copied from the
//! first engine (nothing can be pulled here). Idempotent; `down` stops it
//! by its PID.
//!
//! It is also reachable over SSH: an `sshd` of its own on 127.0.0.1 (key
//! auth only, its own host key), whose sessions' `docker` reaches this
//! engine; the client side is the alias `imagespec-e2e-remote` in
//! `/etc/ssh/ssh_config.d/50-imagespec-e2e.conf` (its key and known host),
//! so `DOCKER_HOST=ssh://imagespec-e2e-remote` works for any ssh client.
//!
//! State in `target/e2e/remote/`: `certs/` (ca.pem, the client's cert.pem
//! and key.pem, as `DOCKER_CERT_PATH` wants them; the server's beside),
//! `ssh/`, `data/`, `dockerd.log`, `dockerd.pid`, `sshd.pid`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::daemon::{log, pid_alive, quiet_ok, run, spawn_daemon, wait_for, DOCKER};

/// The remote engine's TLS port on 127.0.0.1.
pub const TLS_PORT: u16 = 5766;
/// Its exec root (a short path: socket names have a length limit).
const EXEC_ROOT: &str = "/run/imagespec-e2e-remote";
/// Its own bridge, and the bridge's address (no NAT: its builds use the
/// host's network).
const BRIDGE: &str = "isremote0";
const BRIDGE_CIDR: &str = "172.31.254.1/24";
/// Its Unix socket, for the SSH sessions' `docker`.
const SOCKET: &str = "/run/imagespec-e2e-remote.sock";
/// The SSH port on 127.0.0.1.
pub const SSH_PORT: u16 = 5767;
/// The ssh alias of the remote machine.
pub const SSH_ALIAS: &str = "imagespec-e2e-remote";
/// The client side of the alias.
const SSH_CLIENT_CONF: &str = "/etc/ssh/ssh_config.d/50-imagespec-e2e.conf";

pub fn dir(state: &Path) -> PathBuf {
    state.join("remote")
}

pub fn certs(state: &Path) -> PathBuf {
    dir(state).join("certs")
}

pub fn host() -> String {
    format!("tcp://127.0.0.1:{TLS_PORT}")
}

/// A docker command for the remote engine.
pub fn docker(state: &Path) -> Command {
    let mut c = Command::new(DOCKER);
    c.env("DOCKER_HOST", host())
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", certs(state));
    c
}

fn up_now(state: &Path) -> bool {
    quiet_ok(docker(state).arg("info"))
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    run(Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null()))
}

/// A CA, a server certificate for 127.0.0.1 and localhost, and a client
/// certificate, once.
fn make_certs(state: &Path) -> Result<()> {
    let d = certs(state);
    if [
        "ca.pem",
        "cert.pem",
        "key.pem",
        "server-cert.pem",
        "server-key.pem",
    ]
    .iter()
    .all(|f| d.join(f).is_file())
    {
        return Ok(());
    }
    log("making the remote engine's TLS certificates");
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d)?;
    openssl(&d, &["genrsa", "-out", "ca-key.pem", "2048"])?;
    openssl(
        &d,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca-key.pem",
            "-days",
            "30",
            "-subj",
            "/CN=imagespec-e2e-ca",
            "-out",
            "ca.pem",
        ],
    )?;
    fs::write(
        d.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )?;
    fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n")?;
    for (who, cn, ext) in [
        ("server", "localhost", "server.ext"),
        ("client", "imagespec-e2e-client", "client.ext"),
    ] {
        let key = format!("{who}-key.pem");
        let csr = format!("{who}.csr");
        openssl(&d, &["genrsa", "-out", &key, "2048"])?;
        openssl(
            &d,
            &[
                "req",
                "-new",
                "-key",
                &key,
                "-subj",
                &format!("/CN={cn}"),
                "-out",
                &csr,
            ],
        )?;
        openssl(
            &d,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-days",
                "30",
                "-extfile",
                ext,
                "-out",
                &format!("{who}-cert.pem"),
            ],
        )?;
    }
    // DOCKER_CERT_PATH's names for the client's pair.
    fs::rename(d.join("client-cert.pem"), d.join("cert.pem"))?;
    fs::rename(d.join("client-key.pem"), d.join("key.pem"))?;
    Ok(())
}

/// Starts the remote engine (if it is not up) and copies the images in.
pub fn up(state: &Path, images: &[&str]) -> Result<()> {
    make_certs(state)?;
    let d = dir(state);
    if !up_now(state) {
        if !quiet_ok(Command::new("ip").args(["link", "show", BRIDGE])) {
            run(Command::new("ip").args(["link", "add", "name", BRIDGE, "type", "bridge"]))?;
            run(Command::new("ip").args(["addr", "add", BRIDGE_CIDR, "dev", BRIDGE]))?;
        }
        run(Command::new("ip").args(["link", "set", BRIDGE, "up"]))?;
        let c = certs(state);
        log(&format!("starting a second engine on {} (TLS)", host()));
        fs::create_dir_all(d.join("data"))?;
        spawn_daemon(
            Command::new("dockerd")
                .arg("--data-root")
                .arg(d.join("data"))
                .args(["--exec-root", EXEC_ROOT])
                .arg("--pidfile")
                .arg(d.join("dockerd.pid.engine"))
                .args(["--host", &host(), "--host", &format!("unix://{SOCKET}")])
                .arg("--tlsverify")
                .arg("--tlscacert")
                .arg(c.join("ca.pem"))
                .arg("--tlscert")
                .arg(c.join("server-cert.pem"))
                .arg("--tlskey")
                .arg(c.join("server-key.pem"))
                .arg(format!("--bridge={BRIDGE}"))
                .args(["--iptables=false", "--ip-masq=false"]),
            &d.join("dockerd.log"),
            &d.join("dockerd.pid"),
        )?;
        wait_for("the remote engine", Duration::from_secs(60), || {
            up_now(state)
        })
        .with_context(|| format!("see {}", d.join("dockerd.log").display()))?;
    }
    ssh_up_now(state)?;
    for image in images {
        crate::daemon::copy_image("the remote engine", image, || docker(state))?;
    }
    Ok(())
}

/// True when the SSH door answers with a usable engine.
fn ssh_up() -> bool {
    quiet_ok(
        Command::new(DOCKER)
            .env("DOCKER_HOST", format!("ssh://{SSH_ALIAS}"))
            .arg("info"),
    )
}

/// The SSH door: keys, the server's config, the client's alias, `sshd`.
pub fn ssh_up_now(state: &Path) -> Result<()> {
    let d = dir(state).join("ssh");
    fs::create_dir_all(&d)?;
    for key in ["host_ed25519", "client_ed25519"] {
        if !d.join(key).is_file() {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "imagespec-e2e", "-f"])
                .arg(d.join(key)))?;
        }
    }
    fs::copy(d.join("client_ed25519.pub"), d.join("authorized_keys"))?;
    let host_key = fs::read_to_string(d.join("host_ed25519.pub"))?;
    fs::write(d.join("known_hosts"), format!("{SSH_ALIAS} {host_key}"))?;
    let client = format!(
        "# Written by imagespec's `cargo xtask e2e up`: the e2e remote engine's SSH door.\n\
         Host {SSH_ALIAS}\n  HostName 127.0.0.1\n  Port {SSH_PORT}\n  User root\n  IdentityFile {}\n  \
         IdentitiesOnly yes\n  UserKnownHostsFile {}\n  HostKeyAlias {SSH_ALIAS}\n  StrictHostKeyChecking yes\n",
        d.join("client_ed25519").display(),
        d.join("known_hosts").display()
    );
    if fs::read_to_string(SSH_CLIENT_CONF).ok().as_deref() != Some(client.as_str()) {
        log(&format!(
            "writing the ssh alias {SSH_ALIAS} ({SSH_CLIENT_CONF})"
        ));
        fs::create_dir_all(Path::new(SSH_CLIENT_CONF).parent().context("a folder")?)?;
        fs::write(SSH_CLIENT_CONF, client)?;
    }
    if ssh_up() {
        return Ok(());
    }
    let server = format!(
        "Port {SSH_PORT}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
         UsePAM no\nStrictModes no\nSetEnv DOCKER_HOST=unix://{SOCKET}\n",
        d.join("host_ed25519").display(),
        d.join("sshd.pid.server").display(),
        d.join("authorized_keys").display()
    );
    fs::write(d.join("sshd_config"), server)?;
    fs::create_dir_all("/run/sshd")?;
    log(&format!(
        "starting sshd on 127.0.0.1:{SSH_PORT} (the remote engine over SSH)"
    ));
    spawn_daemon(
        Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config")),
        &d.join("sshd.log"),
        &dir(state).join("sshd.pid"),
    )?;
    wait_for("sshd", Duration::from_secs(30), ssh_up)
        .with_context(|| format!("see {}", d.join("sshd.log").display()))
}

fn stop(pid_file: &Path, what: &str) {
    if let Some(pid) = pid_alive(pid_file) {
        log(&format!("stopping {what} (pid {pid})"));
        let _ = Command::new("kill").arg(pid.to_string()).status();
        let gone = wait_for(what, Duration::from_secs(20), || {
            !Path::new(&format!("/proc/{pid}")).exists()
        });
        if gone.is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
    let _ = fs::remove_file(pid_file);
}

/// Stops the remote engine and its SSH door, if this set-up started them.
pub fn down(state: &Path) -> Result<()> {
    stop(&dir(state).join("sshd.pid"), "the remote engine's sshd");
    stop(&dir(state).join("dockerd.pid"), "the remote engine");
    Ok(())
}

/// Whether it is running, started by `up`.
pub fn is_up(state: &Path) -> bool {
    pid_alive(&dir(state).join("dockerd.pid")).is_some()
        && pid_alive(&dir(state).join("sshd.pid")).is_some()
}
