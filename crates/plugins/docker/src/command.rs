//! The docker commands of a build, made from plain values (no I/O).

use std::path::Path;

use imagespec_core::builder::BuildSecret;

/// How BuildKit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildMode {
    /// `docker buildx build` (pushes with `--push`).
    Buildx,
    /// `DOCKER_BUILDKIT=1 docker build`, then `docker push`.
    Builtin,
}

/// One build.
#[derive(Debug)]
pub struct BuildCommand<'a> {
    pub mode: BuildMode,
    pub image_name: &'a str,
    /// The platforms, trimmed (`--platform` joins them with commas).
    pub platforms: &'a [String],
    /// `--label` key and value of each label (imagespec's inputs label).
    pub labels: &'a [(String, String)],
    /// The build's secrets: each id and the file holding it.
    pub secrets: &'a [BuildSecret],
    pub push: bool,
    pub builder: Option<&'a str>,
    /// `--network`, when not the default.
    pub network: Option<&'a str>,
    pub context_dir: &'a Path,
    pub metadata_file: &'a Path,
    /// The build cache shared through the registry, when asked for.
    pub cache: Option<SharedCache>,
}

/// How the build cache rides through the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheForm {
    /// BuildKit's inline cache: cache metadata in the image's config, the
    /// image pushed under the cache tag too (any BuildKit, min mode: the
    /// steps of the final stage).
    Inline,
    /// A `type=registry` cache manifest of every step (`mode=max`): buildx
    /// with a builder whose driver can export one (not the `docker` driver).
    Registry,
}

/// The build cache shared through the registry, for one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedCache {
    /// Where it is pushed: `REPO:imagespec-buildcache`.
    pub reference: String,
    pub form: CacheForm,
    /// Where it is read from, when there is one to read: for the inline
    /// form, the cache tag's manifest by digest (`REPO@sha256:...`), since
    /// an engine takes a local image of the tag's name over the registry's
    /// (a stale one, left by an earlier build, would hide the new cache);
    /// for the registry form, the tag.
    pub import: Option<String>,
    /// Whether this build exports it (it pushes).
    pub export: bool,
}

/// The shared build cache's reference for an image: its repository, tag
/// [`crate::vars::CACHE_TAG`].
pub fn cache_ref(image_name: &str) -> String {
    format!(
        "{}:{}",
        imagespec_core::store::repository(image_name),
        crate::vars::CACHE_TAG
    )
}

impl<'a> BuildCommand<'a> {
    /// The command that builds `request` from `context` with `mode`.
    pub fn of(
        mode: BuildMode,
        settings: &'a crate::settings::DockerSettings,
        request: &'a imagespec_core::builder::BuildRequest<'_>,
        context: &'a imagespec_core::builder::BuildContext,
        metadata_file: &'a Path,
        cache: Option<SharedCache>,
    ) -> BuildCommand<'a> {
        BuildCommand {
            mode,
            image_name: request.target.image_name,
            platforms: &request.target.platforms,
            labels: &context.labels,
            secrets: &context.secrets,
            push: request.target.push,
            builder: settings.buildx_builder.as_deref(),
            network: settings.network.as_deref(),
            context_dir: &context.dir,
            metadata_file,
            cache,
        }
    }

    /// The arguments after the docker binary, and the environment it needs.
    pub fn args(&self) -> (Vec<String>, Vec<(&'static str, &'static str)>) {
        let mut args = Vec::new();
        let mut env = Vec::new();
        match self.mode {
            BuildMode::Buildx => {
                args.extend(["buildx".to_string(), "build".to_string()]);
                if let Some(b) = self.builder {
                    args.extend(["--builder".to_string(), b.to_string()]);
                }
            }
            BuildMode::Builtin => {
                args.push("build".to_string());
                env.push(("DOCKER_BUILDKIT", "1"));
            }
        }
        args.extend(["--progress".to_string(), "plain".to_string()]);
        args.extend(["--tag".to_string(), self.image_name.to_string()]);
        if let Some(cache) = &self.cache {
            match cache.form {
                CacheForm::Inline => {
                    if cache.export {
                        args.extend([
                            "--tag".to_string(),
                            cache.reference.clone(),
                            "--build-arg".to_string(),
                            "BUILDKIT_INLINE_CACHE=1".to_string(),
                        ]);
                    }
                    if let Some(import) = &cache.import {
                        args.extend(["--cache-from".to_string(), import.clone()]);
                    }
                }
                CacheForm::Registry => {
                    if let Some(import) = &cache.import {
                        args.extend([
                            "--cache-from".to_string(),
                            format!("type=registry,ref={import}"),
                        ]);
                    }
                    if cache.export {
                        args.extend([
                            "--cache-to".to_string(),
                            format!("type=registry,ref={},mode=max", cache.reference),
                        ]);
                    }
                }
            }
        }
        args.extend(["--platform".to_string(), self.platforms.join(",")]);
        args.extend(imagespec_builder_run::shared_build_flags(
            self.labels,
            self.network,
            self.secrets,
        ));
        if self.mode == BuildMode::Buildx {
            if self.push {
                args.push("--push".to_string());
            } else if self.platforms.len() < 2 {
                args.push("--load".to_string());
            }
            args.push("--metadata-file".to_string());
            args.push(self.metadata_file.display().to_string());
        }
        args.push(self.context_dir.display().to_string());
        (args, env)
    }

    /// Applies the arguments and environment to a docker command.
    pub fn apply(&self, cmd: &mut tokio::process::Command) {
        let (args, env) = self.args();
        cmd.args(args).envs(env);
    }
}

/// The digest `docker push` prints: `latest: digest: sha256:... size: 1234`.
pub fn digest_from_push_output(output: &str) -> Option<String> {
    output.lines().rev().find_map(|l| {
        let i = l.find("digest: ")?;
        let rest = &l[i + "digest: ".len()..];
        let d = rest.split_whitespace().next()?;
        d.starts_with("sha256:").then(|| d.to_string())
    })
}

/// The digest buildx writes into its metadata file.
pub fn digest_from_metadata(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("containerimage.digest")?
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_builds_tag_platform_and_secrets() {
        let secret = |id: &str, path: &str| BuildSecret {
            id: id.into(),
            path: path.into(),
        };
        let secrets = [
            secret("secret_0", "/s/netrc"),
            secret("imagespec_index_0", "/t/index"),
        ];
        let c = BuildCommand {
            mode: BuildMode::Builtin,
            image_name: "localhost:5000/x:t",
            platforms: &["linux/amd64".into()],
            labels: &[("dev.imagespec.inputs".to_string(), "v1.abc".to_string())],
            secrets: &secrets,
            push: true,
            builder: None,
            network: Some("host"),
            context_dir: Path::new("/tmp/ctx"),
            metadata_file: Path::new("/tmp/m.json"),
            cache: None,
        };
        let (args, env) = c.args();
        assert_eq!(
            args.join(" "),
            "build --progress plain --tag localhost:5000/x:t --platform linux/amd64 \
             --label dev.imagespec.inputs=v1.abc --network host --secret id=secret_0,src=/s/netrc --secret id=imagespec_index_0,src=/t/index /tmp/ctx"
        );
        assert_eq!(env, [("DOCKER_BUILDKIT", "1")]);
    }

    #[test]
    fn buildx_pushes_in_the_build() {
        let c = BuildCommand {
            mode: BuildMode::Buildx,
            image_name: "r/x:t",
            platforms: &["linux/amd64".into(), "linux/arm64".into()],
            labels: &[],
            secrets: &[],
            push: true,
            builder: Some("multi"),
            network: None,
            context_dir: Path::new("/c"),
            metadata_file: Path::new("/m"),
            cache: None,
        };
        let (args, env) = c.args();
        assert_eq!(
            args.join(" "),
            "buildx build --builder multi --progress plain --tag r/x:t --platform linux/amd64,linux/arm64 --push --metadata-file /m /c"
        );
        assert!(env.is_empty());
    }

    #[test]
    fn the_cache_reference_is_the_repository_with_the_cache_tag() {
        for (image, cache) in [
            (
                "localhost:5000/a/x:t",
                "localhost:5000/a/x:imagespec-buildcache",
            ),
            ("localhost:5000/x", "localhost:5000/x:imagespec-buildcache"),
            ("r.io/x:t@sha256:ab", "r.io/x:imagespec-buildcache"),
            ("r.io/x@sha256:ab", "r.io/x:imagespec-buildcache"),
        ] {
            assert_eq!(cache_ref(image), cache, "{image}");
        }
    }

    #[test]
    fn the_registry_cache_rides_in_the_image_or_goes_to_its_own_manifest() {
        let c = |mode, form, import: Option<&str>, export| BuildCommand {
            mode,
            image_name: "r:5000/x:t",
            platforms: &[],
            labels: &[],
            secrets: &[],
            push: export,
            builder: None,
            network: None,
            context_dir: Path::new("/c"),
            metadata_file: Path::new("/m"),
            cache: Some(SharedCache {
                reference: cache_ref("r:5000/x:t"),
                form,
                import: import.map(str::to_string),
                export,
            }),
        };
        let words = |c: BuildCommand| c.args().0.join(" ");
        let first = words(c(BuildMode::Builtin, CacheForm::Inline, None, true));
        assert!(
            first.contains(
                "--tag r:5000/x:t --tag r:5000/x:imagespec-buildcache --build-arg BUILDKIT_INLINE_CACHE=1 --platform"
            ),
            "{first}"
        );
        let next = words(c(
            BuildMode::Builtin,
            CacheForm::Inline,
            Some("r:5000/x@sha256:0a"),
            true,
        ));
        assert!(
            next.contains("BUILDKIT_INLINE_CACHE=1 --cache-from r:5000/x@sha256:0a --platform"),
            "{next}"
        );
        let read_only = words(c(
            BuildMode::Builtin,
            CacheForm::Inline,
            Some("r:5000/x@sha256:0a"),
            false,
        ));
        assert!(!read_only.contains("imagespec-buildcache"), "{read_only}");
        assert!(!read_only.contains("INLINE"), "{read_only}");
        assert!(read_only.contains("--cache-from r:5000/x@sha256:0a"));
        let reference = "r:5000/x:imagespec-buildcache";
        let buildx = words(c(
            BuildMode::Buildx,
            CacheForm::Registry,
            Some(reference),
            true,
        ));
        assert!(
            buildx.contains(&format!(
                "--cache-from type=registry,ref={reference} --cache-to type=registry,ref={reference},mode=max"
            )),
            "{buildx}"
        );
        let buildx_inline = words(c(BuildMode::Buildx, CacheForm::Inline, None, true));
        assert!(
            buildx_inline.contains(&format!(
                "--tag {reference} --build-arg BUILDKIT_INLINE_CACHE=1"
            )) && buildx_inline.contains("--push"),
            "{buildx_inline}"
        );
    }

    #[test]
    fn digests_are_read_from_push_output() {
        let out = "The push refers to repository [localhost:5765/x]\nabc: Pushed\nt: digest: sha256:0123abcd size: 1570\n";
        assert_eq!(
            digest_from_push_output(out).as_deref(),
            Some("sha256:0123abcd")
        );
        assert_eq!(digest_from_push_output("nothing"), None);
    }
}
