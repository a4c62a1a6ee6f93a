//! Everything the program prints, governed by `-q` / `-v`.
//!
//! stdout carries only what a command was asked for (a name, a path, a JSON
//! document); it is written whatever the verbosity. Human output on stderr
//! (the build summary, a builder's streamed output) follows `-q`: quiet
//! prints errors only. Logs go through `tracing`, whose level the same flags
//! set ([`init_logging`]).

use std::io::Write;

use tracing_subscriber::EnvFilter;

/// Environment variable with a tracing filter, e.g. `debug` or `imagespec_core=trace`.
pub const ENV_LOG: &str = "IMAGESPEC_LOG";

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Printer {
    /// `-q`: errors only.
    pub quiet: bool,
    /// `-v` count.
    pub verbose: u8,
}

impl Printer {
    /// Writes what the user asked for to stdout.
    pub fn stdout_line(&self, text: &str) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", imagespec_core::redact::redact(text))?;
        Ok(())
    }

    /// Writes a JSON document to stdout.
    pub fn stdout_json(&self, value: &impl serde::Serialize) -> anyhow::Result<()> {
        self.stdout_line(&serde_json::to_string_pretty(value)?)
    }

    /// Human output on stderr, unless quiet.
    pub fn stderr(&self, text: &str) {
        if !self.quiet {
            let _ = write!(
                std::io::stderr().lock(),
                "{}",
                imagespec_core::redact::redact(text)
            );
        }
    }

    /// An error on stderr, always (control characters escaped).
    pub fn error(&self, text: &str) {
        let text = imagespec_core::redact::redact(text);
        let text = imagespec_core::safety::printable(&text);
        let _ = writeln!(std::io::stderr().lock(), "error: {text}");
    }

    /// Sends logs to stderr; the level comes from `-v`/`-q`, else
    /// `IMAGESPEC_LOG`, else `warn`.
    pub fn init_logging(&self) {
        let default = match (self.quiet, self.verbose) {
            (true, _) => "error",
            (false, 0) => "warn",
            (false, 1) => "info",
            (false, 2) => "debug",
            _ => "trace",
        };
        let filter = if self.verbose == 0 && !self.quiet {
            EnvFilter::try_from_env(ENV_LOG).unwrap_or_else(|_| EnvFilter::new(default))
        } else {
            EnvFilter::new(default)
        };
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            // Every secret the spec holds is masked in the logs.
            .with_writer(|| imagespec_core::redact::RedactingWriter(std::io::stderr()))
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_target(false)
            .without_time()
            .init();
    }

    /// Prints an error with its causes and, where a cargo feature would have
    /// provided what is missing, a hint naming it.
    pub fn report(&self, err: &anyhow::Error) {
        let mut text = err.to_string();
        for cause in err.chain().skip(1) {
            text.push_str(&format!("\n  caused by: {cause}"));
        }
        if let Some(hint) = err
            .chain()
            .find_map(|c| c.downcast_ref::<imagespec_core::Error>())
            .and_then(crate::plugins::feature_hint)
        {
            text.push_str(&format!("\n  hint: {hint}"));
        }
        self.error(&text);
    }
}
