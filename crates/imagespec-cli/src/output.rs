//! Logging to stderr, and turning errors into messages and exit codes.

use std::io::Write;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

/// Environment variable with a tracing filter, e.g. `debug` or `imagespec_core=trace`.
pub const ENV_LOG: &str = "IMAGESPEC_LOG";

/// Sends logs to stderr; the level comes from `-v`/`-q`, else `IMAGESPEC_LOG`, else `warn`.
pub fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = if verbose == 0 && !quiet {
        EnvFilter::try_from_env(ENV_LOG).unwrap_or_else(|_| EnvFilter::new(default))
    } else {
        EnvFilter::new(default)
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .init();
}

/// Prints an error to stderr and picks the exit code: 2 for an invalid spec, else 1.
pub fn report(err: &anyhow::Error) -> ExitCode {
    let invalid = err.chain().any(|c| {
        matches!(c.downcast_ref::<imagespec_core::Error>(), Some(e) if e.is_invalid_spec())
            || c.downcast_ref::<imagespec_core::SpecError>().is_some()
    });
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "error: {err}");
    for cause in err.chain().skip(1) {
        let _ = write!(stderr, "\n  caused by: {cause}");
    }
    if let Some(hint) = err
        .chain()
        .find_map(|c| c.downcast_ref::<imagespec_core::Error>())
        .and_then(crate::plugins::feature_hint)
    {
        let _ = write!(stderr, "\n  hint: {hint}");
    }
    let _ = writeln!(stderr);
    ExitCode::from(if invalid { 2 } else { 1 })
}

/// Writes what the user asked for to stdout.
pub fn stdout_line(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}

/// Writes a JSON document to stdout.
pub fn stdout_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    stdout_line(&serde_json::to_string_pretty(value)?)
}
