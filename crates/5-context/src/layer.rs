//! A layer of the spec's files, written as BuildKit's `COPY --chown=flytekit`
//! leaves them, without an engine: the files (with their modes), the folders
//! that hold them, whiteouts for what is gone, every entry owned by the
//! image's user. Deterministic: the same entries give the same bytes (sorted
//! paths, timestamps from the inputs, a gzip header without a time), so the
//! same change shipped twice is the same blob.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use imagespec_core::error::{Error, Result};

/// The mode of the folders a context holds (the context writer makes them
/// so), and so of those `COPY` puts in the image.
pub const DIR_MODE: u32 = 0o755;

/// What one path of the image is, as a layer records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    /// A regular file: its content's short hash and its mode.
    File { hash: String, mode: u32 },
    /// A folder.
    Dir,
}

/// A file to put in a layer: where it is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file on the build machine.
    pub path: PathBuf,
    /// Its mode.
    pub mode: u32,
    /// Its modification time (seconds).
    pub mtime: u64,
}

/// The entries of the image's tree a build's files make: each file's path
/// in the image (`root/pkg/a.py`), and every folder that holds one (below
/// `root/`, which the base has).
pub fn tree(files: &[(String, Entry)]) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    for (path, entry) in files {
        let mut parent = path.as_str();
        while let Some((dir, _)) = parent.rsplit_once('/') {
            if dir == "root" || dir.is_empty() {
                break;
            }
            out.entry(dir.to_string()).or_insert(Entry::Dir);
            parent = dir;
        }
        out.insert(path.clone(), entry.clone());
    }
    out
}

/// What a layer on top of an image holding `old` must do so that it holds
/// `new`: the entries to write (new or changed; a folder only when new),
/// and the paths to white out (gone, or replaced by another type).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// Written, in path order.
    pub write: Vec<String>,
    /// Whited out (the topmost gone path of a gone subtree only).
    pub whiteout: Vec<String>,
}

impl Change {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.write.is_empty() && self.whiteout.is_empty()
    }
}

/// The change from `old` to `new` (both from [`tree`]).
pub fn change(old: &BTreeMap<String, Entry>, new: &BTreeMap<String, Entry>) -> Change {
    let mut out = Change::default();
    let mut gone: BTreeSet<&str> = BTreeSet::new();
    for (path, was) in old {
        match new.get(path) {
            None => {
                gone.insert(path);
            }
            Some(now) if std::mem::discriminant(now) != std::mem::discriminant(was) => {
                gone.insert(path);
            }
            _ => {}
        }
    }
    // A gone path under a gone folder goes with it.
    for path in &gone {
        let covered = ancestors(path).any(|a| gone.contains(a) && old.get(a) == Some(&Entry::Dir));
        if !covered {
            out.whiteout.push(path.to_string());
        }
    }
    for (path, now) in new {
        let write = match (old.get(path), now) {
            (None, _) => true,
            (Some(Entry::Dir), Entry::Dir) => false,
            (Some(was), now) => was != now,
        };
        if write {
            out.write.push(path.clone());
        }
    }
    out
}

fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(path.rsplit_once('/').map(|(d, _)| d), |d| {
        d.rsplit_once('/').map(|(p, _)| p)
    })
}

/// A layer, compressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The gzip stream (the blob).
    pub blob: Vec<u8>,
    /// `sha256:` of the blob.
    pub digest: String,
    /// `sha256:` of the uncompressed tar (the config's `diff_id`).
    pub diff_id: String,
}

/// How a layer's entries are owned and dated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The image user's numeric id and group.
    pub uid: u64,
    pub gid: u64,
    /// Every entry's time, when set (`SOURCE_DATE_EPOCH`); else each file's
    /// own and, for folders and whiteouts, the newest file's.
    pub epoch: Option<u64>,
}

/// Writes the layer of `change`: each written path from `new` (a file's
/// bytes read from `sources`), each whiteout as `.wh.<name>`; and, as a
/// layer applier would otherwise make them with its own defaults, `root/`
/// (with `root`: the image's mode and owner of /root) and every folder that
/// holds an entry, as the image has them.
pub fn write(
    change: &Change,
    new: &BTreeMap<String, Entry>,
    sources: &BTreeMap<String, Source>,
    stamp: Stamp,
    root: (u32, u64, u64),
) -> Result<Layer> {
    write_layer(change, new, sources, stamp, root)
}

/// A full layer of `tree`: every folder and file (see [`write`]).
pub fn write_full(
    tree: &BTreeMap<String, Entry>,
    sources: &BTreeMap<String, Source>,
    stamp: Stamp,
    root: (u32, u64, u64),
) -> Result<Layer> {
    let all = change(&BTreeMap::new(), tree);
    write_layer(&all, tree, sources, stamp, root)
}

fn write_layer(
    change: &Change,
    new: &BTreeMap<String, Entry>,
    sources: &BTreeMap<String, Source>,
    stamp: Stamp,
    root: (u32, u64, u64),
) -> Result<Layer> {
    let newest = sources.values().map(|s| s.mtime).max().unwrap_or(0);
    let time = |own: Option<u64>| stamp.epoch.unwrap_or(own.unwrap_or(newest));
    // Each path: a path of `new` (Some(Some)), a whiteout (Some(None)), or
    // a folder that holds one (None).
    type What<'a> = Option<Option<&'a String>>;
    let mut names: BTreeMap<String, What<'_>> = change
        .write
        .iter()
        .map(|p| (p.clone(), Some(Some(p))))
        .collect();
    for w in &change.whiteout {
        let (dir, name) = w.rsplit_once('/').unwrap_or(("", w));
        let marker = match dir {
            "" => format!(".wh.{name}"),
            _ => format!("{dir}/.wh.{name}"),
        };
        names.insert(marker, Some(None));
    }
    let holders: Vec<String> = names
        .keys()
        .flat_map(|p| {
            ancestors(p)
                .filter(|d| d.starts_with("root/"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    for d in holders {
        names.entry(d).or_insert(None);
    }
    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    {
        let (mode, uid, gid) = root;
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(mode);
        header.set_uid(uid);
        header.set_gid(gid);
        header.set_size(0);
        header.set_mtime(time(None));
        header.set_cksum();
        tar.append_data(&mut header, "root/", std::io::empty())
            .map_err(|e| Error::Other(format!("cannot write the layer: {e}")))?;
    }
    for (name, what) in names {
        let mut header = tar::Header::new_gnu();
        header.set_uid(stamp.uid);
        header.set_gid(stamp.gid);
        let entry: Option<&Entry> = match what {
            // A folder that holds an entry: as the image has it.
            None => Some(&Entry::Dir),
            Some(written) => written.and_then(|p| new.get(p)),
        };
        match entry {
            None => {
                // A whiteout: an empty file.
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(0);
                header.set_mtime(time(None));
                header.set_cksum();
                tar.append_data(&mut header, &name, std::io::empty())
                    .map_err(|e| Error::Other(format!("cannot write the layer: {e}")))?;
            }
            Some(Entry::Dir) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(DIR_MODE);
                header.set_size(0);
                header.set_mtime(time(None));
                header.set_cksum();
                tar.append_data(&mut header, format!("{name}/"), std::io::empty())
                    .map_err(|e| Error::Other(format!("cannot write the layer: {e}")))?;
            }
            Some(Entry::File { mode, .. }) => {
                let source = sources.get(&name).ok_or_else(|| {
                    Error::Other(format!("internal: no file for `{name}` in the layer"))
                })?;
                let mut file = imagespec_core::fsx::open_regular(&source.path)
                    .map_err(|e| Error::io("read", &source.path, e))?;
                let len = file
                    .metadata()
                    .map_err(|e| Error::io("read", &source.path, e))?
                    .len();
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(len);
                header.set_mtime(time(Some(source.mtime)));
                header.set_cksum();
                // A file that changes while it is read makes a tar that
                // does not match its header: refused, not shipped.
                let mut bytes = Vec::with_capacity(len as usize);
                std::io::Read::read_to_end(&mut file, &mut bytes)
                    .map_err(|e| Error::io("read", &source.path, e))?;
                if bytes.len() as u64 != len {
                    return Err(Error::Other(format!(
                        "`{}` changed while it was read into the layer; build again",
                        source.path.display()
                    )));
                }
                tar.append_data(&mut header, &name, bytes.as_slice())
                    .map_err(|e| Error::Other(format!("cannot write the layer: {e}")))?;
            }
        }
    }
    let tar = tar
        .into_inner()
        .map_err(|e| Error::Other(format!("cannot write the layer: {e}")))?;
    let diff_id = format!("sha256:{}", hex::encode(Sha256::digest(&tar)));
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar)
        .and_then(|()| gz.try_finish())
        .map_err(|e| Error::Other(format!("cannot compress the layer: {e}")))?;
    let blob = gz
        .finish()
        .map_err(|e| Error::Other(format!("cannot compress the layer: {e}")))?;
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&blob)));
    Ok(Layer {
        blob,
        digest,
        diff_id,
    })
}

/// The owner of the first entry under `root/` of a layer's first bytes (a
/// gzip stream cut short is read as far as it goes): the image user's
/// numeric id and group, as the engine's `COPY --chown` wrote them.
pub fn owner_of(layer_start: &[u8]) -> Option<(u64, u64)> {
    let gz = flate2::read::GzDecoder::new(layer_start);
    let mut archive = tar::Archive::new(gz);
    let entries = archive.entries().ok()?;
    for entry in entries {
        let Ok(entry) = entry else { return None };
        let header = entry.header();
        let path = entry.path().ok()?.to_string_lossy().into_owned();
        let path = path.trim_start_matches("./");
        if path.starts_with("root/") && path != "root/" {
            return Some((header.uid().ok()?, header.gid().ok()?));
        }
    }
    None
}

/// The `root/` folder's own entry (mode, uid, gid) among a layer's first
/// bytes, when the layer has one.
pub fn root_of(layer_start: &[u8]) -> Option<(u32, u64, u64)> {
    let gz = flate2::read::GzDecoder::new(layer_start);
    let mut archive = tar::Archive::new(gz);
    for entry in archive.entries().ok()? {
        let Ok(entry) = entry else { return None };
        let path = entry.path().ok()?.to_string_lossy().into_owned();
        let path = path.trim_start_matches("./").trim_end_matches('/');
        if path == "root" {
            let h = entry.header();
            return Some((h.mode().ok()?, h.uid().ok()?, h.gid().ok()?));
        }
        if path.starts_with("root/") {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(hash: &str) -> Entry {
        Entry::File {
            hash: hash.into(),
            mode: 0o644,
        }
    }

    #[test]
    fn a_change_writes_what_is_new_and_whites_out_what_is_gone() {
        let old = tree(&[
            ("root/a.py".into(), file("1")),
            ("root/pkg/b.py".into(), file("2")),
            ("root/gone/x.py".into(), file("3")),
            ("root/gone/deep/y.py".into(), file("4")),
        ]);
        let new = tree(&[
            ("root/a.py".into(), file("1")),
            ("root/pkg/b.py".into(), file("2b")),
            ("root/pkg/new/c.py".into(), file("5")),
        ]);
        let c = change(&old, &new);
        assert_eq!(
            c.write,
            ["root/pkg/b.py", "root/pkg/new", "root/pkg/new/c.py"]
        );
        assert_eq!(c.whiteout, ["root/gone"], "a gone folder, once");
        let same = change(&new, &new);
        assert!(same.is_empty());
        // A file that becomes a folder: whited out, then written.
        let was_file = tree(&[("root/x".into(), file("1"))]);
        let now_dir = tree(&[("root/x/y".into(), file("2"))]);
        let c = change(&was_file, &now_dir);
        assert_eq!(c.whiteout, ["root/x"]);
        assert_eq!(c.write, ["root/x", "root/x/y"]);
        // A mode change is a change.
        let exec = tree(&[(
            "root/a.py".into(),
            Entry::File {
                hash: "1".into(),
                mode: 0o755,
            },
        )]);
        assert_eq!(change(&new, &exec).write, ["root/a.py"]);
    }

    #[test]
    fn a_layer_is_the_same_bytes_for_the_same_entries_and_says_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.py");
        std::fs::write(&p, "print(1)\n").unwrap();
        let new = tree(&[("root/pkg/a.py".into(), file("h"))]);
        let old = BTreeMap::new();
        let c = change(&old, &new);
        let sources: BTreeMap<String, Source> = [(
            "root/pkg/a.py".to_string(),
            Source {
                path: p.clone(),
                mode: 0o644,
                mtime: 1_700_000_000,
            },
        )]
        .into();
        let stamp = Stamp {
            uid: 1000,
            gid: 1000,
            epoch: None,
        };
        let root = (0o700, 1000, 0);
        let one = write(&c, &new, &sources, stamp, root).unwrap();
        let two = write(&c, &new, &sources, stamp, root).unwrap();
        assert_eq!(one, two, "deterministic");
        assert_eq!(owner_of(&one.blob), Some((1000, 1000)));
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(one.blob.as_slice()));
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["root/", "root/pkg/", "root/pkg/a.py"]);
        assert_eq!(root_of(&one.blob), Some((0o700, 1000, 0)));
        let epoch = write(
            &c,
            &new,
            &sources,
            Stamp {
                epoch: Some(5),
                ..stamp
            },
            root,
        )
        .unwrap();
        assert_ne!(
            epoch.digest, one.digest,
            "SOURCE_DATE_EPOCH dates every entry"
        );
    }
}
