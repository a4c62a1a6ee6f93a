//! What imagespec's command-line builders share: a build tool (docker,
//! podman) run with its output streamed to stderr one line at a time,
//! prefixed with the image name and with the run's secrets masked; and, when
//! it fails, the step that failed with its last lines.
//!
//! Each tool logs its steps its own way, so a builder hands in a [`Steps`]
//! reader for its tool's output (BuildKit's `#5 [2/3] RUN ...`, buildah's
//! `STEP 2/3: RUN ...`); everything else is here, once.

use std::collections::VecDeque;
use std::io::Write;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

/// Lines of output kept to show when a command fails.
pub const TAIL_LINES: usize = 25;

/// Reads a build tool's output, line by line, and says which step failed.
pub trait Steps: Send {
    /// Feeds one line (already masked).
    fn line(&mut self, line: &str);
    /// What the output says about a failure, if anything.
    fn failure(&self) -> Option<Failure>;
}

/// A failure, as the tool's output tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The failed step's title (`[3/3] RUN false`), when one is named.
    pub step: Option<String>,
    /// The tool's message.
    pub message: String,
    /// The lines the failed step printed (else the run's last lines are shown).
    pub lines: Option<Vec<String>>,
}

/// Why a run did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program cannot be started.
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// imagespec is being interrupted: nothing new starts.
    #[error("interrupted")]
    Interrupted,
    /// It ran and failed.
    #[error("{message}")]
    Failed {
        /// The failed step's title.
        step: Option<String>,
        /// The tool's message, else its exit status.
        message: String,
        /// The lines to show: the failed step's, else the last ones.
        lines: Vec<String>,
    },
}

impl RunError {
    /// ` at step TITLE` for a failed step, else nothing.
    pub fn step_suffix(&self) -> String {
        match self {
            RunError::Failed {
                step: Some(step), ..
            } => format!(" at step {step}"),
            _ => String::new(),
        }
    }

    /// `last lines:` and the lines, indented, for a failed run.
    pub fn tail(&self) -> String {
        match self {
            RunError::Failed { lines, .. } => {
                let lines: Vec<String> = lines.iter().map(|l| format!("  | {l}")).collect();
                format!("last lines:\n{}", lines.join("\n"))
            }
            _ => String::new(),
        }
    }
}

/// Runs `cmd` in a process group of its own, streaming its stdout and
/// stderr to our stderr as `[image] line` (unless `quiet`), each line
/// masked first and fed to `steps`. Returns everything it printed.
///
/// Nothing starts once the program is being interrupted (no push after an
/// interrupted build), and a Ctrl-C reaches imagespec alone, which ends the
/// registered group.
pub async fn run_streaming(
    mut cmd: tokio::process::Command,
    image: &str,
    quiet: bool,
    masked: &imagespec_core::redact::Secrets,
    steps: &mut dyn Steps,
) -> Result<String, RunError> {
    tracing::debug!(?cmd, "running");
    if imagespec_core::cleanup::interrupted() {
        return Err(RunError::Interrupted);
    }
    let program = cmd.as_std().get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| RunError::Spawn {
            program: program.clone(),
            source,
        })?;
    let _running = child.id().map(imagespec_core::cleanup::register_child);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    for reader in [
        Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
        Box::new(stderr),
    ] {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(reader).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);

    let mut all = String::new();
    let mut tail = VecDeque::with_capacity(TAIL_LINES);
    while let Some(line) = rx.recv().await {
        // An installer may print a URL with its credentials, or a secret.
        let line = masked.mask(&line).into_owned();
        if !quiet {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "[{image}] {line}");
        }
        steps.line(&line);
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line.clone());
        all.push_str(&line);
        all.push('\n');
    }
    let status = child.wait().await.map_err(|source| RunError::Spawn {
        program: program.clone(),
        source,
    })?;
    if status.success() {
        return Ok(all);
    }
    let failure = steps.failure();
    let (step, message, lines) = match failure {
        Some(f) => (f.step, f.message, f.lines),
        None => (None, format!("`{program}` exited with {status}"), None),
    };
    Err(RunError::Failed {
        step,
        message,
        lines: lines.unwrap_or_else(|| tail.into_iter().collect()),
    })
}

/// The options both `docker build` and `podman build` take alike, in this
/// order: `--label KEY=VALUE` for each label, `--network MODE` when not the
/// default, `--secret id=ID,src=FILE` for each secret.
pub fn shared_build_flags(
    labels: &[(String, String)],
    network: Option<&str>,
    secrets: &[imagespec_core::builder::BuildSecret],
) -> Vec<String> {
    let mut args = Vec::new();
    for (key, value) in labels {
        args.extend(["--label".to_string(), format!("{key}={value}")]);
    }
    if let Some(network) = network {
        args.extend(["--network".to_string(), network.to_string()]);
    }
    for secret in secrets {
        args.push("--secret".to_string());
        args.push(format!("id={},src={}", secret.id, secret.path.display()));
    }
    args
}

/// A command for `program` that ends with imagespec: on Linux it runs under
/// `setpriv --pdeathsig TERM` (util-linux) where that is installed, so the
/// tool ends even when imagespec is killed outright (SIGKILL), and no build
/// it started goes on to tag or push an image.
pub fn supervised(program: &std::path::Path) -> tokio::process::Command {
    let Some(setpriv) = setpriv() else {
        return tokio::process::Command::new(program);
    };
    let mut c = tokio::process::Command::new(setpriv);
    c.args(["--pdeathsig", "TERM", "--"]).arg(program);
    c
}

/// util-linux's `setpriv` when it can set a parent-death signal.
fn setpriv() -> Option<&'static std::path::Path> {
    static FOUND: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            ["/usr/bin/setpriv", "/bin/setpriv"]
                .into_iter()
                .map(std::path::PathBuf::from)
                .find(|p| {
                    std::process::Command::new(p)
                        .args(["--pdeathsig", "TERM", "--", "true"])
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success())
                })
        })
        .as_deref()
}

/// A [`Steps`] that knows no steps: the last lines are shown.
#[derive(Debug, Default)]
pub struct NoSteps;

impl Steps for NoSteps {
    fn line(&mut self, _line: &str) {}
    fn failure(&self) -> Option<Failure> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct LastWord(Option<String>);

    impl Steps for LastWord {
        fn line(&mut self, line: &str) {
            if let Some(m) = line.strip_prefix("fail: ") {
                self.0 = Some(m.to_string());
            }
        }
        fn failure(&self) -> Option<Failure> {
            self.0.clone().map(|message| Failure {
                step: Some("the step".into()),
                message,
                lines: None,
            })
        }
    }

    #[tokio::test]
    async fn a_failure_names_its_step_and_keeps_the_last_lines_masked() {
        let mut masked = imagespec_core::redact::Secrets::default();
        masked.add("hunter2");
        let mut cmd = tokio::process::Command::new("sh");
        cmd.args([
            "-c",
            "echo one; echo 'pw hunter2'; echo 'fail: it broke' >&2; exit 3",
        ]);
        let err = run_streaming(cmd, "img", true, &masked, &mut LastWord::default())
            .await
            .unwrap_err();
        let RunError::Failed {
            step,
            message,
            lines,
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(step.as_deref(), Some("the step"));
        assert_eq!(message, "it broke");
        assert_eq!(lines.len(), 3);
        assert!(!lines.iter().any(|l| l.contains("hunter2")), "{lines:?}");
        assert!(err.tail().starts_with("last lines:\n  | "));
    }

    #[tokio::test]
    async fn success_returns_the_output_and_a_missing_program_says_which() {
        let masked = imagespec_core::redact::Secrets::default();
        let mut cmd = tokio::process::Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2"]);
        let out = run_streaming(cmd, "img", true, &masked, &mut NoSteps)
            .await
            .unwrap();
        assert!(out.contains("out\n") && out.contains("err\n"));
        let cmd = tokio::process::Command::new("/nonexistent/tool");
        let err = run_streaming(cmd, "img", true, &masked, &mut NoSteps)
            .await
            .unwrap_err();
        assert!(matches!(err, RunError::Spawn { .. }), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/tool"));
    }
}
