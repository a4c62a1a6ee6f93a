//! Everything the program prints, governed by `-q` / `-v` / `--color`.
//!
//! stdout carries only what a command was asked for (a name, a path, a JSON
//! document); it is written whatever the verbosity, and a closed stdout
//! (`| head`) ends the output quietly, not the command. Human output on
//! stderr (the build summary, a builder's streamed output) follows `-q`:
//! quiet prints errors only. Logs go through `tracing`, whose level the same
//! flags set ([`Printer::init_logging`]); colours follow `--color` and
//! `NO_COLOR`, log lines included.
//!
//! JSON documents share one envelope: `schema_version`, `command`, `ok` (true
//! exactly when the exit code is 0), then the command's fields; a failure
//! adds an `error` object (see `docs/json.md`).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{json, Value};
use tracing_subscriber::EnvFilter;

use imagespec_core::redact::{Masker, MaskingWriter};

use crate::error::CliError;
use crate::status::ExitStatus;
use crate::style::{label, Label};

/// Environment variable with a tracing filter, e.g. `debug` or `imagespec_inputs=trace`.
pub const ENV_LOG: &str = "IMAGESPEC_LOG";

/// The version of every JSON document's shape.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Set once stdout is found closed: nothing more is written to it.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// How much to say, and how, and what never to show.
#[derive(Debug, Clone)]
pub struct Printer {
    /// `-q`: errors only.
    pub quiet: bool,
    /// `-v` count.
    pub verbose: u8,
    /// Colours on stderr.
    pub color: bool,
    /// `--json`: errors are JSON objects on stdout too.
    pub json: bool,
    /// The command, for the JSON envelope.
    pub command: &'static str,
    /// The secrets met so far (each spec's and job's, added as the command
    /// reads them): masked in everything printed, logs included.
    pub masker: Masker,
}

impl Printer {
    /// Writes what the user asked for to stdout.
    pub fn stdout_line(&self, text: &str) -> crate::error::Result<()> {
        write_stdout(&format!("{}\n", self.masker.mask(text)))
    }

    /// Writes a JSON document in the common envelope to stdout: `ok` and the
    /// command's own fields (`body` must be an object).
    pub fn stdout_json(&self, ok: bool, body: Value) -> crate::error::Result<()> {
        let doc = envelope(self.command, ok, body);
        self.stdout_line(&serde_json::to_string_pretty(&doc)?)
    }

    /// Human output on stderr, unless quiet.
    pub fn stderr(&self, text: &str) {
        if !self.quiet {
            let _ = write!(std::io::stderr().lock(), "{}", self.masker.mask(text));
        }
    }

    /// An error on stderr, always (control characters escaped).
    pub fn error(&self, text: &str) {
        let text = self.masker.mask(text);
        let text = imagespec_core::text::printable(&text);
        let _ = writeln!(
            std::io::stderr().lock(),
            "{}: {text}",
            label(Label::Error, self.color)
        );
    }

    /// A warning on stderr, unless quiet.
    pub fn warning(&self, text: &str) {
        if self.quiet {
            return;
        }
        let text = self.masker.mask(text);
        let text = imagespec_core::text::printable(&text);
        let _ = writeln!(
            std::io::stderr().lock(),
            "{}: {text}",
            label(Label::Warning, self.color)
        );
    }

    /// Sends logs to stderr; the level comes from `-v`/`-q`, else
    /// `IMAGESPEC_LOG`, else `warn`. On a terminal (and not quiet), long
    /// steps (spans) show progress, and log lines print above it.
    pub fn init_logging(&self) {
        use tracing_subscriber::fmt::writer::BoxMakeWriter;
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        use tracing_subscriber::Layer;
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
        let progress = !self.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
        // On a terminal, log lines go through the spinners' writer, which
        // prints them above the spinners.
        let indicatif = progress.then(crate::progress::layer);
        let writer = match &indicatif {
            Some(layer) => {
                let w = layer.get_stderr_writer();
                let masker = self.masker.clone();
                BoxMakeWriter::new(move || MaskingWriter {
                    masker: masker.clone(),
                    inner: w.clone(),
                })
            }
            None => {
                let masker = self.masker.clone();
                BoxMakeWriter::new(move || MaskingWriter {
                    masker: masker.clone(),
                    inner: std::io::stderr(),
                })
            }
        };
        // At debug level and finer, each line says when it happened (seconds
        // since the start): where a run's time goes.
        let timed = filter
            .max_level_hint()
            .is_some_and(|l| l >= tracing_subscriber::filter::LevelFilter::DEBUG);
        let fmt = tracing_subscriber::fmt::layer()
            // Every secret the spec holds is masked in the logs.
            .with_writer(writer)
            .with_ansi(self.color)
            .with_target(false);
        let fmt: Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync> = match timed {
            true => Box::new(
                fmt.with_timer(tracing_subscriber::fmt::time::Uptime::default())
                    .with_filter(filter),
            ),
            false => Box::new(fmt.without_time().with_filter(filter)),
        };
        tracing_subscriber::registry()
            .with(fmt)
            .with(indicatif.map(|l| l.with_filter(crate::progress::filter())))
            .init();
    }

    /// Prints an error once: with its causes and, where a cargo feature
    /// would have provided what is missing, a hint naming it; a spec error
    /// with a line shows that line of the file. With `--json`, the error
    /// object goes to stdout as well.
    pub fn report(&self, err: &CliError) {
        let spec_error = err.spec_error();
        if let Some(se) = spec_error {
            self.masker.add(&se.carried.masked);
        }
        let feature_hint = err.core().and_then(crate::plugins::feature_hint);
        match spec_error.and_then(|se| crate::diagnostic::render(se, self.color)) {
            Some(rendered) => {
                let _ = write!(std::io::stderr().lock(), "{}", self.masker.mask(&rendered));
            }
            None => {
                let mut text = err.to_string();
                for cause in err.causes() {
                    text.push_str(&format!("\n  caused by: {cause}"));
                }
                if let Some(hint) = &feature_hint {
                    text.push_str(&format!("\n  hint: {hint}"));
                }
                self.error(&text);
            }
        }
        if self.json {
            let doc = envelope(
                self.command,
                false,
                json!({ "error": error_object(err, feature_hint.as_deref(), &self.masker) }),
            );
            if let Ok(text) = serde_json::to_string_pretty(&doc) {
                let _ = self.stdout_line(&text);
            }
        }
    }
}

/// `{schema_version, command, ok, ...body}`.
pub fn envelope(command: &str, ok: bool, body: Value) -> Value {
    let mut doc = serde_json::Map::new();
    doc.insert("schema_version".into(), json!(JSON_SCHEMA_VERSION));
    doc.insert("command".into(), json!(command));
    doc.insert("ok".into(), json!(ok));
    if let Value::Object(fields) = body {
        doc.extend(fields);
    }
    Value::Object(doc)
}

/// The JSON error object: kind, exit code, message, causes, and where
/// (file, field, line) and what to do (hint) when known.
pub fn error_json(
    status: ExitStatus,
    message: &str,
    causes: Vec<String>,
    hint: Option<&str>,
) -> Value {
    json!({
        "kind": status.kind(),
        "exit_code": status.code(),
        "message": message,
        "causes": causes,
        "file": null,
        "field": null,
        "line": null,
        "hint": hint,
    })
}

/// [`error_json`] of an error: its chain as the causes and, for a spec
/// error, its file, field, line and hint.
pub fn error_object(err: &CliError, hint: Option<&str>, masker: &Masker) -> Value {
    let redact = |s: String| masker.mask(&s);
    let causes = err.causes().into_iter().map(redact).collect();
    let mut obj = error_json(err.status(), &redact(err.to_string()), causes, hint);
    if let Some(se) = err.spec_error() {
        let mut message = se.location.to_string();
        if !se.location.field.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&se.message);
        obj["message"] = json!(redact(
            imagespec_core::text::printable(&message).into_owned()
        ));
        obj["file"] = json!(se.location.file.as_deref().map(path_text));
        obj["field"] = json!(se.location.field);
        obj["line"] = json!(se.location.line);
        if let Some(h) = &se.hint {
            obj["hint"] = json!(redact(h.clone()));
        }
    }
    obj
}

/// A usage error's JSON document (before any command ran).
pub fn print_usage_error_json(command: &str, message: &str) {
    let error = error_json(
        ExitStatus::Usage,
        message,
        Vec::new(),
        Some("see `imagespec --help`"),
    );
    let doc = envelope(command, false, json!({ "error": error }));
    if let Ok(text) = serde_json::to_string_pretty(&doc) {
        let _ = write_stdout(&format!("{text}\n"));
    }
}

/// Writes to stdout; a closed stdout is remembered and ends the output
/// quietly (the command still does, and ends with, what it was asked for).
fn write_stdout(text: &str) -> crate::error::Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(crate::error::CliError::io("cannot write to stdout", e)),
    }
}

/// A path as JSON text: lossy where it is not UTF-8 (JSON holds no other
/// bytes), so that every document is printed whatever the paths are.
pub fn path_text(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}
