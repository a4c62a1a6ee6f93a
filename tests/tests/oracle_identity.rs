//! For every flytekit oracle case: imagespec's id, tag and image name are
//! byte-identical to flytekit 1.16.31's, and every case flytekit rejects is rejected.

use imagespec_core::spec::load_file;
use imagespec_tests::{all_cases, link_plugins};

#[test]
fn identity_matches_flytekit_for_every_case() {
    link_plugins();
    let mut failures = Vec::new();
    for case in all_cases() {
        let spec = match load_file(&case.spec()) {
            Ok(spec) => spec,
            Err(e) => {
                if case.error().is_none() {
                    failures.push(format!("{}: failed to load: {e}", case.name));
                }
                // A load error is fine for an error case without a recorded id (flytekit
                // rejected it in the constructor).
                if case.field("id").is_some() {
                    failures.push(format!(
                        "{}: flytekit computed an id, imagespec failed to load: {e}",
                        case.name
                    ));
                }
                continue;
            }
        };
        if case.field("id").is_none() {
            failures.push(format!(
                "{}: flytekit rejected the spec at construction, imagespec loaded it",
                case.name
            ));
            continue;
        }
        match spec.id() {
            Ok(id) if id != case.field("id").unwrap() => failures.push(format!(
                "{}: id is `{id}`, flytekit's is `{}`",
                case.name,
                case.field("id").unwrap()
            )),
            Ok(_) => {}
            Err(e) => failures.push(format!("{}: id failed: {e}", case.name)),
        }
        match (spec.identity(), case.field("tag")) {
            (Ok(identity), Some(_)) => {
                for (key, got) in [
                    ("id", &identity.id),
                    ("tag", &identity.tag),
                    ("image_name", &identity.image_name),
                ] {
                    let want = case.field(key).unwrap();
                    if got != want {
                        failures.push(format!(
                            "{}: {key} is `{got}`, flytekit's is `{want}`\n    hashed: {}",
                            case.name,
                            if key == "id" {
                                &identity.inputs.id_text
                            } else {
                                &identity.inputs.tag_text
                            }
                        ));
                    }
                }
            }
            (Err(e), Some(_)) => failures.push(format!("{}: identity failed: {e}", case.name)),
            // flytekit computed the id but its tag raised: so must ours.
            (Ok(identity), None) => failures.push(format!(
                "{}: flytekit's tag raised, imagespec's is `{}`",
                case.name, identity.tag
            )),
            (Err(_), None) => {}
        }
        let checked = spec.check();
        match (case.error(), checked) {
            (Some(_), Ok(())) => failures.push(format!(
                "{}: flytekit fails, imagespec's check passes",
                case.name
            )),
            (None, Err(e)) => failures.push(format!("{}: imagespec's check fails: {e}", case.name)),
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn error_messages_carry_flytekits_words() {
    link_plugins();
    for case in all_cases() {
        let Some(want) = case.error() else { continue };
        let got = match load_file(&case.spec()) {
            Err(e) => e.to_string(),
            Ok(spec) => spec.check().expect_err(&case.name).to_string(),
        };
        // flytekit's message, without its exception type and its own line layout.
        let core = want.split_once(": ").map_or(want, |(_, m)| m);
        let first_sentence = core
            .split(['\n', '.'])
            .next()
            .unwrap()
            .trim()
            .to_lowercase();
        assert!(
            got.to_lowercase().contains(&first_sentence),
            "{}: `{got}` does not say `{first_sentence}`",
            case.name
        );
    }
}
