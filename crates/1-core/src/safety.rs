//! The rules that keep a value from changing a Dockerfile's instructions,
//! written once: the spec checks apply them to name the offending field,
//! and the renderer (in the plan crate) applies them again to every value
//! it writes, so nothing unchecked slips through.

use crate::text::control_char;

/// Why an `ENV` name cannot be written, if it cannot: `NAME=value` pairs are
/// split at white space, `=` and quotes, each pair starts a line, and a line
/// starting with `#` is a comment to BuildKit (dropped, so the instruction
/// would swallow the next one).
pub fn env_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.contains(|c: char| c == '=' || c.is_whitespace() || c == '"' || c == '\'') {
        Some("it holds white space, `=` or a quote")
    } else if name.starts_with('#') {
        Some("it starts with `#`, which makes its line of the Dockerfile a comment")
    } else if name.ends_with('\\') {
        Some("it ends with a backslash, which joins the next line to it")
    } else {
        control_char(name).map(|_| "it holds a control character")
    }
}

/// Why shell text from a spec (a `commands` entry, `pip_extra_args`) cannot
/// be written into a `RUN` line, if it cannot: a trailing backslash continues
/// the instruction onto the next line, and a `<<WORD` opens a heredoc that
/// swallows the lines after it.
pub fn shell_text_problem(text: &str) -> Option<&'static str> {
    if text.trim().is_empty() {
        Some("it is empty")
    } else if text.trim_end_matches([' ', '\t']).ends_with('\\') {
        Some("it ends with a backslash, which would continue the instruction onto the next line")
    } else if !crate::dockerfile::heredocs_in(text).is_empty() {
        Some(
            "it holds `<<WORD`, which BuildKit reads as a heredoc that swallows the lines after it",
        )
    } else {
        control_char(text).map(|_| "it holds a control character")
    }
}

/// Why a `copy` entry cannot be named in a `COPY` instruction, if it cannot:
/// BuildKit expands `$` variables and `*`, `?`, `[` wildcards in COPY sources
/// (so `a$b` would copy `a`, and `*` the whole context), takes a leading `-`
/// for a flag, and reads `\` as an escape.
pub fn copy_path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        Some("it is empty")
    } else if path.contains(['$', '*', '?', '[', ']', '\\', '"', '\'']) {
        Some("it holds `$`, `*`, `?`, `[`, `]`, `\\` or a quote, which COPY expands, escapes or unquotes")
    } else if path.starts_with('-') {
        Some("it starts with `-`, which COPY reads as a flag")
    } else if !crate::dockerfile::heredocs_in(path).is_empty() {
        Some(
            "it holds `<<WORD`, which BuildKit reads as a heredoc that swallows the lines after it",
        )
    } else {
        control_char(path).map(|_| "it holds a control character")
    }
}

/// Why a `--mount` option value cannot be written, if it cannot: options are
/// comma-separated `key=value` pairs, so a comma, quote or white space would
/// add or change options.
pub fn mount_value_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        Some("it is empty")
    } else if value.contains([',', '"', '\'']) || value.contains(char::is_whitespace) {
        Some("it holds a comma, a quote or white space, which would add options to the mount")
    } else {
        control_char(value).map(|_| "it holds a control character")
    }
}

/// Why an image reference cannot follow `FROM`, if it cannot.
pub fn image_ref_problem(reference: &str) -> Option<&'static str> {
    if reference.is_empty() {
        Some("it is empty")
    } else if reference.contains(char::is_whitespace) {
        Some("it holds white space")
    } else if reference.contains(['\\', '$', '#']) {
        Some("it holds `\\`, `$` or `#`, which FROM would read as an escape, a variable or a comment")
    } else {
        control_char(reference).map(|_| "it holds a control character")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::printable;

    #[test]
    fn the_rules() {
        assert_eq!(control_char("a\tb"), None);
        assert_eq!(control_char("a\nb"), Some('\n'));
        assert_eq!(control_char("a\u{7f}"), Some('\u{7f}'));
        assert!(env_name_problem("PATH").is_none());
        assert!(env_name_problem("A B").is_some());
        assert!(env_name_problem("A=").is_some());
        assert!(env_name_problem("").is_some());
        assert!(mount_value_problem("/root/.netrc").is_none());
        assert!(mount_value_problem("/a,b").is_some());
        assert!(image_ref_problem("debian:12").is_none());
        assert!(image_ref_problem("debian 12").is_some());
        assert_eq!(printable("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\n");
        assert!(image_ref_problem("debian\\").is_some());
        assert!(env_name_problem("#x").is_some());
        assert!(shell_text_problem("echo hi").is_none());
        assert!(
            shell_text_problem("# a comment").is_none(),
            "a shell comment on the RUN line"
        );
        assert!(shell_text_problem("").is_some());
        assert!(shell_text_problem("echo hi \\").is_some());
        assert!(shell_text_problem("cat <<EOF").is_some());
        assert!(shell_text_problem("cat '<<EOF'").is_none());
        assert!(copy_path_problem("a b/c.txt").is_none());
        assert!(copy_path_problem("a$b").is_some());
        assert!(copy_path_problem("*").is_some());
        assert!(copy_path_problem("--chmod=777").is_some());
    }
}
