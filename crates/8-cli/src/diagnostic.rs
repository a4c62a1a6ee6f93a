//! Spec errors as diagnostics: the message, then the spec file's line with
//! the field marked (miette), then the hint.

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

/// The largest spec file shown in a diagnostic.
const MAX_SOURCE: u64 = 1 << 20;

/// `se` rendered with the line it points at, when it has a file and a line
/// that can be read; `None` otherwise (the caller prints it plainly).
pub fn render(se: &imagespec_core::SpecError, color: bool) -> Option<String> {
    let file = se.location.file.as_ref()?;
    let line = se.location.line?;
    // Only a file known to be a spec is shown: the error must be about one
    // of its fields (a file that is no spec, passed by mistake, stays unseen).
    let top = se.location.field.split(['.', '[']).next().unwrap_or("");
    imagespec_core::spec::field(top)?;
    if std::fs::metadata(file).ok()?.len() > MAX_SOURCE {
        return None;
    }
    let raw = std::fs::read_to_string(file).ok()?;
    // Nothing a spec holds reaches the terminal raw.
    let text = imagespec_core::text::printable(&raw).into_owned();
    let start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let this_line = text[start..].lines().next()?;
    let indent = this_line.len() - this_line.trim_start().len();
    // The key when the line is `key: value`, else the whole line.
    let marked = match this_line.trim_start().find(':') {
        Some(colon) if colon > 0 => colon,
        _ => this_line.trim().len(),
    }
    .max(1);
    let label = format!(
        "field `{}`",
        imagespec_core::text::printable(&se.location.field)
    );
    let mut headline = se.location.to_string();
    if !se.location.field.is_empty() {
        headline.push_str(": ");
    }
    headline.push_str(&imagespec_core::text::printable(&se.message));
    let mut diag = MietteDiagnostic::new(headline).with_labels([LabeledSpan::at(
        start + indent..start + indent + marked,
        label,
    )]);
    if let Some(hint) = &se.hint {
        diag = diag.with_help(imagespec_core::text::printable(hint).into_owned());
    }
    let report = miette::Report::new(diag)
        .with_source_code(NamedSource::new(file.display().to_string(), text));
    let theme = match color {
        true => GraphicalTheme::unicode(),
        false => GraphicalTheme::unicode_nocolor(),
    };
    let mut out = String::new();
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .render_report(&mut out, report.as_ref())
        .ok()?;
    // `error: ` as every other error starts, instead of miette's `  × `.
    let body = match out.find('×') {
        Some(i) => out[i + '×'.len_utf8()..]
            .trim_start_matches("\x1b[0m")
            .trim_start(),
        None => out.trim_start(),
    };
    let prefix = crate::style::label(crate::style::Label::Error, color);
    Some(format!("{prefix}: {body}"))
}
