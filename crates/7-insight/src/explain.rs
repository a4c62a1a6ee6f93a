//! "Why did my tag change?": [`explain`] compares two [`TagRecord`]s (see
//! [`imagespec_identity::record`]) and says which inputs differ; [`image_record`] and
//! [`revision_record`] read the record of a pushed image and of the spec
//! at a git revision.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use imagespec_core::error::{Error, Result};
use imagespec_core::existence::Checkers;
use imagespec_core::redact::Masker;
use imagespec_core::spec::ReadOptions;
use imagespec_engine::Engine;
use imagespec_identity::record::*;

/// The record in a pushed image's label, read by the first of `checkers`.
pub async fn image_record(
    checkers: &Checkers<'_>,
    image: &str,
    platform: &str,
) -> Result<TagRecord> {
    let Some(checker) = checkers.first() else {
        return Err(Error::MissingPlugin {
            kind: imagespec_core::PluginKind::Checker,
            needed_for: format!("reading the labels of `{image}`"),
            asked: None,
        });
    };
    let labels = checker.labels(image, platform).await?;
    let Some(label) = labels.get(INPUTS_LABEL) else {
        return Err(Error::Other(format!(
            "`{image}`: this image was not built by imagespec (no {INPUTS_LABEL} label)"
        )));
    };
    TagRecord::from_label(label).map_err(|e| Error::Other(format!("`{image}`: {e}")))
}

/// The record of the spec file `spec` at git revision `rev`: the revision's
/// tree is written from its blobs as stored (no `export-subst`, no
/// `export-ignore`, no filter: see [`imagespec_inputs::git::Git::materialize`]) into a
/// temporary folder, removed after, and the spec read from the same place
/// in it. Its files are read there too, absolute paths into the repository
/// included, while the spec keeps the paths it holds (its hash sees them as
/// written). What the old spec holds that output must not show is added to
/// `masker`.
pub fn revision_record(
    engine: &Engine<'_>,
    spec: &Path,
    rev: &str,
    options: &ReadOptions,
    masker: &Masker,
) -> Result<TagRecord> {
    use imagespec_inputs::git::Git;
    let shown_rev = imagespec_core::text::printable(rev);
    let spec_abs = spec
        .canonicalize()
        .map_err(|e| Error::io("find", spec, e))?;
    let dir = spec_abs.parent().unwrap_or(Path::new("/"));
    let not_in_git = |e: Error| {
        Error::Other(format!(
            "`{}` is not in a git work tree ({e})",
            spec.display()
        ))
    };
    let top = Git::new(dir).toplevel().map_err(not_in_git)?;
    let top = top.canonicalize().map_err(|e| Error::io("find", &top, e))?;
    let rel = spec_abs
        .strip_prefix(&top)
        .map_err(|_| Error::Other("the spec file is not under its git work tree".into()))?
        .to_path_buf();
    let repo = Git::new(&top);
    let commit = repo.commit(rev)?;
    let tmp = tempfile::Builder::new()
        .prefix("imagespec-explain-")
        .tempdir()
        .map_err(|e| Error::io("create a temporary folder in", std::env::temp_dir(), e))?;
    let _in_progress = imagespec_core::cleanup::register(tmp.path());
    let tree = tmp.path().join("tree");
    std::fs::create_dir(&tree).map_err(|e| Error::io("create", &tree, e))?;
    repo.materialize(&commit, &tree)
        .map_err(|e| Error::Other(format!("cannot read the tree of `{shown_rev}`: {e}")))?;
    let old_spec = tree.join(&rel);
    if !old_spec.is_file() {
        return Err(Error::Other(format!(
            "`{}` does not exist at `{shown_rev}`",
            rel.display()
        )));
    }
    // A base dir given for the spec maps into the tree as well.
    let base_dir = options
        .base_dir
        .as_ref()
        .map(|b| match b.strip_prefix(&top) {
            Ok(rest) => tree.join(rest),
            Err(_) => b.clone(),
        });
    let options = ReadOptions {
        // Its files live in a folder that is removed: nothing to remember.
        digest_cache: None,
        base_dir,
        read_root: Some((top.clone(), tree.clone())),
        project_root: Some(tree.clone()),
        ..options.clone()
    };
    let at_rev = |e: Error| match e {
        Error::Spec(se) => Error::Spec(se),
        other => Error::Other(format!("the spec at `{shown_rev}`: {other}")),
    };
    let loaded = imagespec_core::spec::load_file_with(&old_spec, &options).map_err(at_rev)?;
    masker.add(&loaded.secrets());
    let job = engine
        .prepare(loaded.view())
        .map_err(|e| at_rev(loaded.locate(e)))?;
    masker.add(&job.secrets());
    TagRecord::of(&job)
}

/// Which list a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// Under source_root.
    Source,
    /// Named by `copy`.
    Copy,
}

impl ListKind {
    fn name(self) -> &'static str {
        match self {
            ListKind::Source => "source",
            ListKind::Copy => "copy",
        }
    }
}

/// One input that differs between two records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A field's entry in the hashed dict changed.
    FieldChanged { field: String },
    /// A field is set now and was not.
    FieldAdded { field: String },
    /// A field was set and is not now.
    FieldRemoved { field: String },
    /// A requirement line is new.
    RequirementAdded { line: String },
    /// A requirement line is gone.
    RequirementRemoved { line: String },
    /// Requirement lines are new whose text the new record does not keep.
    RequirementsAdded { count: usize },
    /// Requirement lines are gone whose text the old record does not keep
    /// (an image's label keeps hashes only).
    RequirementsRemoved { count: usize },
    /// A file is new.
    FileAdded { list: ListKind, path: String },
    /// A file is gone.
    FileRemoved { list: ListKind, path: String },
    /// A file's content changed.
    FileChanged { list: ListKind, path: String },
    /// Files under a folder changed (the old record kept folder roots only).
    FolderChanged { list: ListKind, folder: String },
    /// A folder has files now and had none.
    FolderAdded { list: ListKind, folder: String },
    /// A folder had files and has none now.
    FolderRemoved { list: ListKind, folder: String },
    /// The files differ, but the records were folded differently.
    ListChanged { list: ListKind },
    /// A key of a dict field (`env`, `builder_options`, `builder_config`) is new.
    KeyAdded {
        field: String,
        key: String,
        /// Its value, when both sides are specs and it is no secret.
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// A key of a dict field is gone.
    KeyRemoved {
        field: String,
        key: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// A key's value changed.
    KeyChanged {
        field: String,
        key: String,
        /// The values before and after, when both sides are specs and the
        /// key names no secret.
        #[serde(skip_serializing_if = "Option::is_none")]
        values: Option<(String, String)>,
    },
    /// A dict field holds the same keys and values in another order
    /// (flytekit hashes `str(dict)`, which keeps the order).
    KeysReordered { field: String },
    /// The nested base spec's image changed, and why.
    BaseChanged {
        old: String,
        new: String,
        changes: Vec<Change>,
    },
}

/// The tag before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagPair {
    /// The other record's.
    pub old: String,
    /// This spec's.
    pub new: String,
}

/// Why two records' tags differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The tags.
    pub tag: TagPair,
    /// Whether the tags differ.
    pub changed: bool,
    /// What differs: fields, requirements, source, copy, base, in that order.
    pub changes: Vec<Change>,
}

/// What changed from `old` to `new`.
pub fn explain(new: &TagRecord, old: &TagRecord) -> Explanation {
    Explanation {
        tag: TagPair {
            old: old.tag.clone(),
            new: new.tag.clone(),
        },
        changed: new.tag != old.tag,
        changes: changes(new, old),
    }
}

fn changes(new: &TagRecord, old: &TagRecord) -> Vec<Change> {
    let mut out = Vec::new();
    let old_fields: HashMap<&str, &str> = old
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let new_fields: HashMap<&str, &str> = new
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for (field, hash) in &new.fields {
        match old_fields.get(field.as_str()) {
            None => out.push(Change::FieldAdded {
                field: field.clone(),
            }),
            Some(h) if h != hash => key_changes(field, new, old, &mut out),
            Some(_) => {}
        }
    }
    for (field, _) in &old.fields {
        if !new_fields.contains_key(field.as_str()) {
            out.push(Change::FieldRemoved {
                field: field.clone(),
            });
        }
    }
    requirement_changes(
        new.requirements.as_ref(),
        old.requirements.as_ref(),
        &mut out,
    );
    for (kind, n, o) in [
        (ListKind::Source, &new.source, &old.source),
        (ListKind::Copy, &new.copy, &old.copy),
    ] {
        let empty = FileList::Files(BTreeMap::new());
        list_changes(
            kind,
            n.as_ref().unwrap_or(&empty),
            o.as_ref().unwrap_or(&empty),
            &mut out,
        );
    }
    if let (Some(n), Some(o)) = (&new.base, &old.base) {
        if n.image_name != o.image_name {
            out.push(Change::BaseChanged {
                old: o.image_name.clone(),
                new: n.image_name.clone(),
                changes: changes(n, o),
            });
        }
    }
    out
}

fn requirement_changes(
    new: Option<&RequirementLines>,
    old: Option<&RequirementLines>,
    out: &mut Vec<Change>,
) {
    let none = RequirementLines {
        lines: Some(Vec::new()),
        hashes: Vec::new(),
    };
    let (n, o) = (new.unwrap_or(&none), old.unwrap_or(&none));
    // A label with no room for line hashes: only the field says.
    if (n.hashes.is_empty() && new.is_some()) || (o.hashes.is_empty() && old.is_some()) {
        return;
    }
    let mut left: HashMap<&str, usize> = HashMap::new();
    for h in &o.hashes {
        *left.entry(h).or_default() += 1;
    }
    let mut added_unknown = 0;
    for (i, h) in n.hashes.iter().enumerate() {
        match left.get_mut(h.as_str()) {
            Some(c) if *c > 0 => *c -= 1,
            _ => match n.lines.as_ref().and_then(|l| l.get(i)) {
                Some(line) => out.push(Change::RequirementAdded { line: line.clone() }),
                None => added_unknown += 1,
            },
        }
    }
    if added_unknown > 0 {
        out.push(Change::RequirementsAdded {
            count: added_unknown,
        });
    }
    let mut removed_unknown = 0;
    for (i, h) in o.hashes.iter().enumerate() {
        let Some(c) = left.get_mut(h.as_str()).filter(|c| **c > 0) else {
            continue;
        };
        *c -= 1;
        match o.lines.as_ref().and_then(|l| l.get(i)) {
            Some(line) => out.push(Change::RequirementRemoved { line: line.clone() }),
            None => removed_unknown += 1,
        }
    }
    if removed_unknown > 0 {
        out.push(Change::RequirementsRemoved {
            count: removed_unknown,
        });
    }
}

/// A changed field: by key where both records hold its keys, else whole.
fn key_changes(field: &str, new: &TagRecord, old: &TagRecord, out: &mut Vec<Change>) {
    let (Some(n), Some(o)) = (new.keys.get(field), old.keys.get(field)) else {
        out.push(Change::FieldChanged {
            field: field.to_string(),
        });
        return;
    };
    let shown = |record: &TagRecord, key: &str| -> Option<String> {
        if crate::lint::names_secret(key) {
            return None;
        }
        let value = record.values.get(field)?.get(key)?;
        match imagespec_core::redact::urls_with_credentials(value).is_empty() {
            true => Some(value.clone()),
            false => None,
        }
    };
    let before = out.len();
    let old_map: BTreeMap<&str, &str> = o.iter().map(|(k, h)| (k.as_str(), h.as_str())).collect();
    let new_map: BTreeMap<&str, &str> = n.iter().map(|(k, h)| (k.as_str(), h.as_str())).collect();
    for (key, hash) in n {
        match old_map.get(key.as_str()) {
            None => out.push(Change::KeyAdded {
                field: field.to_string(),
                key: key.clone(),
                value: shown(new, key),
            }),
            Some(h) if h != hash => out.push(Change::KeyChanged {
                field: field.to_string(),
                key: key.clone(),
                values: shown(old, key).zip(shown(new, key)),
            }),
            Some(_) => {}
        }
    }
    for (key, _) in o {
        if !new_map.contains_key(key.as_str()) {
            out.push(Change::KeyRemoved {
                field: field.to_string(),
                key: key.clone(),
                value: shown(old, key),
            });
        }
    }
    if out.len() == before {
        out.push(match old_map == new_map {
            true => Change::KeysReordered {
                field: field.to_string(),
            },
            false => Change::FieldChanged {
                field: field.to_string(),
            },
        });
    }
}

/// The keys added to, changed in and removed from `old` in `new`, as changes.
fn diff_maps<V: PartialEq>(
    new: &BTreeMap<String, V>,
    old: &BTreeMap<String, V>,
    out: &mut Vec<Change>,
    added: impl Fn(String) -> Change,
    changed: impl Fn(String) -> Change,
    removed: impl Fn(String) -> Change,
) {
    for (key, value) in new {
        match old.get(key) {
            None => out.push(added(key.clone())),
            Some(v) if v != value => out.push(changed(key.clone())),
            Some(_) => {}
        }
    }
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        out.push(removed(key.clone()));
    }
}

fn list_changes(kind: ListKind, new: &FileList, old: &FileList, out: &mut Vec<Change>) {
    let (new, old) = match (new, old) {
        (FileList::Files(_), FileList::Folders { depth, .. }) => (new.folded(*depth), old.clone()),
        (FileList::Folders { depth, .. }, FileList::Files(_)) => (new.clone(), old.folded(*depth)),
        _ => (new.clone(), old.clone()),
    };
    match (&new, &old) {
        (FileList::Files(n), FileList::Files(o)) => diff_maps(
            n,
            o,
            out,
            |path| Change::FileAdded { list: kind, path },
            |path| Change::FileChanged { list: kind, path },
            |path| Change::FileRemoved { list: kind, path },
        ),
        (
            FileList::Folders {
                depth: dn,
                roots: n,
            },
            FileList::Folders {
                depth: d_o,
                roots: o,
            },
        ) => {
            if dn != d_o {
                if n != o {
                    out.push(Change::ListChanged { list: kind });
                }
                return;
            }
            diff_maps(
                n,
                o,
                out,
                |folder| Change::FolderAdded { list: kind, folder },
                |folder| Change::FolderChanged { list: kind, folder },
                |folder| Change::FolderRemoved { list: kind, folder },
            );
        }
        _ => unreachable!("both lists are files or both are folded"),
    }
}

/// What a field's entry stands for, where the tag replaces its value.
fn field_gloss(field: &str) -> &'static str {
    match field {
        "source_root" => " (the source files' digest)",
        "copy" => " (the copied files' digest)",
        "requirements" => " (the requirements file's content)",
        "base_image" => " (the base image)",
        _ => "",
    }
}

/// How many lines a group prints before it says how many more there are.
const MAX_LINES_PER_GROUP: usize = 50;

impl Explanation {
    /// For people: a headline, then one line per change under its group.
    /// Field values are never shown, only names; requirement lines are
    /// masked where they hold a known secret.
    pub fn render(&self) -> String {
        let mut out = String::new();
        match self.changed {
            true => {
                let _ = writeln!(
                    out,
                    "tag changed: {} -> {}",
                    shown(&self.tag.old),
                    shown(&self.tag.new)
                );
            }
            false => {
                let _ = writeln!(out, "tag unchanged: {}", shown(&self.tag.new));
            }
        }
        render_changes(&self.changes, "", &mut out);
        if self.changed && self.changes.is_empty() {
            out.push_str("no recorded input differs\n");
        }
        out
    }
}

/// A value as the user reads it in messages: quoted, cut to a line.
fn quoted(value: &str) -> String {
    let cut: String = value.chars().take(60).collect();
    let more = if cut.len() < value.len() { "…" } else { "" };
    format!("'{cut}{more}'")
}

fn folder_name(folder: &str) -> &str {
    if folder.is_empty() {
        "./"
    } else {
        folder
    }
}

fn render_changes(changes: &[Change], indent: &str, out: &mut String) {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut put = |group: &str, line: String| match groups.iter_mut().find(|(g, _)| g == group) {
        Some((_, lines)) => lines.push(line),
        None => groups.push((group.to_string(), vec![line])),
    };
    let mut bases = Vec::new();
    for c in changes {
        match c {
            Change::FieldChanged { field } => put(
                "fields",
                format!("~ {} changed{}", shown(field), field_gloss(field)),
            ),
            Change::FieldAdded { field } => put("fields", format!("+ {} set", shown(field))),
            Change::KeyAdded { field, key, value } => put(
                "fields",
                format!(
                    "+ {}.{} set{}",
                    shown(field),
                    shown(key),
                    value
                        .as_ref()
                        .map(|v| format!(": {}", shown(&quoted(v))))
                        .unwrap_or_default()
                ),
            ),
            Change::KeyRemoved { field, key, value } => put(
                "fields",
                format!(
                    "- {}.{} unset{}",
                    shown(field),
                    shown(key),
                    value
                        .as_ref()
                        .map(|v| format!(" (was {})", shown(&quoted(v))))
                        .unwrap_or_default()
                ),
            ),
            Change::KeyChanged { field, key, values } => put(
                "fields",
                format!(
                    "~ {}.{} changed{}",
                    shown(field),
                    shown(key),
                    values
                        .as_ref()
                        .map(|(a, b)| format!(": {} -> {}", shown(&quoted(a)), shown(&quoted(b))))
                        .unwrap_or_default()
                ),
            ),
            Change::KeysReordered { field } => put(
                "fields",
                format!(
                    "~ {}: the same keys in another order (flytekit hashes the order)",
                    shown(field)
                ),
            ),
            Change::FieldRemoved { field } => put("fields", format!("- {} unset", shown(field))),
            Change::RequirementAdded { line } => put(
                "requirements",
                format!("+ {}", shown(&imagespec_core::redact::mask_urls(line))),
            ),
            Change::RequirementRemoved { line } => put(
                "requirements",
                format!("- {}", shown(&imagespec_core::redact::mask_urls(line))),
            ),
            Change::RequirementsAdded { count } => {
                put("requirements", format!("+ {count} line(s) not recorded"))
            }
            Change::RequirementsRemoved { count } => put(
                "requirements",
                format!("- {count} line(s) no longer there (the image keeps only their hashes)"),
            ),
            Change::FileAdded { list, path } => put(list.name(), format!("+ {}", shown(path))),
            Change::FileRemoved { list, path } => put(list.name(), format!("- {}", shown(path))),
            Change::FileChanged { list, path } => put(list.name(), format!("~ {}", shown(path))),
            Change::FolderChanged { list, folder } => put(
                list.name(),
                format!("~ changed under {}", shown(folder_name(folder))),
            ),
            Change::FolderAdded { list, folder } => put(
                list.name(),
                format!("+ new files under {}", shown(folder_name(folder))),
            ),
            Change::FolderRemoved { list, folder } => put(
                list.name(),
                format!("- no files left under {}", shown(folder_name(folder))),
            ),
            Change::ListChanged { list } => put(list.name(), "~ some files changed".to_string()),
            Change::BaseChanged { .. } => bases.push(c),
        }
    }
    for (group, lines) in &groups {
        let _ = writeln!(out, "{indent}{group}:");
        for line in lines.iter().take(MAX_LINES_PER_GROUP) {
            let _ = writeln!(out, "{indent}  {line}");
        }
        if lines.len() > MAX_LINES_PER_GROUP {
            let _ = writeln!(
                out,
                "{indent}  ... and {} more (--json lists them all)",
                lines.len() - MAX_LINES_PER_GROUP
            );
        }
    }
    for b in bases {
        if let Change::BaseChanged { old, new, changes } = b {
            let _ = writeln!(out, "{indent}base: {} -> {}", shown(old), shown(new));
            render_changes(changes, &format!("{indent}  "), out);
        }
    }
}

fn shown(text: &str) -> String {
    imagespec_core::text::single_line(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A label is the image builder's text: its tag, field and key names
    /// and paths reach the terminal escaped, each on its own line.
    #[test]
    fn a_hostile_label_prints_no_escape_and_forges_no_line() {
        let hostile = "x\u{1b}[2J\nerror: forged\u{7}";
        let e = Explanation {
            tag: TagPair {
                old: hostile.into(),
                new: "new".into(),
            },
            changed: true,
            changes: vec![
                Change::FieldChanged {
                    field: hostile.into(),
                },
                Change::KeyAdded {
                    field: "env".into(),
                    key: hostile.into(),
                    value: None,
                },
                Change::FileChanged {
                    list: ListKind::Source,
                    path: hostile.into(),
                },
                Change::BaseChanged {
                    old: hostile.into(),
                    new: "b".into(),
                    changes: vec![],
                },
            ],
        };
        let text = e.render();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
        assert!(!text.lines().any(|l| l.starts_with("error:")), "{text}");
    }
    use base64::Engine as _;
    use imagespec_core::spec::{load_str_with, LoadOptions, SpecFormat};
    use imagespec_identity::job::{BuildJob, Preparer};
    use imagespec_identity::record::MAX_FOLDERS;
    use std::io::Read as _;

    fn job(dir: &std::path::Path, yaml: &str) -> BuildJob {
        let spec =
            load_str_with(yaml, SpecFormat::Yaml, None, dir, &LoadOptions::default()).unwrap();
        BuildJob::prepare(
            spec.view(),
            &Preparer {
                side_files: &|_| Vec::new(),
                real_name: &|_| Ok(None),
            },
        )
        .unwrap()
    }

    fn write(dir: &std::path::Path, rel: &str, body: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    const SPEC: &str = "name: x\npython_version: '3.12'\nregistry: localhost:5000\n\
        pip_index: https://alice:s3cr3t-t0ken@pypi.example/simple\n\
        env: {PASSWORD: hunter2-hunter2}\nrequirements: req.txt\n\
        source_root: src\nsource_copy_mode: all\ncopy: [data]\n";

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "req.txt",
            "numpy==2.0\npkg @ https://bob:t0psecret-pw@host/pkg.whl\n",
        );
        write(dir.path(), "src/pkg/a.py", "a = 1\n");
        write(dir.path(), "src/main.py", "main\n");
        write(dir.path(), "data/x.csv", "1,2\n");
        dir
    }

    #[test]
    fn the_fields_entries_are_the_tags_text() {
        let dir = tree();
        let j = job(dir.path(), SPEC);
        let entries = imagespec_identity::identity::tag_entries(&j.spec, &j.identity.inputs);
        let joined: Vec<&str> = entries.iter().map(|(_, e)| e.as_str()).collect();
        assert_eq!(
            format!("{{{}}}", joined.join(", ")),
            j.identity.inputs.tag_text
        );
    }

    #[test]
    fn a_label_round_trips_without_requirement_lines() {
        let dir = tree();
        let record = TagRecord::of(&job(dir.path(), SPEC)).unwrap();
        let label = record.to_label().unwrap();
        assert!(label.starts_with("v1."), "{label}");
        let back = TagRecord::from_label(&label).unwrap();
        assert_eq!(back.requirements.as_ref().unwrap().lines, None);
        let mut expected = record.clone();
        expected.requirements.as_mut().unwrap().lines = None;
        // Values stay out of a label.
        assert_eq!(expected.values["env"]["PASSWORD"], "hunter2-hunter2");
        expected.values.clear();
        assert_eq!(back, expected);
        let e = explain(&record, &back);
        assert!(!e.changed && e.changes.is_empty(), "{e:?}");
        let Some(FileList::Files(source)) = &back.source else {
            panic!("{back:?}")
        };
        assert_eq!(source.keys().collect::<Vec<_>>(), ["main.py", "pkg/a.py"],);
        let Some(FileList::Files(copy)) = &back.copy else {
            panic!("{back:?}")
        };
        assert_eq!(copy.keys().collect::<Vec<_>>(), ["data/x.csv"]);
    }

    #[test]
    fn the_label_holds_no_secret() {
        let dir = tree();
        let record = TagRecord::of(&job(dir.path(), SPEC)).unwrap();
        let label = record.to_label().unwrap();
        let payload = label.strip_prefix("v1.").unwrap();
        let deflated = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        let mut json = String::new();
        flate2::read::DeflateDecoder::new(deflated.as_slice())
            .read_to_string(&mut json)
            .unwrap();
        for secret in [
            "s3cr3t-t0ken",
            "alice",
            "hunter2",
            "t0psecret-pw",
            "numpy",
            "pypi.example",
        ] {
            assert!(!json.contains(secret), "{secret} in {json}");
            assert!(!label.contains(secret), "{secret} in {label}");
        }
        // Env names are in the label (the image's config lists them anyway),
        // so that `explain` names the key that changed; never their values.
        assert!(json.contains("\"PASSWORD\""), "{json}");
    }

    #[test]
    fn changes_are_named_by_field_line_and_file() {
        let dir = tree();
        let old = TagRecord::of(&job(dir.path(), SPEC)).unwrap();
        write(
            dir.path(),
            "req.txt",
            "numpy==2.1\npkg @ https://bob:t0psecret-pw@host/pkg.whl\n",
        );
        write(dir.path(), "src/pkg/a.py", "a = 2\n");
        write(dir.path(), "src/pkg/b.py", "b\n");
        std::fs::remove_file(dir.path().join("src/main.py")).unwrap();
        let new_spec = SPEC.replace("hunter2-hunter2", "other-value");
        let new = TagRecord::of(&job(dir.path(), &new_spec)).unwrap();
        let e = explain(&new, &old);
        assert!(e.changed);
        let s = |f: &str| f.to_string();
        assert_eq!(
            e.changes,
            vec![
                Change::FieldChanged {
                    field: s("source_root")
                },
                Change::KeyChanged {
                    field: s("env"),
                    key: s("PASSWORD"),
                    values: None,
                },
                Change::FieldChanged {
                    field: s("requirements")
                },
                Change::RequirementAdded {
                    line: s("numpy==2.1")
                },
                Change::RequirementRemoved {
                    line: s("numpy==2.0")
                },
                Change::FileChanged {
                    list: ListKind::Source,
                    path: s("pkg/a.py")
                },
                Change::FileAdded {
                    list: ListKind::Source,
                    path: s("pkg/b.py")
                },
                Change::FileRemoved {
                    list: ListKind::Source,
                    path: s("main.py")
                },
            ]
        );
        // Against an image: the removed line is counted, not shown.
        let label = TagRecord::from_label(&old.to_label().unwrap()).unwrap();
        let e = explain(&new, &label);
        assert!(e
            .changes
            .contains(&Change::RequirementsRemoved { count: 1 }));
        assert!(e.changes.contains(&Change::RequirementAdded {
            line: s("numpy==2.1")
        }));
    }

    #[test]
    fn long_lists_fold_into_folder_roots_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        for d in 0..30 {
            for f in 0..100 {
                write(
                    dir.path(),
                    &format!("src/d{d}/sub/f{f}.py"),
                    &format!("{d} {f}\n"),
                );
            }
        }
        write(dir.path(), "src/top.py", "top\n");
        let yaml = "name: big\nsource_root: src\nsource_copy_mode: all\n";
        let old = TagRecord::of(&job(dir.path(), yaml)).unwrap();
        let label = old.to_label().unwrap();
        assert!(label.len() <= MAX_LABEL_BYTES, "{}", label.len());
        let back = TagRecord::from_label(&label).unwrap();
        let Some(FileList::Folders { depth, roots }) = &back.source else {
            panic!("3,001 files are folded: {back:?}");
        };
        assert_eq!(
            *depth, 2,
            "as deep as the folders go within {MAX_FOLDERS} roots"
        );
        assert_eq!(roots.len(), 31);
        assert_eq!(roots["d7/sub/"].files, 100);
        assert_eq!(roots[""].files, 1);

        write(dir.path(), "src/d7/sub/f3.py", "changed\n");
        write(dir.path(), "src/d9/new/x.py", "new\n");
        let new = TagRecord::of(&job(dir.path(), yaml)).unwrap();
        let e = explain(&new, &back);
        let s = |f: &str| f.to_string();
        assert_eq!(
            e.changes,
            vec![
                Change::FieldChanged {
                    field: s("source_root")
                },
                Change::FolderChanged {
                    list: ListKind::Source,
                    folder: s("d7/sub/")
                },
                Change::FolderAdded {
                    list: ListKind::Source,
                    folder: s("d9/new/")
                },
            ]
        );
        assert!(
            e.render().contains("~ changed under d7/sub/"),
            "{}",
            e.render()
        );
    }

    #[test]
    fn a_label_of_another_format_is_refused_by_name() {
        let e = TagRecord::from_label("v9.abc").unwrap_err().to_string();
        assert!(e.contains("`v9.`") && e.contains(INPUTS_LABEL), "{e}");
        let e = TagRecord::from_label("v1.!!").unwrap_err().to_string();
        assert!(e.contains("base64url"), "{e}");
    }
}
