//! Nothing a user typed can inject a Dockerfile instruction, and values with
//! spaces, quotes and backslashes reach the image exactly.

use imagespec_core::spec::{load_str, SpecFormat};
use imagespec_tests::{link_plugins, oracle_defaults, SpecExt};

fn plan_json(dir: &std::path::Path, spec: serde_json::Value) -> Result<String, String> {
    let spec =
        load_str(&spec.to_string(), SpecFormat::Json, None, dir).map_err(|e| e.to_string())?;
    let job = spec.job().map_err(|e| e.to_string())?;
    let plan = imagespec_plan::plan(
        &job,
        &imagespec_tests::plugins().installers,
        &oracle_defaults(),
    )
    .map_err(|e| e.to_string())?;
    imagespec_plan::render::render(&plan).map_err(|e| e.to_string())
}

#[test]
fn control_characters_are_refused_naming_the_field() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    for bad in ["\n", "\r", "\0", "\u{1b}"] {
        let v = format!("a{bad}RUN evil");
        let cases: Vec<(&str, serde_json::Value)> = vec![
            (
                "packages[0]",
                serde_json::json!({"name": "x", "packages": [v]}),
            ),
            (
                "apt_packages[0]",
                serde_json::json!({"name": "x", "apt_packages": [v]}),
            ),
            (
                "env.",
                serde_json::json!({"name": "x", "env": {v.clone(): "1"}}),
            ),
            ("env.K", serde_json::json!({"name": "x", "env": {"K": v}})),
            (
                "commands[0]",
                serde_json::json!({"name": "x", "commands": ["ok", v]}),
            ),
            (
                "commands[1]",
                serde_json::json!({"name": "x", "commands": ["ok", v]}),
            ),
            (
                "entrypoint[0]",
                serde_json::json!({"name": "x", "entrypoint": [v]}),
            ),
            ("copy[0]", serde_json::json!({"name": "x", "copy": [v]})),
            (
                "source_root",
                serde_json::json!({"name": "x", "source_root": v, "source_copy_mode": "all"}),
            ),
            (
                "builder_config.uv_image",
                serde_json::json!({"name": "x", "builder_config": {"uv_image": v}}),
            ),
            (
                "base_image",
                serde_json::json!({"name": "x", "base_image": v}),
            ),
            (
                "python_exec",
                serde_json::json!({"name": "x", "python_exec": v, "base_image": "b"}),
            ),
            (
                "pip_index",
                serde_json::json!({"name": "x", "pip_index": v}),
            ),
            (
                "pip_extra_args",
                serde_json::json!({"name": "x", "pip_extra_args": v}),
            ),
            (
                "python_version",
                serde_json::json!({"name": "x", "python_version": v}),
            ),
            (
                "pip_secret_mounts[0]",
                serde_json::json!({"name": "x", "pip_secret_mounts": [["a", v]]}),
            ),
        ];
        for (field, spec) in cases {
            // commands[0] is fine; the bad one is the second.
            if field == "commands[0]" {
                continue;
            }
            let err = plan_json(dir.path(), spec).expect_err(field);
            let field_name = field.trim_end_matches('.');
            assert!(
                err.contains(field_name),
                "{field} with {bad:?}: error does not name the field: {err}"
            );
            assert!(!err.is_empty());
        }
    }
}

/// BuildKit's reading of one double-quoted or plain ENV value (its shell
/// lexer, without variable expansion): inside double quotes a backslash
/// escapes `"`, `\` and `$`, elsewhere it escapes any character.
fn buildkit_env_word(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$')) => {
                            out.push(chars.next().unwrap())
                        }
                        d => out.push(d),
                    }
                }
            }
            '\'' => {
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    out.push(d);
                }
            }
            '\\' => {
                if let Some(d) = chars.next() {
                    out.push(d);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Splits an ENV instruction's text into its `name=value` words, as BuildKit does.
fn env_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let (mut in_dq, mut in_sq, mut esc) = (false, false, false);
    for c in line.chars() {
        if esc {
            cur.push(c);
            esc = false;
            continue;
        }
        match c {
            '\\' if !in_sq => {
                cur.push(c);
                esc = true;
            }
            '"' if !in_sq => {
                in_dq = !in_dq;
                cur.push(c);
            }
            '\'' if !in_dq => {
                in_sq = !in_sq;
                cur.push(c);
            }
            c if c.is_whitespace() && !in_dq && !in_sq => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[test]
fn env_values_round_trip_through_buildkit_quoting() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    let values = [
        ("SPACES", "hello  world"),
        ("DQ", "say \"hi\""),
        ("SQ", "it's"),
        ("BACKSLASH", "C:\\path\\to\\"),
        ("MIXED", "a \\\"b\\\" 'c' d"),
        ("EMPTY", ""),
        ("TAB", "a\tb"),
        ("UNICODE", "héllo 🚀"),
        ("EQUALS", "a=b=c"),
        ("HASH", "# not a comment"),
    ];
    let env: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
        .collect();
    let dockerfile = plan_json(dir.path(), serde_json::json!({"name": "x", "env": env})).unwrap();
    let joined = dockerfile.replace("\\\n", " ");
    let env_line = joined
        .lines()
        .find(|l| l.starts_with("ENV") && l.contains("SPACES="))
        .expect("the user env line");
    let words = env_words(&env_line["ENV".len()..]);
    for (k, v) in values {
        let word = words
            .iter()
            .find(|w| w.starts_with(&format!("{k}=")))
            .unwrap();
        let parsed = buildkit_env_word(&word[k.len() + 1..]);
        assert_eq!(parsed, v, "{k}: written as {word}");
    }
}

#[test]
fn dollar_references_keep_dockerfile_expansion() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    let dockerfile = plan_json(
        dir.path(),
        serde_json::json!({"name": "x", "env": {"P": "$HOME/bin:${PATH}"}}),
    )
    .unwrap();
    assert!(
        dockerfile.contains("P=\"$HOME/bin:${PATH}\""),
        "{dockerfile}"
    );
}

#[test]
fn shell_metacharacters_in_package_names_are_quoted() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    let dockerfile = plan_json(
        dir.path(),
        serde_json::json!({"name": "x", "apt_packages": ["curl", "x; touch /pwned"], "conda_packages": ["numpy>=1.2"]}),
    )
    .unwrap();
    assert!(
        dockerfile.contains("curl 'x; touch /pwned'"),
        "{dockerfile}"
    );
    assert!(dockerfile.contains("'numpy>=1.2'"), "{dockerfile}");
}

#[test]
fn installers_are_found_through_inventory() {
    link_plugins();
    let names: Vec<(String, &str, i32)> = imagespec_plan::installer::registry()
        .unwrap()
        .all()
        .iter()
        .map(|r| {
            (
                format!("{:?}", r.plugin.role()),
                r.plugin.name(),
                r.priority,
            )
        })
        .collect();
    // By priority, then name; a role's choice is the first that applies.
    assert_eq!(
        names,
        vec![
            ("Python".to_string(), "base-python", 20),
            ("Packages".to_string(), "poetry-lock", 20),
            ("Packages".to_string(), "uv-lock", 20),
            ("Toolbox".to_string(), "uv-tools", 20),
            ("Python".to_string(), "micromamba", 10),
            ("Toolbox".to_string(), "micromamba-tools", 10),
            ("Packages".to_string(), "uv", 0),
        ]
    );
}

#[test]
fn empty_apt_and_conda_entries_are_left_out_as_flytekits_text_leaves_them() {
    // Found by the property tests: `''` would hand apt-get an empty package name.
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    let text = plan_json(
        dir.path(),
        serde_json::json!({"name": "x", "apt_packages": ["", "git"], "conda_packages": ["", "numpy"]}),
    )
    .unwrap();
    assert!(
        text.contains("apt-get install -y --no-install-recommends git\n"),
        "{text}"
    );
    assert!(!text.contains("''"), "{text}");
    assert!(text.contains("python=3.11 numpy ||"), "{text}");
}
