//! Hostile specs, as a user who did not write them would run them: each is
//! refused by `tag` and by `context` alike (exit 2, the field named), or its
//! Dockerfile holds exactly the instructions of the clean spec, as
//! BuildKit's parser splits it. Also: files that are no spec, links out of
//! the tree, messages that would echo what they should not, interrupted runs.

mod common;
use std::path::Path;

use common::imagespec;
use imagespec_core::dockerfile::instructions;

fn write(root: &Path, rel: &str, body: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

/// `tag` and `context` of `spec.yaml` in `dir`: (exit code, stderr) each.
fn both(dir: &Path) -> [(Option<i32>, String); 2] {
    let spec = dir.join("spec.yaml");
    let tag = imagespec().arg("tag").arg(&spec).output().unwrap();
    let ctx = dir.join("ctx-out");
    let _ = std::fs::remove_dir_all(&ctx);
    let context = imagespec()
        .args(["context", "-o"])
        .arg(&ctx)
        .arg(&spec)
        .output()
        .unwrap();
    [tag, context].map(|o| {
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    })
}

/// The spec is refused by both commands, naming `field`, and nothing is written.
fn refused(yaml: &str, field: &str) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "spec.yaml", yaml);
    write(dir.path(), "a", "decoy");
    for (code, stderr) in both(dir.path()) {
        assert_eq!(code, Some(2), "{yaml:?}: {stderr}");
        assert!(
            stderr.contains(&format!("`{field}`")),
            "{yaml:?}: no `{field}` in {stderr}"
        );
    }
    assert!(
        !dir.path().join("ctx-out").exists(),
        "{yaml:?}: nothing written"
    );
}

/// The keywords BuildKit finds in the context `spec.yaml` gives.
fn keywords(yaml: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "spec.yaml", yaml);
    write(dir.path(), "a b.txt", "spaced");
    let [(tag, e1), (ctx, e2)] = both(dir.path());
    assert_eq!((tag, ctx), (Some(0), Some(0)), "{yaml:?}: {e1}{e2}");
    let text = std::fs::read_to_string(dir.path().join("ctx-out/Dockerfile")).unwrap();
    instructions(&text)
        .unwrap()
        .into_iter()
        .map(|i| i.keyword)
        .collect()
}

#[test]
fn nothing_a_value_holds_swallows_or_adds_an_instruction() {
    let clean = keywords("name: x\ncommands: [echo hi]\n");
    for hostile in [
        "name: x\ncommands: ['echo hi # RUN evil']\n",
        "name: x\ncommands: ['echo \"<<EOF\" done']\n",
    ] {
        assert_eq!(keywords(hostile), clean, "{hostile}");
    }
    let clean = keywords("name: x\napt_packages: [curl]\n");
    for hostile in [
        "name: x\napt_packages: ['<<EOF']\n",
        "name: x\napt_packages: ['curl\\\\']\n",
        "name: x\napt_packages: ['# x']\n",
    ] {
        assert_eq!(keywords(hostile), clean, "{hostile}");
    }
    let clean = keywords("name: x\nenv: {A: b}\n");
    for hostile in [
        "name: x\nenv: {A: 'b \\\\'}\n",
        "name: x\nenv: {A: '$(touch /pwned)'}\n",
        "name: x\nenv: {A: \"b\\\"\\nRUN evil\"}\n",
    ] {
        let got = std::panic::catch_unwind(|| keywords(hostile));
        match got {
            Ok(k) => assert_eq!(k, clean, "{hostile}"),
            Err(_) => refused(hostile, "env.A"),
        }
    }
    // A file with spaces is copied by its name, in COPY's JSON form.
    let k = keywords("name: x\ncopy: ['a b.txt']\n");
    assert_eq!(k.iter().filter(|k| *k == "COPY").count(), 1);
}

#[test]
fn swallowing_values_are_refused_naming_the_field() {
    for (yaml, field) in [
        ("name: x\ncommands: ['']\n", "commands[0]"),
        // A comment would comment out the commands joined after it.
        (
            "name: x\ncommands: ['# install extras', 'echo hi']\n",
            "commands[0]",
        ),
        // An option of RUN, not a command.
        (
            "name: x\ncommands: ['--network=host curl x']\n",
            "commands[0]",
        ),
        ("name: x\ncopy: ['<<EOF']\n", "copy[0]"),
        ("name: x\ncommands: ['echo hi \\\\']\n", "commands[0]"),
        ("name: x\ncommands: [ok, 'cat <<EOF']\n", "commands[1]"),
        ("name: x\npip_extra_args: '--pre <<EOF'\n", "pip_extra_args"),
        ("name: x\nenv: {'#key': v}\n", "env.#key"),
        ("name: x\nbase_image: 'debian\\\\'\n", "base_image"),
        ("name: x\nbase_image: 'debian slim'\n", "base_image"),
        ("name: x\ncopy: ['a$b']\n", "copy[0]"),
        ("name: x\ncopy: ['*']\n", "copy[0]"),
        ("name: x\ncopy: ['--chmod=777']\n", "copy[0]"),
        ("name: x\ncopy: ['']\n", "copy[0]"),
        ("name: x\npackages: [\"six\\nRUN evil\"]\n", "packages[0]"),
        ("name: x\npackages: [\"six\\u2028evil\"]\n", "packages[0]"),
        ("name: x\napt_packages: [\"a\\rb\"]\n", "apt_packages[0]"),
        ("name: x\npip_index: \"https://x\\u0000y\"\n", "pip_index"),
        ("name: x\nenv: {'A B': v}\n", "env.A B"),
        (
            "name: x\npip_secret_mounts: [[a, '/x,y']]\n",
            "pip_secret_mounts[0]",
        ),
        (
            "name: x\npip_secret_mounts: [['a,b', /x]]\n",
            "pip_secret_mounts[0]",
        ),
        ("name: x\nplatform: linux\n", "platform"),
        ("name: x\nplatform: 'linux/amd64,windows'\n", "platform"),
        (
            "name: x\ntag_format: '{spec_hash:>99999999999}'\n",
            "tag_format",
        ),
    ] {
        refused(yaml, field);
    }
    let long = format!("name: {}\n", "a".repeat(300));
    refused(&long, "name");
    let wide = format!("name: x\ncommands: ['echo {}']\n", "a".repeat(70_000));
    refused(&wide, "commands");
}

#[test]
fn files_that_are_no_spec_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("utf16.yaml", vec![0xff, 0xfe, b'n', 0, b':', 0]),
        ("latin1.yaml", b"name: caf\xe9\n".to_vec()),
        (
            "big.yaml",
            format!("name: x\n# {}\n", "x".repeat(2 << 20)).into_bytes(),
        ),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = imagespec().arg("tag").arg(&p).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
    let out = imagespec().args(["tag", "/dev/zero"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fifo = dir.path().join("fifo.yaml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let out = imagespec().arg("tag").arg(&fifo).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The position of the first byte that is not UTF-8.
    let out = imagespec()
        .arg("tag")
        .arg(dir.path().join("latin1.yaml"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1, column 10"));
}

#[test]
fn messages_echo_no_escape_sequence_and_no_foreign_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "spec.yaml", "name: \"x\\e[31mred\"\n");
    let out = imagespec()
        .arg("tag")
        .arg(dir.path().join("spec.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !out.stderr.contains(&0x1b),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A file that is not a spec (say, a link to a secret) is not echoed.
    write(
        dir.path(),
        "secret.yaml",
        "root:$6$SECRETHASH:19000:0:99999:7:::\n",
    );
    let out = imagespec()
        .arg("tag")
        .arg(dir.path().join("secret.yaml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("SECRETHASH"), "{stderr}");
    // Nor are the keys of one that fails to parse.
    write(dir.path(), "config.yaml", "user: x\nSECRETKEY: [a\n");
    let out = imagespec()
        .arg("tag")
        .arg(dir.path().join("config.yaml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        !stderr.contains("SECRETKEY") && stderr.contains("line 2"),
        "{stderr}"
    );
    // A syntax error names the field it is in and where the collection opened.
    write(
        dir.path(),
        "open.yaml",
        "name: x\nenv: {A: 1,\n  B: [2, 3}\n",
    );
    let out = imagespec()
        .arg("tag")
        .arg(dir.path().join("open.yaml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`env.B`") && stderr.contains("starts at line 3"),
        "{stderr}"
    );
}

#[test]
fn links_out_of_the_tree_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "shadow", "root:secret");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("etclink")).unwrap();
    write(dir.path(), "src/app.py", "x");
    std::os::unix::fs::symlink(outside.path().join("shadow"), dir.path().join("src/leak")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("src/app.py"), dir.path().join("src/inside"))
        .unwrap();
    for (yaml, field) in [
        ("name: x\ncopy: [etclink]\n", "copy[0]"),
        (
            "name: x\nsource_root: src\nsource_copy_mode: all\n",
            "source_root",
        ),
    ] {
        std::fs::write(dir.path().join("spec.yaml"), yaml).unwrap();
        for (code, stderr) in both(dir.path()) {
            assert_eq!(code, Some(2), "{yaml}: {stderr}");
            assert!(
                stderr.contains(field) && stderr.contains("--allow-outside-links"),
                "{stderr}"
            );
        }
        let out = imagespec()
            .args(["tag", "--allow-outside-links"])
            .arg(dir.path().join("spec.yaml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "allowed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A link that stays in the tree is fine.
    std::fs::remove_file(dir.path().join("src/leak")).unwrap();
    let [(code, stderr), _] = both(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_mapping_of_forty_thousand_keys_loads() {
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("name: x\nenv:\n");
    for i in 0..40_000 {
        yaml.push_str(&format!("  K{i}: v{i}\n"));
    }
    write(dir.path(), "spec.yaml", &yaml);
    let out = imagespec()
        .arg("tag")
        .arg(dir.path().join("spec.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_interrupted_context_leaves_no_folder_behind() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "spec.yaml",
        "name: x\nsource_root: src\nsource_copy_mode: all\n",
    );
    for i in 0..20_000 {
        write(dir.path(), &format!("src/d{}/f{i}.txt", i % 100), "content");
    }
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let mut child = imagespec()
        .args(["context", "-o"])
        .arg(out_dir.join("ctx"))
        .arg(dir.path().join("spec.yaml"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the half-written folder exists, then interrupt.
    let started = loop {
        let busy = std::fs::read_dir(&out_dir).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".imagespec-context-")
        });
        if busy {
            break true;
        }
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    assert!(
        started,
        "the context was written before it could be interrupted; make the tree bigger"
    );
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(!status.success());
    let left: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn credentials_and_secret_files_appear_in_no_output_at_any_verbosity() {
    let dir = tempfile::tempdir().unwrap();
    let token = "cli-T0KEN-masked";
    write(
        dir.path(),
        "netrc",
        "machine h login u password netrc-pass-4242\n",
    );
    write(
        dir.path(),
        "spec.yaml",
        &format!(
            "name: x\npip_index: https://u:{token}@pypi.internal/simple\n\
             pip_secret_mounts: [[netrc, /root/.netrc]]\n\
             pip_extra_args: --trusted-host https://u:{token}@pypi.internal\n"
        ),
    );
    let spec = dir.path().join("spec.yaml");
    for args in [
        vec!["tag", "-vvv", "--json"],
        vec!["context", "-vvv", "-o", "ctx"],
        vec!["build", "--dry-run", "-vvv", "--json"],
    ] {
        let out = imagespec()
            .current_dir(dir.path())
            .args(&args)
            .arg(&spec)
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: {all}");
        assert!(
            !all.contains(token) && !all.contains("netrc-pass-4242"),
            "{args:?}: {all}"
        );
        // Said by the lint (tag, context and build lint what they read),
        // and not once more as a log warning.
        assert!(all.contains("[credentials-in-url]"), "{args:?}: {all}");
        assert!(
            !all.lines()
                .any(|l| l.contains("WARN") && l.contains("holds a URL with credentials")),
            "{args:?}: {all}"
        );
    }
    let ctx = std::fs::read_to_string(dir.path().join("ctx/Dockerfile")).unwrap();
    assert!(
        ctx.contains("\"$(cat /run/secrets/imagespec_index_0)\""),
        "{ctx}"
    );
}
