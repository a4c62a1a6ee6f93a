//! Text as imagespec shows it: values from a spec, a file or a server are
//! escaped so that none can reach a terminal raw or start a line of its own.

/// The first character that could end an instruction or hide text from the
/// parser: any control character but a tab (a tab is white space to every
/// instruction).
pub fn control_char(value: &str) -> Option<char> {
    value.chars().find(|c| c.is_control() && *c != '\t')
}

/// `text` with every control character but newline and tab escaped
/// (`\u{1b}`), for echoing values to a terminal: an escape sequence in a
/// spec must not reach it.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `text` with every control character escaped, newline and tab included:
/// for a value shown within one line of output (a name, a tag, a path from
/// an image's label or a server), which must neither reach a terminal raw
/// nor start a line of its own.
pub fn single_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .flat_map(|c| {
                let escaped: Vec<char> = match c.is_control() {
                    true => c.escape_default().collect(),
                    false => vec![c],
                };
                escaped
            })
            .collect(),
    )
}

/// Quotes one shell argument when it holds anything the shell would interpret.
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-+=.,:/@%^".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
