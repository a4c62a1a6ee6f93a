//! Running a docker command while streaming its output to stderr, one line
//! at a time and prefixed with the image name, and explaining a failure.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::error::DockerError;

/// Lines of output kept to show when a command fails.
const TAIL_LINES: usize = 25;

/// What a BuildKit log says about the steps and a failure.
#[derive(Debug, Default)]
pub struct StepTracker {
    titles: BTreeMap<String, String>,
    /// The last lines each step printed.
    output: BTreeMap<String, VecDeque<String>>,
    failed: Option<(String, String, String)>,
    final_error: Option<String>,
    cached: Vec<String>,
}

impl StepTracker {
    /// Feeds one line of `--progress plain` output.
    pub fn line(&mut self, line: &str) {
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix('#') {
            let (id, body) = rest.split_once(' ').unwrap_or((rest, ""));
            if body.starts_with('[') {
                let title = body.split_whitespace().collect::<Vec<_>>().join(" ");
                self.titles.entry(id.to_string()).or_insert(title);
                return;
            }
            let out = self.output.entry(id.to_string()).or_default();
            if out.len() == TAIL_LINES {
                out.pop_front();
            }
            out.push_back(line.to_string());
            if let Some(msg) = body.strip_prefix("ERROR: ") {
                let title = self
                    .titles
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| format!("#{id}"));
                if self.failed.is_none() {
                    self.failed = Some((id.to_string(), title, msg.to_string()));
                }
            } else if body == "CACHED" {
                if let Some(t) = self.titles.get(id) {
                    self.cached.push(t.clone());
                }
            }
        } else if let Some(msg) = line
            .strip_prefix("error: ")
            .or_else(|| line.strip_prefix("ERROR: "))
            .or_else(|| line.strip_prefix("Error response from daemon: "))
        {
            self.final_error = Some(msg.to_string());
        }
    }

    /// The failed step's title (`[6/14] RUN ...`) and message, if any.
    pub fn failed_step(&self) -> Option<(&str, &str)> {
        self.failed
            .as_ref()
            .map(|(_, t, m)| (t.as_str(), m.as_str()))
    }

    /// The last lines the failed step printed.
    pub fn failed_output(&self) -> Option<Vec<String>> {
        let (id, _, _) = self.failed.as_ref()?;
        self.output
            .get(id)
            .map(|lines| lines.iter().cloned().collect())
    }

    /// The titles of the steps BuildKit took from its cache.
    pub fn cached_steps(&self) -> &[String] {
        &self.cached
    }
}

/// Runs `cmd`, streaming its stdout and stderr to our stderr as `[image] line`
/// (unless `quiet`). Returns everything it printed; fails naming the failed
/// step and showing the last lines.
pub async fn run_streaming(
    mut cmd: tokio::process::Command,
    image: &str,
    what: &'static str,
    quiet: bool,
    masked: &imagespec_core::redact::Secrets,
) -> Result<String, DockerError> {
    tracing::debug!(?cmd, "running");
    // Nothing new starts once the program is being interrupted (no push
    // after an interrupted build).
    if imagespec_core::cleanup::interrupted() {
        return Err(DockerError::Setting("interrupted".into()));
    }
    let program = format!("{:?}", cmd.as_std().get_program());
    // A group of its own: a Ctrl-C reaches imagespec alone, which ends the
    // build (the whole group) and reports the interruption.
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| DockerError::NoClient {
            docker: program,
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
    let mut tracker = StepTracker::default();
    while let Some(line) = rx.recv().await {
        // An installer may print a URL with its credentials, or a secret.
        let line = masked.mask(&line).into_owned();
        if !quiet {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "[{image}] {line}");
        }
        tracker.line(&line);
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line.clone());
        all.push_str(&line);
        all.push('\n');
    }
    let status = child.wait().await.map_err(|source| DockerError::NoClient {
        docker: "docker".into(),
        source,
    })?;
    if status.success() {
        return Ok(all);
    }
    let (step, message) = match tracker.failed_step() {
        Some((title, msg)) => (format!(" at step {title}"), msg.to_string()),
        None => (
            String::new(),
            tracker
                .final_error
                .clone()
                .unwrap_or_else(|| format!("docker exited with {status}")),
        ),
    };
    let lines: Vec<String> = tracker
        .failed_output()
        .unwrap_or_else(|| tail.into_iter().collect());
    let tail: Vec<String> = lines.into_iter().map(|l| format!("  | {l}")).collect();
    Err(DockerError::Failed {
        what,
        image: image.to_string(),
        step,
        message,
        tail: format!("last lines:\n{}", tail.join("\n")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_failed_step() {
        let mut t = StepTracker::default();
        for l in [
            "#5 [2/3] RUN echo hi",
            "#5 0.2 hi",
            "#5 DONE 0.3s",
            "#4 [1/3] FROM docker.io/library/x",
            "#4 CACHED",
            "#6 [3/3] RUN false",
            "#6 ERROR: executor failed running [/bin/sh -c false]: exit code: 1",
            "error: failed to solve: executor failed running [/bin/sh -c false]: exit code: 1",
        ] {
            t.line(l);
        }
        assert_eq!(
            t.failed_step(),
            Some((
                "[3/3] RUN false",
                "executor failed running [/bin/sh -c false]: exit code: 1"
            ))
        );
        assert_eq!(t.cached_steps(), ["[1/3] FROM docker.io/library/x"]);
    }
}
