//! How BuildKit's Dockerfile parser splits text into instructions
//! (`moby/buildkit`, `frontend/dockerfile/parser/parser.go`, `Parse`), for
//! checking that what the renderer wrote is what the plan says:
//!
//! - a line ending in the escape character (`\`) and optional spaces or tabs
//!   continues on the next line;
//! - inside a continuation, a line whose first non-blank character is `#`
//!   is a comment and is dropped, and so is an empty line;
//! - outside one, such lines are skipped too;
//! - `RUN`, `COPY` and `ADD` can open heredocs: a word (split by the shell
//!   lexer, quotes kept) of the form `[n]<<[-]NAME` makes the following lines,
//!   up to one that is `NAME`, the heredoc's content.
//!
//! Only the instruction list matters here, so parser directives other than
//! the escape character, flags and JSON forms are not interpreted.

/// One instruction as the parser sees it: the keyword (upper case) and the
/// rest of its joined line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// `FROM`, `RUN`, ...
    pub keyword: String,
    /// Everything after the keyword, continuations joined.
    pub rest: String,
    /// The heredocs' names, for instructions that opened some.
    pub heredocs: Vec<String>,
}

fn trim_left(s: &str) -> &str {
    s.trim_start_matches(char::is_whitespace)
}

fn is_comment(line: &str) -> bool {
    trim_left(line).starts_with('#')
}

/// `\` plus optional spaces and tabs at the end: the line continues.
fn continues(line: &str, escape: char) -> Option<&str> {
    let trimmed = line.trim_end_matches([' ', '\t']);
    trimmed.strip_suffix(escape)
}

/// The shell lexer's words with quotes kept (`RawQuotes`), as
/// `heredocsFromLine` splits a line.
fn raw_words(line: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == escape && q == '"' {
                    cur.extend(chars.next());
                } else if c == q {
                    quote = None;
                }
            }
            None if c == escape => {
                cur.push(c);
                cur.extend(chars.next());
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                cur.push(c);
            }
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            None => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// `ParseHeredoc`: `^(\d*)<<(-?)([^<]*)$`, the name unquoted.
pub fn heredoc_name(word: &str) -> Option<(String, bool)> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let (chomp, name) = match rest.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, rest),
    };
    if name.contains('<') {
        return None;
    }
    let unquoted = name
        .strip_prefix('\'')
        .and_then(|n| n.strip_suffix('\''))
        .or_else(|| name.strip_prefix('"').and_then(|n| n.strip_suffix('"')))
        .unwrap_or(name);
    if unquoted.is_empty() {
        return None;
    }
    Some((unquoted.to_string(), chomp))
}

/// The heredocs a line opens, in order.
pub fn heredocs_in(line: &str) -> Vec<(String, bool)> {
    raw_words(line, '\\')
        .iter()
        .filter_map(|w| heredoc_name(w))
        .collect()
}

/// The instructions of a Dockerfile, as BuildKit's parser finds them.
/// Fails where BuildKit fails (an unterminated heredoc).
pub fn instructions(text: &str) -> Result<Vec<Instruction>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let escape = '\\';
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let mut out = Vec::new();
    while let Some(first) = lines.next() {
        if is_comment(first) {
            continue;
        }
        let first = trim_left(first);
        let (mut line, mut open) = match continues(first, escape) {
            Some(head) => (head.to_string(), true),
            None => (first.to_string(), false),
        };
        if !open && line.is_empty() {
            continue;
        }
        while open {
            let Some(next) = lines.next() else { break };
            if is_comment(next) || trim_left(next).is_empty() {
                continue;
            }
            match continues(next, escape) {
                Some(head) => line.push_str(head),
                None => {
                    line.push_str(next);
                    open = false;
                }
            }
        }
        if line.trim().is_empty() {
            continue;
        }
        let trimmed = line.trim_start();
        let (keyword, rest) = trimmed
            .split_once(char::is_whitespace)
            .unwrap_or((trimmed, ""));
        let keyword = keyword.to_ascii_uppercase();
        let mut heredocs = Vec::new();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") && line.contains("<<") {
            for (name, chomp) in heredocs_in(&line) {
                let mut terminated = false;
                for body in lines.by_ref() {
                    let candidate = if chomp {
                        body.trim_start_matches('\t')
                    } else {
                        body
                    };
                    if candidate == name {
                        terminated = true;
                        break;
                    }
                }
                if !terminated {
                    return Err(format!("unterminated heredoc `{name}`"));
                }
                heredocs.push(name);
            }
        }
        out.push(Instruction {
            keyword,
            rest: rest.to_string(),
            heredocs,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(text: &str) -> Vec<String> {
        instructions(text)
            .unwrap()
            .into_iter()
            .map(|i| i.keyword)
            .collect()
    }

    #[test]
    fn continuations_swallow_comments_and_empty_lines() {
        assert_eq!(
            keywords("FROM a\nRUN \\\n    --mount=x \\\n    # install extras && echo hi\nWORKDIR /root\n"),
            ["FROM", "RUN"],
            "the comment line is dropped, so WORKDIR joins the RUN"
        );
        assert_eq!(keywords("RUN a \\\n\nUSER b\n"), ["RUN"]);
        assert_eq!(keywords("RUN echo hi \\\nWORKDIR /\n"), ["RUN"]);
        assert_eq!(keywords("FROM debian\\\nWORKDIR /\n"), ["FROM"]);
        assert_eq!(keywords("# c\n\nFROM a AS b\nrun x\n"), ["FROM", "RUN"]);
        assert_eq!(keywords("RUN a \\  \nb\nUSER c\n"), ["RUN", "USER"]);
    }

    #[test]
    fn heredocs_take_lines_until_their_name() {
        let i = instructions("RUN cat <<EOF\nUSER root\nEOF\nUSER x\n").unwrap();
        assert_eq!(i.len(), 2);
        assert_eq!(i[0].heredocs, ["EOF"]);
        assert_eq!(
            keywords("RUN echo '<<EOF'\nUSER x\n"),
            ["RUN", "USER"],
            "quoted: no heredoc"
        );
        assert_eq!(
            keywords("RUN a<<<b\nUSER x\n"),
            ["RUN", "USER"],
            "a here-string is none"
        );
        assert!(instructions("RUN cat <<EOF\nUSER x\n").is_err());
        assert_eq!(heredoc_name("2<<-'END'"), Some(("END".into(), true)));
        assert_eq!(heredoc_name("x<<EOF"), None);
    }
}
