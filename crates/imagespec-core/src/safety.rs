//! The rules that keep a value from changing a Dockerfile's instructions,
//! written once: the spec checks ([`crate::spec::check`]) apply them to name
//! the offending field, and the renderer ([`crate::render`]) applies them
//! again to every value it writes, so nothing unchecked slips through.

/// The first character that could end an instruction or hide text from the
/// parser: any control character but a tab (a tab is white space to every
/// instruction).
pub fn control_char(value: &str) -> Option<char> {
    value.chars().find(|c| c.is_control() && *c != '\t')
}

/// Why an `ENV` name cannot be written, if it cannot: `NAME=value` pairs are
/// split at white space, `=` and quotes.
pub fn env_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.contains(|c: char| c == '=' || c.is_whitespace() || c == '"' || c == '\'') {
        Some("it holds white space, `=` or a quote")
    } else {
        control_char(name).map(|_| "it holds a control character")
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
    } else {
        control_char(reference).map(|_| "it holds a control character")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
