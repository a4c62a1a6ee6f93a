//! The core and the pipeline's stages name no plugin: no string in the code
//! of `crates/1-core` to `crates/7-insight` names a plugin, the images
//! plugins use, or their variables (doc comments may). Plugin knowledge
//! lives in the plugin crates.

use std::path::Path;

const WORDS: [&str; 9] = [
    "uv",
    "micromamba",
    "mamba",
    "poetry",
    "UV_",
    ".venv",
    "astral-sh",
    "requirements_uv",
    "docker.io/",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The string literals of a line of Rust (good enough for this code: no raw
/// strings with embedded quotes are used in it).
fn literals(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    let mut escaped = false;
    for c in line.chars() {
        match (&mut cur, c) {
            (Some(s), _) if escaped => {
                s.push(c);
                escaped = false;
            }
            (Some(_), '\\') => escaped = true,
            (Some(s), '"') => {
                out.push(std::mem::take(s));
                cur = None;
            }
            (Some(s), _) => s.push(c),
            (None, '"') => cur = Some(String::new()),
            (None, _) => {}
        }
    }
    out.extend(cur);
    out
}

fn names(literal: &str, word: &str) -> bool {
    if word.chars().all(|c| c.is_ascii_alphanumeric()) {
        literal
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w.eq_ignore_ascii_case(word))
    } else {
        literal.contains(word)
    }
}

#[test]
fn the_stages_strings_name_no_plugin() {
    // The scan sees what it looks for.
    assert!(literals(r#"image("ghcr.io/x/uv:1")"#)
        .iter()
        .any(|l| names(l, "uv")));
    assert!(!literals(r#"f("a value")"#).iter().any(|l| names(l, "uv")));
    let mut files = Vec::new();
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut stages = 0;
    for entry in std::fs::read_dir(&crates).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        // The stages 1 to 7; 8 is the command line, which links the plugins.
        if name.starts_with(|c: char| ('1'..='7').contains(&c)) {
            stages += 1;
            rust_files(&dir.join("src"), &mut files);
        }
    }
    assert_eq!(stages, 7, "the seven stage crates are there");
    assert!(files.len() > 40);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for lit in literals(code) {
                for word in WORDS {
                    if names(&lit, word) {
                        found.push(format!(
                            "{}:{}: `{lit}` names `{word}`",
                            file.display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "core names plugins:\n{}",
        found.join("\n")
    );
}
