//! The one place that writes Dockerfile text: a pure function of a [`BuildPlan`].
//!
//! Quoting lives here and nowhere else:
//! - exec forms (`ENTRYPOINT`, `SHELL`) are JSON arrays, written as Python's
//!   `json.dumps` writes them (flytekit's layout);
//! - `ENV` values are double-quoted when they hold anything but plain
//!   characters, with `"` and `\` escaped; `$VAR` keeps Dockerfile expansion;
//! - shell arguments from a spec are single-quoted when they hold shell
//!   metacharacters; shell text (templates, a user's `commands`) is written as is;
//! - `COPY` switches to its JSON form for paths with spaces or quotes;
//! - a newline, carriage return, NUL or other control character (but tab)
//!   anywhere is refused, since it could start a new instruction.

use std::fmt::Write as _;

use crate::model::{BuildPlan, Mount, Stage, Step, Word};
use imagespec_core::error::RenderError;
use imagespec_core::safety;

fn refuse(what: &'static str, value: &str, why: &'static str) -> RenderError {
    RenderError {
        what,
        value: value.to_string(),
        why,
    }
}

fn clean<'a>(what: &'static str, value: &'a str) -> Result<&'a str, RenderError> {
    match imagespec_core::text::control_char(value) {
        None => Ok(value),
        Some(_) => Err(refuse(
            what,
            value,
            "it contains a control character (newline, carriage return, NUL, ...) that could inject an instruction",
        )),
    }
}

/// Renders a plan to Dockerfile text, and checks that BuildKit's parser
/// finds in it exactly the plan's instructions ([`imagespec_core::dockerfile::instructions`]):
/// nothing a value holds can add, join or swallow one.
pub fn render(plan: &BuildPlan) -> Result<String, RenderError> {
    let mut out = String::new();
    if let Some(syntax) = &plan.syntax {
        let _ = writeln!(out, "# syntax={}", clean("a syntax directive", syntax)?);
    }
    for (i, stage) in plan.stages.iter().enumerate() {
        if i > 0 && !plan.stages[i - 1].steps.is_empty() {
            out.push('\n');
        }
        render_stage(&mut out, stage)?;
    }
    check_structure(plan, &out)?;
    Ok(out)
}

/// The instruction keywords a plan renders to, in order.
pub fn planned_keywords(plan: &BuildPlan) -> Vec<&'static str> {
    let mut out = Vec::new();
    for stage in &plan.stages {
        out.push("FROM");
        for step in &stage.steps {
            out.push(match step {
                Step::Comment { .. } => continue,
                Step::Workdir { .. } => "WORKDIR",
                Step::User { .. } => "USER",
                Step::Run { .. } => "RUN",
                Step::Env { .. } => "ENV",
                Step::Entrypoint { .. } => "ENTRYPOINT",
                Step::Shell { .. } => "SHELL",
                Step::Copy { .. } => "COPY",
            });
        }
    }
    out
}

/// The longest line BuildKit reads (its scanner's token limit).
pub const MAX_LINE: usize = 64 * 1024;

fn check_structure(plan: &BuildPlan, text: &str) -> Result<(), RenderError> {
    if let Some(line) = text.lines().find(|l| l.len() >= MAX_LINE) {
        return Err(refuse(
            "a Dockerfile line",
            &line.chars().take(80).collect::<String>(),
            "it is longer than the 64 KiB BuildKit reads in one line",
        ));
    }
    let found = imagespec_core::dockerfile::instructions(text)
        .map_err(|e| refuse("the Dockerfile", &e, "BuildKit would not parse it"))?;
    let found_keywords: Vec<&str> = found.iter().map(|i| i.keyword.as_str()).collect();
    if found_keywords != planned_keywords(plan) {
        return Err(refuse(
            "the Dockerfile",
            &found_keywords.join(" "),
            "a value changed which instructions BuildKit sees",
        ));
    }
    if let Some(i) = found.iter().find(|i| !i.heredocs.is_empty()) {
        return Err(refuse(
            "a heredoc",
            &i.heredocs.join(", "),
            "a value opens a heredoc that would swallow the lines after it",
        ));
    }
    Ok(())
}

fn render_stage(out: &mut String, stage: &Stage) -> Result<(), RenderError> {
    let from = clean("an image reference", &stage.from)?;
    if let Some(why) = safety::image_ref_problem(from) {
        return Err(refuse("an image reference", from, why));
    }
    match &stage.alias {
        Some(alias) => {
            let _ = writeln!(out, "FROM {from} AS {}", clean("a stage name", alias)?);
        }
        None => {
            let _ = writeln!(out, "\nFROM {from}");
        }
    }
    // The working folder so far, where the Dockerfile set it: a relative
    // bind target is written absolute against it, which is what BuildKit
    // makes of it, and what buildah (podman) needs (it refuses a relative one).
    let mut workdir: Option<String> = None;
    for step in &stage.steps {
        if let Step::Workdir { path } = step {
            workdir = match (path.starts_with('/'), workdir) {
                (true, _) => Some(path.clone()),
                (false, Some(dir)) => Some(format!("{}/{path}", dir.trim_end_matches('/'))),
                (false, None) => None,
            }
            .filter(|d| !d.contains('$'));
        }
        render_step(out, step, workdir.as_deref())?;
    }
    Ok(())
}

fn render_step(out: &mut String, step: &Step, workdir: Option<&str>) -> Result<(), RenderError> {
    match step {
        Step::Comment { text } => {
            let _ = write!(out, "\n# {}\n", clean("a comment", text)?);
        }
        Step::Workdir { path } => {
            let _ = writeln!(out, "WORKDIR {}", quote_path(clean("a path", path)?));
        }
        Step::User { name } => {
            let _ = writeln!(out, "USER {}", clean("a user", name)?);
        }
        Step::Run { mounts, script } => {
            // One physical line, as flytekit's templates render (their
            // `\` line ends are Python's, so the text has none): a value
            // starting with `#` is then a shell comment, not a Dockerfile
            // comment line that would end the instruction early and let it
            // swallow the next one; and a reader's `RUN.+mkdir` finds it.
            out.push_str("RUN");
            // Mounts of another stage's files first: the same mounts for
            // BuildKit, whatever their order; buildah (the podman builder)
            // never releases a `sharing=locked` cache it mounted before a
            // `from=` mount, and the next step locking it waits forever.
            let (from, other): (Vec<&Mount>, Vec<&Mount>) =
                mounts.iter().partition(|m| matches!(m, Mount::From { .. }));
            for m in from.into_iter().chain(other) {
                let _ = write!(out, " --mount={}", mount(m, workdir)?);
            }
            let words = script.iter().map(word).collect::<Result<Vec<_>, _>>()?;
            let _ = writeln!(out, " {}", words.join(" "));
        }
        Step::Env { vars } => {
            out.push_str("ENV");
            for v in vars {
                let name = clean("an ENV name", &v.name)?;
                if let Some(why) = safety::env_name_problem(name) {
                    return Err(refuse("an ENV name", name, why));
                }
                let _ = write!(
                    out,
                    " {name}={}",
                    env_value(clean("an ENV value", &v.value)?)
                );
            }
            out.push('\n');
        }
        Step::Entrypoint { args } => {
            let _ = writeln!(
                out,
                "ENTRYPOINT {}",
                json_array("an ENTRYPOINT argument", args)?
            );
        }
        Step::Shell { args } => {
            let _ = writeln!(out, "SHELL {}", json_array("a SHELL argument", args)?);
        }
        Step::Copy { chown, src, dst } => {
            out.push_str("COPY");
            if let Some(user) = chown {
                let _ = write!(out, " --chown={}", clean("a user", user)?);
            }
            let (src, dst) = (
                clean("a COPY source", src)?,
                clean("a COPY destination", dst)?,
            );
            if needs_json_form(src) || needs_json_form(dst) {
                let _ = writeln!(
                    out,
                    " {}",
                    json_array("a COPY path", &[src.to_string(), dst.to_string()])?
                );
            } else {
                let _ = writeln!(out, " {src} {dst}");
            }
        }
    }
    Ok(())
}

fn mount(m: &Mount, workdir: Option<&str>) -> Result<String, RenderError> {
    let v = |what: &'static str, s: &str| -> Result<String, RenderError> {
        let s = clean(what, s)?;
        match safety::mount_value_problem(s) {
            Some(why) => Err(refuse(what, s, why)),
            None => Ok(s.to_string()),
        }
    };
    Ok(match m {
        Mount::Cache { target, id } => format!(
            "type=cache,sharing=locked,mode=0777,target={},id={}",
            v("a mount target", target)?,
            v("a cache id", id)?
        ),
        Mount::From {
            from,
            source,
            target,
        } => format!(
            "from={},source={},target={}",
            v("a stage name", from)?,
            v("a mount source", source)?,
            v("a mount target", target)?
        ),
        Mount::Bind { target, src } => {
            let target = match workdir {
                Some(dir) if !target.starts_with('/') => {
                    format!("{}/{target}", dir.trim_end_matches('/'))
                }
                _ => target.clone(),
            };
            format!(
                "type=bind,target={},src={}",
                v("a mount target", &target)?,
                v("a mount source", src)?
            )
        }
        Mount::Secret { id, target } => format!(
            "type=secret,id={},target={}",
            v("a secret id", id)?,
            v("a secret target", target)?
        ),
    })
}

fn word(w: &Word) -> Result<String, RenderError> {
    Ok(match w {
        Word::Shell(text) => clean("a shell command", text)?.to_string(),
        Word::Arg(arg) => imagespec_core::text::shell_quote(clean("a shell argument", arg)?),
    })
}

/// An ENV value: as is when plain, else double-quoted with `"` and `\` escaped.
/// `$` is left alone so that `$VAR` expands, as in flytekit's Dockerfiles.
pub fn env_value(value: &str) -> String {
    let plain = !value.is_empty()
        && !value.contains('$')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-+=.,:/@%^~".contains(c));
    if plain {
        value.to_string()
    } else {
        let escaped = value.replace('\\', r"\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    }
}

fn quote_path(path: &str) -> String {
    if path.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\') {
        env_value(path)
    } else {
        path.to_string()
    }
}

fn needs_json_form(path: &str) -> bool {
    path.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\' || c == '[')
}

/// A JSON array as Python's `json.dumps` writes it: `["a", "b"]`, non-ASCII as `\uXXXX`.
fn json_array(what: &'static str, items: &[String]) -> Result<String, RenderError> {
    let mut parts = Vec::new();
    for item in items {
        let item = clean(what, item)?;
        let json = serde_json::to_string(item).unwrap_or_default();
        let mut ascii = String::new();
        for c in json.chars() {
            if c.is_ascii() {
                ascii.push(c);
            } else {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(ascii, "\\u{unit:04x}");
                }
            }
        }
        parts.push(ascii);
    }
    Ok(format!("[{}]", parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_quote_only_when_needed() {
        assert_eq!(env_value("debug"), "debug");
        assert_eq!(env_value("hello world"), "\"hello world\"");
        assert_eq!(env_value("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(env_value("C:\\x"), "\"C:\\\\x\"");
        assert_eq!(env_value(""), "\"\"");
        assert_eq!(env_value("$HOME/x"), "\"$HOME/x\"");
    }

    #[test]
    fn shell_args_quote_metacharacters() {
        assert_eq!(imagespec_core::text::shell_quote("curl"), "curl");
        assert_eq!(
            imagespec_core::text::shell_quote("scipy==1.13.0"),
            "scipy==1.13.0"
        );
        assert_eq!(
            imagespec_core::text::shell_quote("numpy>=1.2"),
            "'numpy>=1.2'"
        );
        assert_eq!(
            imagespec_core::text::shell_quote("a;rm -rf /"),
            "'a;rm -rf /'"
        );
        assert_eq!(imagespec_core::text::shell_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn json_arrays_look_like_json_dumps() {
        assert_eq!(
            json_array("x", &["/bin/bash".into(), "-c".into()]).unwrap(),
            r#"["/bin/bash", "-c"]"#
        );
        assert_eq!(json_array("x", &["é\"".into()]).unwrap(), r#"["\u00e9\""]"#);
        assert_eq!(json_array("x", &[]).unwrap(), "[]");
        assert!(json_array("x", &["a\nb".into()]).is_err());
    }
}
