//! Running a docker command while streaming its output to stderr, one line
//! at a time and prefixed with the image name, and explaining a failure.

use std::collections::{BTreeMap, VecDeque};

use imagespec_builder_run::TAIL_LINES;

use crate::error::DockerError;

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

impl imagespec_builder_run::Steps for StepTracker {
    fn line(&mut self, line: &str) {
        StepTracker::line(self, line);
    }

    fn failure(&self) -> Option<imagespec_builder_run::Failure> {
        match self.failed_step() {
            Some((title, message)) => Some(imagespec_builder_run::Failure {
                step: Some(title.to_string()),
                message: message.to_string(),
                lines: self.failed_output(),
            }),
            None => self
                .final_error
                .clone()
                .map(|message| imagespec_builder_run::Failure {
                    step: None,
                    message,
                    lines: None,
                }),
        }
    }
}

/// Runs `cmd`, streaming its stdout and stderr to our stderr as `[image] line`
/// (unless `quiet`). Returns everything it printed; fails naming the failed
/// step and showing the last lines.
pub async fn run_streaming(
    cmd: tokio::process::Command,
    image: &str,
    what: &'static str,
    quiet: bool,
    masked: &imagespec_core::redact::Secrets,
) -> Result<String, DockerError> {
    use imagespec_builder_run::RunError;
    let mut tracker = StepTracker::default();
    imagespec_builder_run::run_streaming(cmd, image, quiet, masked, &mut tracker)
        .await
        .map_err(|e| match e {
            RunError::Spawn { program, source } => DockerError::NoClient {
                docker: program,
                source,
            },
            RunError::Interrupted => DockerError::Setting("interrupted".into()),
            RunError::Failed { .. } => DockerError::Failed {
                what,
                image: image.to_string(),
                step: e.step_suffix(),
                tail: e.tail(),
                message: e.to_string(),
            },
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
