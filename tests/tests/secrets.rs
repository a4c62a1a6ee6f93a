//! Credentials in index URLs stay out of the Dockerfile and the context, and
//! are handed to the build as secrets; `pip_secret_mounts` reach every step
//! that may need them; and every secret is masked in what imagespec prints.

use imagespec_core::spec::{load_str, SpecFormat};
use imagespec_plan::{Mount, SecretSource, Step};
use imagespec_tests::{link_plugins, oracle_defaults, SpecExt};

const TOKEN: &str = "s3cr3t-T0KEN-imagespec";

fn spec_text() -> String {
    format!(
        "name: private\npython_version: '3.12'\npackages: [internal-lib]\n\
         pip_index: https://deploy:{TOKEN}@pypi.internal/simple\n\
         pip_extra_index_url: [https://extra.internal/simple, 'https://{TOKEN}x@more.internal/simple']\n\
         apt_packages: [git]\ncommands: [echo hi]\n\
         pip_secret_mounts: [[netrc, /root/.netrc]]\n"
    )
}

#[test]
fn index_credentials_become_build_secrets_and_leave_no_trace_in_the_context() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("netrc"),
        "machine h login u password filepass-123\n",
    )
    .unwrap();
    let spec = load_str(&spec_text(), SpecFormat::Yaml, None, dir.path()).unwrap();
    let job = spec.job().unwrap();
    let plan = imagespec_plan::plan(
        &job,
        &imagespec_tests::plugins().installers,
        &oracle_defaults(),
    )
    .unwrap();
    let dockerfile = imagespec_plan::render::render(&plan).unwrap();
    assert!(!dockerfile.contains(TOKEN), "{dockerfile}");
    assert!(!dockerfile.contains("deploy"), "{dockerfile}");
    // The URL without credentials is written as is.
    assert!(dockerfile.contains("--extra-index-url https://extra.internal/simple"));
    assert!(dockerfile.contains("--index-url \"$(cat /run/secrets/imagespec_index_0)\""));
    assert!(dockerfile.contains("--extra-index-url \"$(cat /run/secrets/imagespec_index_1)\""));

    // The secrets: the spec's file, then each URL with credentials, exactly.
    let secrets: Vec<(&str, String)> = plan
        .secrets
        .iter()
        .map(|s| {
            let v = match &s.source {
                SecretSource::File(p) => p.display().to_string(),
                SecretSource::Text(t) => t.expose().to_string(),
            };
            (s.id.as_str(), v)
        })
        .collect();
    assert_eq!(
        secrets,
        [
            ("secret_0", dir.path().join("netrc").display().to_string()),
            (
                "imagespec_index_0",
                format!("https://deploy:{TOKEN}@pypi.internal/simple")
            ),
            (
                "imagespec_index_1",
                format!("https://{TOKEN}x@more.internal/simple")
            ),
        ]
    );
    // A plan printed or serialized (dry runs, --json) shows no secret.
    let json = serde_json::to_string(&plan).unwrap();
    assert!(!json.contains(TOKEN) && !format!("{plan:?}").contains(TOKEN));

    // Every RUN that may need one carries the spec's secret; the package
    // step also the index secrets, and no other step has those.
    let steps = &plan.stages.last().unwrap().steps;
    let runs: Vec<(&Vec<Mount>, String)> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Run { mounts, script } => Some((mounts, format!("{script:?}"))),
            _ => None,
        })
        .collect();
    let has = |mounts: &Vec<Mount>, id: &str| {
        mounts
            .iter()
            .any(|m| matches!(m, Mount::Secret { id: i, .. } if i == id))
    };
    for needle in ["apt-get update", "micromamba", "uv pip install", "echo hi"] {
        let (mounts, _) = runs
            .iter()
            .find(|(_, s)| s.contains(needle))
            .unwrap_or_else(|| panic!("no RUN with {needle}"));
        assert!(has(mounts, "secret_0"), "{needle}: {mounts:?}");
        let index = has(mounts, "imagespec_index_0") && has(mounts, "imagespec_index_1");
        assert_eq!(index, needle == "uv pip install", "{needle}: {mounts:?}");
    }

    // The context's other files hold no credentials either.
    let out = dir.path().join("ctx");
    imagespec_context::write_plan(&job, &plan, &out).unwrap();
    for entry in std::fs::read_dir(&out).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&bytes).contains(TOKEN));
    }
}

#[test]
fn the_name_is_flytekits_whatever_the_credentials_become() {
    // flytekit hashes the spec as written, credentials included: the name
    // depends on them, exactly as flytekit's does.
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("netrc"), "x").unwrap();
    let name = |text: &str| {
        load_str(text, SpecFormat::Yaml, None, dir.path())
            .unwrap()
            .job()
            .unwrap()
            .identity
            .tag
    };
    let with = name(&spec_text());
    let other = name(&spec_text().replace(TOKEN, "another-token"));
    assert_ne!(with, other);
}

#[test]
fn secrets_are_masked_in_everything_printed() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("netrc"),
        "machine h login u password filepass-123\n",
    )
    .unwrap();
    let spec = load_str(&spec_text(), SpecFormat::Yaml, None, dir.path()).unwrap();
    let job = spec.job().unwrap();
    let line = format!(
        "error: GET https://deploy:{TOKEN}@pypi.internal/simple/x/ failed; password filepass-123; {TOKEN}"
    );
    let masked = job.secrets().mask(&line).into_owned();
    assert!(
        !masked.contains(TOKEN) && !masked.contains("filepass-123"),
        "{masked}"
    );
    assert!(masked.contains("pypi.internal/simple/x/"), "{masked}");
}

#[test]
fn credentials_in_shell_text_get_a_warning() {
    link_plugins();
    let dir = tempfile::tempdir().unwrap();
    let spec = load_str(
        "name: x\npip_extra_args: --extra-index-url https://u:tok-en-9@h/simple\n",
        SpecFormat::Yaml,
        None,
        dir.path(),
    )
    .unwrap();
    let plan = imagespec_plan::plan(
        &spec.job().unwrap(),
        &imagespec_tests::plugins().installers,
        &oracle_defaults(),
    )
    .unwrap();
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.starts_with("pip_extra_args holds a URL with credentials")),
        "{:?}",
        plan.warnings
    );
    assert!(!plan.warnings.iter().any(|w| w.contains("tok-en-9")));
}
