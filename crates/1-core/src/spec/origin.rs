//! Beside a spec: where it came from ([`Origin`]), how its files are read
//! ([`ReadOptions`]), the two held together with it ([`Loaded`]), and the
//! view the pipeline's stages take ([`SpecRef`]).

use std::collections::BTreeMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use imagespec_pycompat::PyValue;

use super::fields::{BaseImage, ImageSpec};

/// A plain YAML scalar that YAML 1.1 (PyYAML's `safe_load`, as pyflyte reads
/// a spec) typed as something other than a string, where what flytekit
/// writes (`str()` of the value) is not the text written: `yes` is `True`,
/// `0755` is 493, `3.10` is 3.1, `~` is `None`. The loader records them (in
/// `env` names and values, and `python_version`); the lints report them.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedScalar {
    /// The field: `python_version`, `env.FLAG` (the name as Python's `str()` writes it).
    pub field: String,
    /// Its line in the spec file, when known.
    pub line: Option<usize>,
    /// A mapping key (an env name) rather than a value.
    pub is_key: bool,
    /// The text as written, when the loader could tell (not for JSON).
    pub written: Option<String>,
    /// What YAML made of it.
    pub value: PyValue,
}

/// Where one spec (one nesting level) was written: its file, the line of
/// each field and item, the plain scalars YAML typed into something else
/// than was written, and what a typed dump (`yaml.dump(image_spec)`) carried
/// beside the fields. Not part of the spec: two specs that differ only here
/// are the same spec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    /// The spec file, when there is one.
    pub file: Option<PathBuf>,
    /// Read from a typed dump: restored without `__post_init__`, so nothing
    /// was normalised.
    pub typed: bool,
    /// The `tag` a typed dump carried (flytekit's cached property): checked
    /// against what imagespec computes.
    pub recorded_tag: Option<String>,
    /// flytekit's `_is_force_push`, as a typed dump carries it.
    pub force_push: bool,
    /// flytekit's `_fast_fail`, as a typed dump carries it.
    pub fast_fail: bool,
    /// The line each top-level field was written on.
    pub(crate) field_lines: BTreeMap<String, usize>,
    /// The line of each list item (`packages[2]`) and mapping key (`env.FLAG`).
    pub(crate) item_lines: BTreeMap<String, usize>,
    /// The plain scalars YAML typed into something else than was written.
    pub(crate) typed_scalars: Vec<TypedScalar>,
    /// The nested base's, when `base_image` is a spec.
    pub base: Option<Box<Origin>>,
}

impl Origin {
    /// The line a field was written on. Takes a field path such as
    /// `copy[2]` or `base_image.packages`; a path into a nested base
    /// (`base_image.base_image.copy[0]`) is the line in that base.
    pub fn line_of(&self, field_path: &str) -> Option<usize> {
        if let Some((nested, rest)) = self.nested(field_path) {
            return nested.line_of(rest).or_else(|| self.line_of("base_image"));
        }
        let top = field_path.split(['.', '[']).next().unwrap_or(field_path);
        self.field_lines.get(top).copied()
    }

    /// The line of a list item (`packages[2]`) or mapping key (`env.FLAG`,
    /// named as `str()` writes it), else of its field.
    pub fn item_line(&self, path: &str) -> Option<usize> {
        if let Some((nested, rest)) = self.nested(path) {
            return nested
                .item_line(rest)
                .or_else(|| self.line_of("base_image"));
        }
        self.item_lines
            .get(path)
            .copied()
            .or_else(|| self.line_of(path))
    }

    fn nested<'p>(&self, path: &'p str) -> Option<(&Origin, &'p str)> {
        let rest = path.strip_prefix("base_image.")?;
        Some((self.base.as_deref()?, rest))
    }

    /// The plain scalars YAML 1.1 typed into a value whose `str()` is not
    /// what was written, in the file's order.
    pub fn typed_scalars(&self) -> &[TypedScalar] {
        &self.typed_scalars
    }

    /// Drops the line tables (of this level and the nested ones): for a spec
    /// whose file the user never saw, no line is shown.
    pub(crate) fn forget_lines(&mut self) {
        self.field_lines.clear();
        self.item_lines.clear();
        for t in &mut self.typed_scalars {
            t.line = None;
        }
        if let Some(base) = &mut self.base {
            base.forget_lines();
        }
    }
}

/// How a spec's files are read: the caller's choices and facts, read once at
/// the edge (the command line, the flytekit plugin) and passed in. Not part
/// of the spec, nor of its hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// `--fix-flytekit-quirks`: read a `source_copy_mode` string as the enum
    /// member it names, apply ignore files relative to a relative
    /// source_root, match loaded modules against the resolved source_root,
    /// and walk copied folders in sorted order. Tags then differ from
    /// flytekit's.
    pub fix_flytekit_quirks: bool,
    /// The module files (`module.__file__`) the calling Python process has
    /// loaded, for `loaded_modules`. `None`: pyflyte's case, nothing loaded
    /// from under source_root.
    pub loaded_modules: Option<Vec<String>>,
    /// `--allow-outside-links`: follow links in `copy` entries and under
    /// source_root wherever they lead, as flytekit does. Off: a link that
    /// resolves outside the spec's folder (for `copy`) or source_root is
    /// refused, so a spec cannot pull in `/etc` through a link.
    pub allow_outside_links: bool,
    /// `--allow-outside-paths`: read files the spec names outside its
    /// project, as flytekit does. Off: such a path is refused, naming the
    /// field, so that a spec from elsewhere cannot put `~/.ssh` or
    /// `/etc/passwd` into an image.
    pub allow_outside_paths: bool,
    /// Where digests of unchanged trees are remembered (a stat cache);
    /// `None`: every tree is hashed (`--no-cache`).
    pub digest_cache: Option<PathBuf>,
    /// `--base-dir`: the folder relative paths in a spec file are taken
    /// from, instead of the file's own folder. flytekit takes them from the
    /// current folder of the Python process; a program that hands a spec
    /// over in a temporary file (the flytekit plugin) passes that folder.
    pub base_dir: Option<PathBuf>,
    /// `--display-name`: how messages name a spec read from a file, instead
    /// of the file (a temporary file another program wrote is no use to the
    /// user). Its lines are not shown either.
    pub display_name: Option<String>,
    /// Reads of absolute paths under the first folder go to the same place
    /// under the second: `explain --against git:REV` reads a revision's
    /// files from the tree it wrote out, while the spec keeps the paths it
    /// holds (and is hashed with them).
    pub read_root: Option<(PathBuf, PathBuf)>,
    /// The project's folder, when the caller knows it better than the
    /// default (`explain` reading a revision's tree).
    pub project_root: Option<PathBuf>,
}

/// A spec as read: the spec, where it came from, the folder its relative
/// paths are taken from, and how its files are read.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The spec.
    pub spec: ImageSpec,
    /// Where it (and each nested base) was written.
    pub origin: Origin,
    /// Where its relative paths are taken from: the spec file's folder, or
    /// [`ReadOptions::base_dir`].
    pub base_dir: PathBuf,
    /// How its files are read.
    pub options: Arc<ReadOptions>,
}

impl Deref for Loaded {
    type Target = ImageSpec;
    fn deref(&self) -> &ImageSpec {
        &self.spec
    }
}

impl Loaded {
    /// A spec made in code: no file, paths relative to `base_dir`.
    pub fn new(spec: ImageSpec, base_dir: impl Into<PathBuf>, options: ReadOptions) -> Loaded {
        Loaded {
            spec,
            origin: Origin::default(),
            base_dir: base_dir.into(),
            options: Arc::new(options),
        }
    }

    /// `e` placed in the spec's file, at the line of its field (a spec error;
    /// others are returned as they are). `--display-name` names the file
    /// when given.
    pub fn locate(&self, e: crate::error::Error) -> crate::error::Error {
        match e {
            crate::error::Error::Spec(se) => {
                let line = self.origin.line_of(&se.location.field);
                let file = match &self.options.display_name {
                    Some(name) => Some(PathBuf::from(name)),
                    None => self.origin.file.clone(),
                };
                let se = match file {
                    Some(f) => se.in_file(&f),
                    None => se,
                };
                crate::error::Error::Spec(se.at_line(line))
            }
            other => other,
        }
    }

    /// Resolves a path the spec holds (see [`SpecRef::resolve`]).
    pub fn resolve(&self, path: &str) -> PathBuf {
        self.view().resolve(path)
    }

    /// The view the stages take.
    pub fn view(&self) -> SpecRef<'_> {
        SpecRef {
            spec: &self.spec,
            origin: Some(&self.origin),
            base_dir: &self.base_dir,
            options: &self.options,
        }
    }
}

/// One level of a spec with what is beside it: what the pipeline's stages
/// take. It dereferences to the [`ImageSpec`], so `spec.packages()` reads
/// as before.
#[derive(Debug, Clone, Copy)]
pub struct SpecRef<'a> {
    /// The spec.
    pub spec: &'a ImageSpec,
    /// Where it was written, when known.
    pub origin: Option<&'a Origin>,
    /// Where its relative paths are taken from.
    pub base_dir: &'a Path,
    /// How its files are read.
    pub options: &'a ReadOptions,
}

impl Deref for SpecRef<'_> {
    type Target = ImageSpec;
    fn deref(&self) -> &ImageSpec {
        self.spec
    }
}

impl<'a> SpecRef<'a> {
    /// The nested base, when `base_image` is a spec.
    pub fn base(&self) -> Option<SpecRef<'a>> {
        match self.spec.base_image() {
            Some(BaseImage::Spec(nested)) => Some(SpecRef {
                spec: nested,
                origin: self.origin.and_then(|o| o.base.as_deref()),
                base_dir: self.base_dir,
                options: self.options,
            }),
            _ => None,
        }
    }

    /// How its files are read.
    pub fn load_options(&self) -> &'a ReadOptions {
        self.options
    }

    /// The folder relative paths are taken from.
    pub fn base_dir(&self) -> &'a Path {
        self.base_dir
    }

    /// Resolves a path from the spec against the spec's folder (and, for an
    /// absolute path, through [`ReadOptions::read_root`]).
    pub fn resolve(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        if !p.is_absolute() {
            return self.base_dir.join(p);
        }
        match &self.options.read_root {
            Some((from, to)) => match p.strip_prefix(from) {
                Ok(rest) => to.join(rest),
                Err(_) => p.to_path_buf(),
            },
            None => p.to_path_buf(),
        }
    }

    /// The spec file, if any.
    pub fn file(&self) -> Option<&'a Path> {
        self.origin.and_then(|o| o.file.as_deref())
    }

    /// The line a field was written on (see [`Origin::line_of`]).
    pub fn line_of(&self, field_path: &str) -> Option<usize> {
        self.origin.and_then(|o| o.line_of(field_path))
    }

    /// The line of a list item or mapping key (see [`Origin::item_line`]).
    pub fn item_line(&self, path: &str) -> Option<usize> {
        self.origin.and_then(|o| o.item_line(path))
    }

    /// The plain scalars YAML typed into something else than was written.
    pub fn typed_scalars(&self) -> &'a [TypedScalar] {
        self.origin.map_or(&[], |o| o.typed_scalars())
    }

    /// The `tag` a typed dump recorded, if any.
    pub fn recorded_tag(&self) -> Option<&'a str> {
        self.origin.and_then(|o| o.recorded_tag.as_deref())
    }

    /// Whether it came from a typed dump.
    pub fn is_typed(&self) -> bool {
        self.origin.is_some_and(|o| o.typed)
    }

    /// flytekit's `_is_force_push` of a typed dump.
    pub fn is_force_push(&self) -> bool {
        self.origin.is_some_and(|o| o.force_push)
    }

    /// flytekit's `_fast_fail` of a typed dump.
    pub fn is_fast_fail(&self) -> bool {
        self.origin.is_some_and(|o| o.fast_fail)
    }

    /// This level and every nested base, outermost first.
    pub fn chain(&self) -> impl Iterator<Item = SpecRef<'a>> {
        std::iter::successors(Some(*self), |s| s.base())
    }

    /// An owned copy of this level (its nested bases included).
    pub fn to_loaded(&self) -> Loaded {
        Loaded {
            spec: self.spec.clone(),
            origin: self.origin.cloned().unwrap_or_default(),
            base_dir: self.base_dir.to_path_buf(),
            options: Arc::new(self.options.clone()),
        }
    }
}
