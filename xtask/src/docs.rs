//! Generated documentation, and the check that the committed copies are
//! current: `docs/spec.schema.json` and the field section of
//! `docs/spec-reference.md` (from the spec model's field table),
//! `docs/cli.md` (from clap), every lint code in `docs/lints.md`, and the
//! man pages (clap_mangen, into `target/man`).

use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};

const FIELDS_BEGIN: &str = "<!-- generated:fields (cargo xtask docs) -->";
const FIELDS_END: &str = "<!-- end generated:fields -->";

/// One generated file: its path and what it must hold.
struct Generated {
    path: &'static str,
    text: String,
}

fn generated(root: &Path) -> Result<Vec<Generated>> {
    let schema = serde_json::to_string_pretty(&imagespec_cli::fields::json_schema())? + "\n";
    let reference_path = root.join("docs/spec-reference.md");
    let reference = fs::read_to_string(&reference_path)
        .with_context(|| format!("cannot read {}", reference_path.display()))?;
    let (Some(begin), Some(end)) = (reference.find(FIELDS_BEGIN), reference.find(FIELDS_END))
    else {
        bail!(
            "docs/spec-reference.md lacks the markers `{FIELDS_BEGIN}` ... `{FIELDS_END}` around its field section"
        );
    };
    let reference = format!(
        "{}{FIELDS_BEGIN}\n\n{}{}",
        &reference[..begin],
        imagespec_cli::fields::reference_markdown(),
        &reference[end..]
    );
    Ok(vec![
        Generated {
            path: "docs/spec.schema.json",
            text: schema,
        },
        Generated {
            path: "docs/spec-reference.md",
            text: reference,
        },
        Generated {
            path: "docs/cli.md",
            text: cli_markdown(),
        },
    ])
}

/// The command line without the values the environment happens to give
/// its flags (so the docs do not depend on who generates them).
fn command() -> clap::Command {
    fn plain(cmd: clap::Command) -> clap::Command {
        cmd.term_width(100)
            .mut_args(|a| a.hide_env_values(true))
            .mut_subcommands(plain)
    }
    plain(imagespec_cli::command())
}

/// `docs/cli.md`: every command's `--help`, as clap prints it.
fn cli_markdown() -> String {
    let mut top = command();
    top.build();
    let mut out = String::from(
        "# The `imagespec` command line\n\n\
         Generated from the command line's own definition by `cargo xtask docs`\n\
         (CI fails when it is stale). Every command also has `--help`; the JSON\n\
         documents `--json` prints are described in [json.md](json.md).\n\n",
    );
    out.push_str("## `imagespec`\n\n```text\n");
    out.push_str(top.render_long_help().to_string().trim_end());
    out.push_str("\n```\n");
    let names: Vec<String> = top
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let sub = top.find_subcommand_mut(&name).expect("listed above");
        out.push_str(&format!("\n## `imagespec {name}`\n\n```text\n"));
        out.push_str(sub.render_long_help().to_string().trim_end());
        out.push_str("\n```\n");
    }
    out
}

/// Writes the generated files (`check`: fails naming each stale one instead).
pub fn run(root: &Path, check: bool) -> Result<()> {
    let mut stale = Vec::new();
    for g in generated(root)? {
        let path = root.join(g.path);
        let current = fs::read_to_string(&path).unwrap_or_default();
        if current == g.text {
            continue;
        }
        if check {
            stale.push(g.path);
        } else {
            fs::write(&path, &g.text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("xtask: wrote {}", g.path);
        }
    }
    let lints = fs::read_to_string(root.join("docs/lints.md")).unwrap_or_default();
    let missing: Vec<&str> = imagespec_insight::lint::CODES
        .iter()
        .map(|(code, _)| *code)
        .filter(|code| !lints.contains(&format!("`{code}`")))
        .collect();
    if !missing.is_empty() {
        bail!(
            "docs/lints.md does not describe the lint(s) {}",
            missing.join(", ")
        );
    }
    if !stale.is_empty() {
        bail!(
            "stale generated docs: {}; run `cargo xtask docs` and commit the result",
            stale.join(", ")
        );
    }
    // The man pages are made (and so checked to be makeable), not committed.
    man(&root.join("target/man"))?;
    Ok(())
}

/// The man pages: `imagespec.1` and one `imagespec-<command>.1` per command.
pub fn man(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)?;
    let top = command();
    write_man(dir, "imagespec", top.clone())?;
    for sub in top.get_subcommands() {
        let name = format!("imagespec-{}", sub.get_name());
        write_man(dir, &name, sub.clone().name(name.clone()))?;
    }
    eprintln!("xtask: man pages in {}", dir.display());
    Ok(())
}

fn write_man(dir: &Path, name: &str, cmd: clap::Command) -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    fs::write(dir.join(format!("{name}.1")), page)?;
    Ok(())
}
