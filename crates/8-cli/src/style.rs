//! How stderr lines are marked: `error` and `warning`, coloured or not.

/// What a line on stderr is.
#[derive(Debug, Clone, Copy)]
pub enum Label {
    Error,
    Warning,
}

/// `error` / `warning`, bold red / yellow when colouring.
pub fn label(kind: Label, color: bool) -> &'static str {
    match (kind, color) {
        (Label::Error, true) => "\x1b[1;31merror\x1b[0m",
        (Label::Error, false) => "error",
        (Label::Warning, true) => "\x1b[1;33mwarning\x1b[0m",
        (Label::Warning, false) => "warning",
    }
}
