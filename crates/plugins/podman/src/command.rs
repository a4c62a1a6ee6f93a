//! The podman commands of a build, made from plain values (no I/O).

use std::path::Path;

use imagespec_core::builder::{BuildContext, BuildRequest, BuildSecret};

/// One build.
#[derive(Debug)]
pub struct BuildCommand<'a> {
    pub image_name: &'a str,
    /// The one platform (preflight refuses several).
    pub platform: Option<&'a str>,
    /// `--label` key and value of each label (imagespec's inputs label).
    pub labels: &'a [(String, String)],
    /// The build's secrets: each id and the file holding it.
    pub secrets: &'a [BuildSecret],
    /// `--network`, when not the default.
    pub network: Option<&'a str>,
    pub context_dir: &'a Path,
}

impl<'a> BuildCommand<'a> {
    /// The command that builds `request` from `context`.
    pub fn of(
        request: &'a BuildRequest<'_>,
        context: &'a BuildContext,
        settings: &'a crate::settings::PodmanSettings,
    ) -> BuildCommand<'a> {
        BuildCommand {
            network: settings.network.as_deref(),
            image_name: request.target.image_name,
            platform: request.target.platforms.first().map(String::as_str),
            labels: &context.labels,
            secrets: &context.secrets,
            context_dir: &context.dir,
        }
    }

    /// The arguments after the podman binary.
    ///
    /// `--format docker`: the Docker image format (and media types) the
    /// Docker builder's images have, so an image is the same whichever
    /// builder made it, and flytekit's default builder sees no difference.
    /// `--identity-label=false`: no `io.buildah.version` label, which only
    /// podman's images would carry.
    pub fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = [
            "build",
            "--format",
            "docker",
            "--identity-label=false",
            "--layers",
            "--tag",
        ]
        .map(String::from)
        .into();
        args.push(self.image_name.to_string());
        if let Some(p) = self.platform {
            args.extend(["--platform".to_string(), p.to_string()]);
        }
        args.extend(imagespec_builder_run::shared_build_flags(
            self.labels,
            self.network,
            self.secrets,
        ));
        args.push("--file".to_string());
        args.push(self.context_dir.join("Dockerfile").display().to_string());
        args.push(self.context_dir.display().to_string());
        args
    }
}

/// `podman push` of `image`, writing its manifest digest to `digest_file`.
pub fn push_args(image: &str, digest_file: &Path) -> Vec<String> {
    vec![
        "push".to_string(),
        "--digestfile".to_string(),
        digest_file.display().to_string(),
        image.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn builds_in_dockers_format_with_labels_secrets_and_the_platform() {
        let labels = vec![("org.imagespec.inputs".to_string(), "{\"a\": 1}".to_string())];
        let secrets = vec![BuildSecret {
            id: "secret_0".into(),
            path: PathBuf::from("/proc/self/fd/7"),
        }];
        let c = BuildCommand {
            image_name: "localhost:5000/x:t",
            platform: Some("linux/amd64"),
            labels: &labels,
            secrets: &secrets,
            network: Some("host"),
            context_dir: Path::new("/ctx"),
        };
        assert_eq!(
            c.args(),
            [
                "build",
                "--format",
                "docker",
                "--identity-label=false",
                "--layers",
                "--tag",
                "localhost:5000/x:t",
                "--platform",
                "linux/amd64",
                "--label",
                "org.imagespec.inputs={\"a\": 1}",
                "--network",
                "host",
                "--secret",
                "id=secret_0,src=/proc/self/fd/7",
                "--file",
                "/ctx/Dockerfile",
                "/ctx"
            ]
        );
        assert_eq!(
            push_args("r/x:t", Path::new("/d/digest")),
            ["push", "--digestfile", "/d/digest", "r/x:t"]
        );
    }
}
