//! Reading podman's build output: buildah's `STEP n/m: INSTRUCTION` lines
//! (prefixed `[k/s] ` in a multi-stage build), the output of each step, and
//! its `Error: ...` line, to name the step that failed.

use std::collections::VecDeque;

use imagespec_builder_run::{Failure, Steps, TAIL_LINES};

/// What podman's output says about the steps and a failure.
#[derive(Debug, Default)]
pub struct BuildahSteps {
    /// The current step's title and the last lines it printed.
    current: Option<(String, VecDeque<String>)>,
    /// The last `Error:` line.
    error: Option<String>,
    /// The steps taken from the cache.
    cached: Vec<String>,
}

/// The step title of a `STEP n/m: ...` line (`[k/s] ` kept in front).
fn step_title(line: &str) -> Option<String> {
    let (stage, rest) = match line.strip_prefix('[') {
        Some(r) => {
            let (stage, rest) = r.split_once("] ")?;
            (Some(stage), rest)
        }
        None => (None, line),
    };
    let rest = rest.strip_prefix("STEP ")?;
    let (count, instruction) = rest.split_once(": ")?;
    if !count.contains('/') || !count.chars().all(|c| c.is_ascii_digit() || c == '/') {
        return None;
    }
    Some(match stage {
        Some(s) => format!("[{s}] {count} {instruction}"),
        None => format!("{count} {instruction}"),
    })
}

impl BuildahSteps {
    /// The steps podman took from its cache.
    pub fn cached_steps(&self) -> &[String] {
        &self.cached
    }
}

impl Steps for BuildahSteps {
    fn line(&mut self, line: &str) {
        let line = line.trim_end();
        if let Some(title) = step_title(line) {
            self.current = Some((title, VecDeque::new()));
            return;
        }
        if let Some(msg) = line.strip_prefix("Error: ") {
            self.error = Some(msg.to_string());
            return;
        }
        if line.starts_with("--> Using cache") {
            if let Some((title, _)) = &self.current {
                self.cached.push(title.clone());
            }
        }
        if let Some((_, out)) = &mut self.current {
            if out.len() == TAIL_LINES {
                out.pop_front();
            }
            out.push_back(line.to_string());
        }
    }

    fn failure(&self) -> Option<Failure> {
        let message = self.error.clone()?;
        // `building at STEP "RUN false": while running runtime: exit status 1`
        let at_step = message.contains("at STEP");
        let (step, lines) = match (&self.current, at_step) {
            (Some((title, out)), true) => {
                (Some(title.clone()), Some(out.iter().cloned().collect()))
            }
            _ => (None, None),
        };
        Some(Failure {
            step,
            message,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_failed_step_with_its_lines() {
        let mut s = BuildahSteps::default();
        for l in [
            "[1/2] STEP 1/1: FROM imagespec-e2e/uv:latest AS uv",
            "[2/2] STEP 1/3: FROM imagespec-e2e/python:3.11",
            "[2/2] STEP 2/3: RUN echo hi",
            "--> Using cache 0123abcd",
            "[2/2] STEP 3/3: RUN echo out && false",
            "out",
            "Error: building at STEP \"RUN echo out && false\": while running runtime: exit status 1",
        ] {
            s.line(l);
        }
        let f = s.failure().unwrap();
        assert_eq!(f.step.as_deref(), Some("[2/2] 3/3 RUN echo out && false"));
        assert!(f.message.contains("exit status 1"), "{f:?}");
        assert_eq!(f.lines.unwrap(), ["out"]);
        assert_eq!(s.cached_steps(), ["[2/2] 2/3 RUN echo hi"]);
    }

    #[test]
    fn a_plain_build_and_an_error_outside_a_step() {
        let mut s = BuildahSteps::default();
        s.line("STEP 1/2: FROM nowhere/x");
        s.line("Error: creating build container: initializing source docker://nowhere/x: pinging container registry");
        let f = s.failure().unwrap();
        assert_eq!(f.step, None, "not a step's own failure");
        assert!(f.message.starts_with("creating build container"));
        assert!(step_title("STEP x/y: RUN a").is_none());
        assert!(step_title("some STEP 1/2: words").is_none());
    }
}
