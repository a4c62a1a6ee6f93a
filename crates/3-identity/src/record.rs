//! A [`TagRecord`] of what a tag hashed, for "why did my tag change?"
//! (`imagespec_insight::explain` compares two of them).
//!
//! A record holds, for one [`BuildJob`]: a short hash of each entry of the
//! dict flytekit's tag hashes (so "field X changed" is exactly "its part of
//! `tag_text` changed"), the requirement lines, a short content hash of each
//! source and `copy` file, and the nested base's record. It holds hashes of
//! field values, never the values, which may be secrets.
//!
//! Images built by imagespec carry a record in the [`INPUTS_LABEL`] label
//! ([`TagRecord::to_label`]): JSON, deflated, base64url, after a version
//! prefix. A label keeps a hash per requirement line (not the line), and a
//! file list too long for a label ([`MAX_LISTED_FILES`] files, or an
//! encoding over [`MAX_LABEL_BYTES`]) becomes per-folder roots; `explain`
//! then says which folders changed. `docs/explain.md` documents the format.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::job::BuildJob;
use imagespec_core::error::{Error, Result};
use imagespec_core::spec::SpecRef;
use imagespec_inputs::{short_hash, SourceFile};

/// The image label that holds a [`TagRecord`].
pub const INPUTS_LABEL: &str = "dev.imagespec.inputs";
/// The record's schema version (`v` in the record, `v1.` before a label).
pub const SCHEMA_VERSION: u32 = 1;
/// What a label's value starts with.
const LABEL_PREFIX: &str = "v1.";
/// The largest encoded label: file lists are folded into folder roots below it.
pub const MAX_LABEL_BYTES: usize = 48 * 1024;
/// The most files a label lists one by one, per list (source, copy).
pub const MAX_LISTED_FILES: usize = 2_000;
/// The most folder roots a folded list keeps, where its depth allows.
pub const MAX_FOLDERS: usize = 512;
/// The most a label may inflate to (a bound against a hostile image).
const MAX_DECODED_BYTES: u64 = 16 * 1024 * 1024;

/// What one tag hashed, for comparing with another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRecord {
    /// [`SCHEMA_VERSION`].
    pub v: u32,
    /// flytekit's `id`.
    pub id: String,
    /// The tag.
    pub tag: String,
    /// `[registry/]name:tag`.
    pub image_name: String,
    /// Each entry of the tag's hashed dict, in its order: the field's name
    /// and the [`short_hash`] of its entry (`'env': {...}`).
    pub fields: Vec<(String, String)>,
    /// The requirements file's lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements: Option<RequirementLines>,
    /// The source files (paths relative to source_root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<FileList>,
    /// The files of `copy` (paths relative to the spec's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<FileList>,
    /// The nested base spec's record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Box<TagRecord>>,
    /// For the fields that are dicts (`env`, `builder_options`,
    /// `builder_config`): each key, as Python's `str()` writes it, with the
    /// [`short_hash`] of its entry (`'KEY': value`), in the dict's order. So
    /// an explanation names the key that changed, not only the field.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, Vec<(String, String)>>,
    /// The values of those keys (`str()`): kept by a local record, never
    /// written into a label; shown when they are no secret.
    #[serde(skip)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

/// The non-blank lines of a requirements file (trimmed), in its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementLines {
    /// The lines: kept by a local record, never written into a label.
    #[serde(skip)]
    pub lines: Option<Vec<String>>,
    /// Each line's [`short_hash`]; empty when a label had no room for them.
    #[serde(default, rename = "h")]
    pub hashes: Vec<String>,
}

/// A list of files with their content hashes, or, folded to fit a label,
/// per-folder roots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileList {
    /// Each file's path and [`short_hash`].
    Files(BTreeMap<String, String>),
    /// Files grouped by the first `depth` parts of their folder.
    Folders {
        /// How many folder parts name a group.
        depth: usize,
        /// Each group (`a/b/`, `` for the top) and its root.
        roots: BTreeMap<String, FolderRoot>,
    },
}

/// A folder's root: one hash over the paths and hashes of its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderRoot {
    /// [`short_hash`] of `path\0hash\n` of each file, sorted by path.
    pub root: String,
    /// How many files.
    pub files: usize,
}

impl FileList {
    fn len(&self) -> usize {
        match self {
            FileList::Files(f) => f.len(),
            FileList::Folders { roots, .. } => roots.values().map(|r| r.files).sum(),
        }
    }

    /// The deepest folder below the top, in parts.
    fn max_depth(&self) -> usize {
        match self {
            FileList::Files(f) => f.keys().map(|p| p.matches('/').count()).max().unwrap_or(0),
            FileList::Folders { depth, .. } => *depth,
        }
    }

    /// The list folded at `depth` (a folded list stays as it is).
    pub fn folded(&self, depth: usize) -> FileList {
        let FileList::Files(files) = self else {
            return self.clone();
        };
        let mut groups: BTreeMap<String, Vec<(&str, &str)>> = BTreeMap::new();
        for (path, hash) in files {
            groups
                .entry(folder_of(path, depth))
                .or_default()
                .push((path, hash));
        }
        let roots = groups
            .into_iter()
            .map(|(folder, files)| {
                let mut h = Sha256::new();
                for (path, hash) in &files {
                    h.update(path.as_bytes());
                    h.update([0]);
                    h.update(hash.as_bytes());
                    h.update(b"\n");
                }
                let mut root = hex::encode(h.finalize());
                root.truncate(imagespec_inputs::SHORT_HASH_HEX);
                (
                    folder,
                    FolderRoot {
                        root,
                        files: files.len(),
                    },
                )
            })
            .collect();
        FileList::Folders { depth, roots }
    }

    /// Folded at the deepest depth that gives at most [`MAX_FOLDERS`] folders.
    fn folded_to_fit(&self) -> FileList {
        for depth in (0..=self.max_depth()).rev() {
            let f = self.folded(depth);
            if matches!(&f, FileList::Folders { roots, .. } if roots.len() <= MAX_FOLDERS) {
                return f;
            }
        }
        self.folded(0)
    }
}

/// The group of `path` at `depth`: the first `depth` parts of its folder,
/// each followed by `/` (`` for a file at the top).
fn folder_of(path: &str, depth: usize) -> String {
    let parts: Vec<&str> = path.split('/').collect();
    let dir = &parts[..parts.len() - 1];
    let mut out = String::new();
    for part in dir.iter().take(depth) {
        out.push_str(part);
        out.push('/');
    }
    out
}

fn file_list(
    files: &[SourceFile],
    hashes: &[String],
    path: impl Fn(&SourceFile) -> String,
) -> FileList {
    FileList::Files(
        files
            .iter()
            .map(&path)
            .zip(hashes.iter().cloned())
            .collect(),
    )
}

/// A `copy` file's path relative to the spec's folder (as the entry reached it).
fn copy_path(spec: SpecRef<'_>, f: &SourceFile) -> String {
    f.path
        .strip_prefix(spec.base_dir())
        .ok()
        .and_then(|p| p.to_str())
        .map_or_else(|| f.rel.clone(), str::to_string)
}

impl TagRecord {
    /// The record of a job (and its nested bases), from what its inputs
    /// hold: no file is read.
    pub fn of(job: &BuildJob) -> Result<TagRecord> {
        let spec = &job.spec;
        let identity = &job.identity;
        let fields = crate::identity::tag_entries(spec, &identity.inputs)
            .into_iter()
            .map(|(name, entry)| (name, short_hash(entry.as_bytes())))
            .collect();
        let requirements = job.inputs.requirements.as_ref().map(|r| {
            let lines: Vec<String> = String::from_utf8_lossy(&r.bytes)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            RequirementLines {
                hashes: lines.iter().map(|l| short_hash(l.as_bytes())).collect(),
                lines: Some(lines),
            }
        });
        let source = job
            .inputs
            .source
            .as_ref()
            .map(|s| file_list(&s.files, &s.hashes, |f| f.rel.clone()));
        let copy = job
            .inputs
            .copy
            .as_ref()
            .map(|c| file_list(&c.digested, &c.hashes, |f| copy_path(spec.view(), f)));
        let base = match &job.base {
            Some(b) => Some(Box::new(TagRecord::of(b)?)),
            None => None,
        };
        let mut keys = BTreeMap::new();
        let mut values = BTreeMap::new();
        for (field, dict) in [
            ("env", spec.env()),
            ("builder_options", spec.builder_options()),
            ("builder_config", spec.builder_config()),
        ] {
            if dict.is_empty() {
                continue;
            }
            let hashed: Vec<(String, String)> = dict
                .iter()
                .map(|(k, v)| {
                    let entry = format!("{}: {}", k.repr(), v.repr());
                    (k.py_str(), short_hash(entry.as_bytes()))
                })
                .collect();
            keys.insert(field.to_string(), hashed);
            values.insert(
                field.to_string(),
                dict.iter().map(|(k, v)| (k.py_str(), v.py_str())).collect(),
            );
        }
        Ok(TagRecord {
            v: SCHEMA_VERSION,
            id: identity.id.clone(),
            tag: identity.tag.clone(),
            image_name: identity.image_name.clone(),
            fields,
            requirements,
            source,
            copy,
            base,
            keys,
            values,
        })
    }

    /// The label value: `v1.` + base64url (no padding) of the deflated JSON
    /// record, with lists folded until it is at most [`MAX_LABEL_BYTES`].
    pub fn to_label(&self) -> Result<String> {
        let mut r = self.clone();
        fold_lists(&mut r, &|l| match l.len() > MAX_LISTED_FILES {
            true => l.folded_to_fit(),
            false => l.clone(),
        });
        let label = encode(&r)?;
        if label.len() <= MAX_LABEL_BYTES {
            return Ok(label);
        }
        let mut depth = max_list_depth(&r);
        loop {
            let mut folded = r.clone();
            fold_lists(&mut folded, &|l| l.folded(depth.min(l.max_depth())));
            let label = encode(&folded)?;
            if label.len() <= MAX_LABEL_BYTES {
                return Ok(label);
            }
            if depth == 0 {
                // Last: no line hashes (the field hash still says whether the file changed).
                drop_line_hashes(&mut folded);
                let label = encode(&folded)?;
                if label.len() <= MAX_LABEL_BYTES {
                    return Ok(label);
                }
                return Err(Error::Other(format!(
                    "the tag's inputs do not fit in the `{INPUTS_LABEL}` label ({} bytes, at most {MAX_LABEL_BYTES})",
                    label.len()
                )));
            }
            depth -= 1;
        }
    }

    /// Reads a label value written by [`TagRecord::to_label`].
    pub fn from_label(label: &str) -> Result<TagRecord> {
        let bad = |why: String| Error::Other(format!("the `{INPUTS_LABEL}` label {why}"));
        let Some(payload) = label.trim().strip_prefix(LABEL_PREFIX) else {
            let version = label.split('.').next().unwrap_or_default();
            return Err(bad(format!(
                "has a format this imagespec does not read (`{}.`; it reads `{LABEL_PREFIX}`): upgrade imagespec",
                imagespec_core::text::single_line(&version.chars().take(16).collect::<String>())
            )));
        };
        let deflated = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| bad(format!("is not base64url: {e}")))?;
        let mut json = Vec::new();
        flate2::read::DeflateDecoder::new(deflated.as_slice())
            .take(MAX_DECODED_BYTES + 1)
            .read_to_end(&mut json)
            .map_err(|e| bad(format!("is not deflated data: {e}")))?;
        if json.len() as u64 > MAX_DECODED_BYTES {
            return Err(bad(format!(
                "inflates to more than {MAX_DECODED_BYTES} bytes"
            )));
        }
        let record: TagRecord =
            serde_json::from_slice(&json).map_err(|e| bad(format!("is not a record: {e}")))?;
        if record.v != SCHEMA_VERSION {
            return Err(bad(format!(
                "has schema version {}; this imagespec reads {SCHEMA_VERSION}",
                record.v
            )));
        }
        Ok(record)
    }
}

fn encode(r: &TagRecord) -> Result<String> {
    let json = serde_json::to_vec(r).map_err(|e| Error::Other(format!("record: {e}")))?;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&json)
        .and_then(|()| enc.finish())
        .map(|deflated| {
            format!(
                "{LABEL_PREFIX}{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(deflated)
            )
        })
        .map_err(|e| Error::Other(format!("deflate the record: {e}")))
}

/// Applies `fold` to each file list of `r` and of its bases.
fn fold_lists(r: &mut TagRecord, fold: &dyn Fn(&FileList) -> FileList) {
    for list in [&mut r.source, &mut r.copy].into_iter().flatten() {
        *list = fold(list);
    }
    if let Some(b) = &mut r.base {
        fold_lists(b, fold);
    }
}

fn max_list_depth(r: &TagRecord) -> usize {
    let here = [&r.source, &r.copy]
        .into_iter()
        .flatten()
        .map(FileList::max_depth)
        .max()
        .unwrap_or(0);
    here.max(r.base.as_deref().map_or(0, max_list_depth))
}

fn drop_line_hashes(r: &mut TagRecord) {
    if let Some(req) = &mut r.requirements {
        req.hashes.clear();
    }
    if let Some(b) = &mut r.base {
        drop_line_hashes(b);
    }
}
