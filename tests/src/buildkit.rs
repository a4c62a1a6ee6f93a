//! BuildKit's own Dockerfile parser (the Go one, from the PyPI package
//! `dockerfile` that `cargo xtask flytekit` installs into the test venv),
//! run as one long-lived process (`tests/buildkit/parse.py`).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

/// One instruction as BuildKit parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Upper case: `RUN`, `ENV`, ...
    pub keyword: String,
    /// Its flags (`--mount=...`, `--chown=...`).
    pub flags: Vec<String>,
    /// Its arguments: a RUN's script, a COPY's paths, ENV's names and values.
    pub value: Vec<String>,
    /// The contents of the heredocs it opened.
    pub heredocs: Vec<String>,
}

/// The parser process.
#[derive(Debug)]
pub struct BuildkitParser {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

impl BuildkitParser {
    /// Starts the parser with the test venv's python (see
    /// [`crate::flytekit::python`]); panics, never skips, when it is missing.
    pub fn start() -> Self {
        let python = crate::flytekit::python();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("buildkit/parse.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        BuildkitParser {
            child,
            stdin,
            stdout,
        }
    }

    /// The instructions BuildKit finds in `text`, or its parse error.
    pub fn parse(&mut self, text: &str) -> Result<Vec<Parsed>, String> {
        let line = serde_json::to_string(text).unwrap();
        writeln!(self.stdin, "{line}").expect("the parser runs");
        self.stdin.flush().unwrap();
        let mut answer = String::new();
        self.stdout
            .read_line(&mut answer)
            .expect("the parser answers");
        let v: Value = serde_json::from_str(&answer)
            .unwrap_or_else(|e| panic!("the parser's answer {answer:?}: {e}"));
        if let Some(e) = v.get("error") {
            return Err(e.as_str().unwrap_or_default().to_string());
        }
        Ok(v.as_array()
            .expect("a list of instructions")
            .iter()
            .map(|i| Parsed {
                keyword: i[0].as_str().unwrap_or_default().to_string(),
                flags: strings(&i[1]),
                value: strings(&i[2]),
                heredocs: strings(&i[3]),
            })
            .collect())
    }
}

impl Drop for BuildkitParser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
