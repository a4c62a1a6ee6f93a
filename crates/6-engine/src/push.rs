//! The engine-free source push: when only the source or `copy` files
//! changed since an image imagespec pushed for the same spec, the new image
//! is made in the registry: the change as one layer (written here, as
//! BuildKit's `COPY --chown=flytekit` would leave the files), on top of the
//! earlier image's layers, with a new config and manifest, under the tag
//! flytekit computes. No engine is contacted.
//!
//! How the earlier image is found: after every build that pushed (by an
//! engine or by this path), imagespec writes a record in the cache folder's
//! `pushed/`, keyed on the image's repository, the spec's `id` and its
//! platforms: the image's manifest digest (not its tag, which can move),
//! the tree of files it holds (path, content hash, mode), how many of its
//! last layers hold them, and the owner its `COPY` gave them. The earlier
//! image is then read from the registry by that digest, and its config's
//! inputs label must record the same fields, requirements and base as the
//! new spec; else, or when it cannot be read, the engine builds, and the
//! reason is said in one line.
//!
//! Layers stay bounded: after [`SourcePush::max_layers`] change layers on
//! top of the image's source layer, one full layer of the files replaces
//! them all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use imagespec_context::layer::{self, Entry, Source, Stamp};
use imagespec_core::error::{Error, Result};
use imagespec_core::store::{repository, ImageStore};
use imagespec_identity::job::BuildJob;
use imagespec_identity::record::{TagRecord, INPUTS_LABEL};

use crate::options::SourcePush;

const MAGIC: &str = "imagespec-pushed 1";
/// The largest record read (a line of JSON a file: some 100 bytes).
const MAX_RECORD_BYTES: u64 = 256 * 1024 * 1024;
/// The largest manifest, index or config read.
const MAX_JSON_BYTES: u64 = 4 * 1024 * 1024;
/// How much of a layer is read to learn its owner.
const LAYER_START: u64 = 256 * 1024;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// What imagespec remembers of an image it pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRecord {
    /// The image, `registry/repository:tag`.
    pub image: String,
    /// Its manifest (or index) digest.
    pub digest: String,
    /// The spec's `id`.
    pub id: String,
    /// The spec's files as the image holds them (`root/...`).
    pub entries: BTreeMap<String, Entry>,
    /// How many of the image's last layers hold them (its source layer,
    /// then change layers).
    pub source_layers: u32,
    /// The numeric owner its `COPY` gave them, once read.
    pub owner: Option<(u64, u64)>,
    /// The `root/` entry of its full source layer (mode, uid, gid), if it
    /// had one: kept when a full layer replaces it.
    pub root: Option<(u32, u64, u64)>,
}

/// Where the record of a job's image lives.
fn record_path(dir: &Path, job: &BuildJob, platforms: &[String]) -> PathBuf {
    let repository = repository(&job.identity.image_name);
    let mut key = Sha256::new();
    key.update(b"imagespec-pushed 1\0");
    key.update(repository.as_bytes());
    key.update([0]);
    key.update(job.identity.id.as_bytes());
    key.update([0]);
    key.update(platforms.join(",").as_bytes());
    dir.join(hex::encode(&key.finalize()[..20]))
}

fn read_record(path: &Path) -> Option<PushRecord> {
    let text = imagespec_inputs::read_cache_file(path, MAGIC, MAX_RECORD_BYTES)?;
    serde_json::from_str(&text).ok()
}

/// Remembers what was pushed for `job`.
pub fn remember(options: &SourcePush, job: &BuildJob, platforms: &[String], record: &PushRecord) {
    let path = record_path(&options.records, job, platforms);
    let written = serde_json::to_string(record)
        .map_err(std::io::Error::other)
        .and_then(|text| imagespec_inputs::write_cache_file(&path, MAGIC, &text));
    if let Err(e) = written {
        tracing::debug!(
            "the push of {} is not remembered: {e}",
            job.identity.image_name
        );
    }
}

/// Forgets every push remembered in `dir` (`imagespec cache clean`): the
/// next change of each spec is built by an engine, or started from the
/// registry's shared build. Returns how many records it removed; a folder
/// that is not imagespec's own (a link, another user's) is left alone.
pub fn forget_records(dir: &Path) -> Result<usize> {
    if !imagespec_core::fsx::is_private_dir(dir) {
        return Ok(0);
    }
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))? {
        let Ok(entry) = entry else { continue };
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The tree of files an image holds, and where each file is read from.
type Tree = (BTreeMap<String, Entry>, BTreeMap<String, Source>);

/// The tree of files a job's image holds, and where each file is read from.
pub fn tree_of(job: &BuildJob) -> Result<Tree> {
    tree_from(job.inputs.source.as_ref(), job.inputs.copy.as_ref())
}

/// [`tree_of`] on a blocking thread, from a copy of the job's file lists:
/// its stats run while the registry answers.
fn tree_in_background(job: &BuildJob) -> tokio::task::JoinHandle<Result<Tree>> {
    let (source, copy) = (job.inputs.source.clone(), job.inputs.copy.clone());
    tokio::task::spawn_blocking(move || tree_from(source.as_ref(), copy.as_ref()))
}

fn tree_from(
    source: Option<&imagespec_inputs::SourceInputs>,
    copy: Option<&imagespec_inputs::CopyInputs>,
) -> Result<Tree> {
    let mut files: Vec<(String, Entry)> = Vec::new();
    let mut sources = BTreeMap::new();
    let mut dirs = Vec::new();
    let mut add = |image_path: String, path: &Path, hash: String| -> Result<()> {
        use std::os::unix::fs::MetadataExt as _;
        let meta = std::fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
        let mode = meta.mode() & 0o7777;
        files.push((image_path.clone(), Entry::File { hash, mode }));
        sources.insert(
            image_path,
            Source {
                path: path.to_path_buf(),
                mode,
                mtime: meta.mtime().max(0) as u64,
            },
        );
        Ok(())
    };
    if let Some(source) = source {
        for (f, hash) in source.files.iter().zip(&source.hashes) {
            add(format!("root/{}", f.rel), &f.path, hash.clone())?;
        }
    }
    if let Some(copy) = copy {
        let context = copy.context.as_ref().map_err(|e| Error::Spec(e.clone()))?;
        let known: BTreeMap<&Path, &String> = copy
            .digested
            .iter()
            .map(|f| f.path.as_path())
            .zip(&copy.hashes)
            .collect();
        for f in &context.files {
            let hash = match known.get(f.path.as_path()) {
                Some(h) => (*h).clone(),
                None => imagespec_inputs::hash_files(&[f])?.remove(0),
            };
            add(format!("root/{}", f.rel), &f.path, hash)?;
        }
        dirs.extend(context.dirs.iter().map(|d| format!("root/{d}")));
    }
    let mut tree = layer::tree(&files);
    for d in dirs {
        tree.entry(d).or_insert(Entry::Dir);
    }
    Ok((tree, sources))
}

/// One platform's image of the earlier push.
#[derive(Debug, Clone)]
struct PlatformImage {
    /// Its manifest.
    manifest: Value,
    media_type: String,
    /// Its config.
    config: Value,
    /// Its descriptor in the index, if the earlier push was one.
    descriptor: Option<Value>,
}

/// What a push will do.
#[derive(Debug)]
pub struct Plan {
    earlier: PushRecord,
    images: Vec<PlatformImage>,
    /// The index of the earlier push (its other entries are dropped:
    /// attestations of the earlier images).
    index: Option<(String, Value)>,
    tree: BTreeMap<String, Entry>,
    sources: BTreeMap<String, Source>,
    change: layer::Change,
    /// A full layer replaces the source layers.
    full: bool,
}

impl Plan {
    /// For `--dry-run`: what it would do.
    pub fn describe(&self) -> String {
        let files = self
            .change
            .write
            .iter()
            .filter(|p| self.sources.contains_key(*p))
            .count();
        match self.full {
            true => format!(
                "would push the source without an engine: one full source layer of {} file(s) replaces {} layer(s)",
                self.sources.len(),
                self.earlier.source_layers
            ),
            false => format!(
                "would push the source change without an engine: {files} file(s) written, {} path(s) removed, on top of {}",
                self.change.whiteout.len(),
                self.earlier.image
            ),
        }
    }
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The new manifest (or index) digest.
    pub digest: String,
    /// Bytes sent to the registry.
    pub uploaded: u64,
    /// Layers of the earlier image the new one keeps.
    pub layers_reused: usize,
}

/// Whether the source push can make `job`'s image, and how; `Err(why)`:
/// the engine builds it, for this reason.
pub async fn plan(
    store: &dyn ImageStore,
    options: &SourcePush,
    job: &BuildJob,
    platforms: &[String],
) -> std::result::Result<Plan, String> {
    let spec = &job.spec;
    if !spec.commands().is_empty() {
        return Err("its `commands` run after the source is copied".into());
    }
    if job.inputs.source.is_none() && job.inputs.copy.is_none() {
        return Err("it copies no source and no `copy` files".into());
    }
    let (earlier, shared) = match read_record(&record_path(&options.records, job, platforms)) {
        Some(record) => (record, false),
        None => match &options.shared_tag {
            Some(tag) => (shared_record(store, job, tag).await?, true),
            None => return Err("imagespec has pushed no image of this spec from here".into()),
        },
    };
    tracing::debug!(
        entries = earlier.entries.len(),
        "source push: the record read"
    );
    let tree = tree_in_background(job);
    if earlier.id != job.identity.id {
        return Err("the record of the earlier image is of another spec".into());
    }
    let repo = repository(&job.identity.image_name);
    if repository(&earlier.image) != repo {
        return Err("the earlier image is in another repository".into());
    }
    let earlier_image = earlier.image.clone();
    let cannot = |what: &str, e: String| format!("the earlier image {earlier_image} {what}: {e}");
    let pinned = format!("{repo}@{}", earlier.digest);
    let top = store
        .manifest(&pinned)
        .await
        .map_err(|e| cannot("cannot be read", e.to_string()))?;
    let top_json: Value = serde_json::from_slice(&top.bytes)
        .map_err(|e| cannot("has no JSON manifest", e.to_string()))?;
    let media_type = media_type_of(&top.media_type, &top_json);
    let mut images = Vec::new();
    let index = match media_type.as_str() {
        OCI_INDEX | DOCKER_LIST => {
            for d in top_json["manifests"].as_array().into_iter().flatten() {
                if is_attestation(d) {
                    continue;
                }
                let digest = d["digest"].as_str().unwrap_or_default();
                let m = store
                    .manifest(&format!("{repo}@{digest}"))
                    .await
                    .map_err(|e| cannot("cannot be read", e.to_string()))?;
                let json: Value = serde_json::from_slice(&m.bytes)
                    .map_err(|e| cannot("has no JSON manifest", e.to_string()))?;
                let mt = media_type_of(&m.media_type, &json);
                images.push((json, mt, Some(d.clone())));
            }
            Some((media_type.clone(), top_json))
        }
        _ => {
            images.push((top_json, media_type.clone(), None));
            None
        }
    };
    if images.is_empty() {
        return Err(cannot("holds", "no image".into()));
    }
    let new_record = TagRecord::of(job).map_err(|e| e.to_string())?;
    let mut platform_images = Vec::new();
    for (manifest, media_type, descriptor) in images {
        let config_digest = manifest["config"]["digest"].as_str().unwrap_or_default();
        let config_bytes = store
            .blob(repo, config_digest, MAX_JSON_BYTES)
            .await
            .map_err(|e| cannot("has no readable config", e.to_string()))?;
        let config: Value = serde_json::from_slice(&config_bytes)
            .map_err(|e| cannot("has no JSON config", e.to_string()))?;
        let label = config["config"]["Labels"][INPUTS_LABEL]
            .as_str()
            .ok_or_else(|| cannot("has no", format!("{INPUTS_LABEL} label")))?;
        let old = TagRecord::from_label(label).map_err(|e| cannot("has a label", e.to_string()))?;
        // A shared build is any spec's of the repository: its id (the image's
        // `_F_IMG_ID`) must be this spec's too.
        if shared && image_id(&config) != Some(job.identity.id.as_str()) {
            return Err(cannot(
                "is another spec's",
                format!("its _F_IMG_ID is not {}", job.identity.id),
            ));
        }
        if let Some(field) = changed_field(&old, &new_record) {
            return Err(format!(
                "`{field}` changed since the earlier image (only a source or `copy` change is pushed without an engine)"
            ));
        }
        let layers = manifest["layers"].as_array().map_or(0, Vec::len);
        if layers < earlier.source_layers as usize + 1 {
            return Err(cannot("has", "fewer layers than its record".into()));
        }
        platform_images.push(PlatformImage {
            manifest,
            media_type,
            config,
            descriptor,
        });
    }
    // The owner `COPY --chown` gave the files, and /root's own mode and
    // owner, read from the earlier image's source layer (its first entries)
    // the first time: a layer applier would give /root and the folders an
    // entry lands in its own defaults, unless the layer says them.
    let mut earlier = earlier;
    if earlier.owner.is_none() || earlier.root.is_none() {
        let first = &platform_images[0];
        let layers = first.manifest["layers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let source_layer = &layers[layers.len() - earlier.source_layers as usize];
        let digest = source_layer["digest"].as_str().unwrap_or_default();
        let start = store
            .blob_start(repo, digest, LAYER_START)
            .await
            .map_err(|e| cannot("has a source layer that cannot be read", e.to_string()))?;
        earlier.owner = earlier.owner.or_else(|| layer::owner_of(&start));
        earlier.root = earlier.root.or_else(|| layer::root_of(&start));
    }
    if earlier.owner.is_none() || earlier.root.is_none() {
        return Err(cannot(
            "has a source layer",
            "that does not say the owner of /root and its files".into(),
        ));
    }
    tracing::debug!(earlier = %earlier.image, "source push: the earlier image read");
    let (tree, sources) = tree
        .await
        .map_err(|e| format!("listing the image's files failed: {e}"))?
        .map_err(|e| e.to_string())?;
    tracing::debug!(entries = tree.len(), "source push: the image's tree listed");
    // From a shared build, whose files imagespec did not record: the whole
    // source layer is replaced.
    let full = shared || earlier.source_layers > options.max_layers.max(1);
    let change = match full {
        true => layer::change(&BTreeMap::new(), &tree),
        false => layer::change(&earlier.entries, &tree),
    };
    if change.is_empty() {
        return Err("its files are those of the earlier image".into());
    }
    Ok(Plan {
        earlier,
        images: platform_images,
        index,
        tree,
        sources,
        change,
        full,
    })
}

/// The earlier image when the registry's shared build is taken for it: its
/// digest, under `tag` in the spec's repository; its files unknown, in one
/// layer (its last: an engine built it, the source copied last).
async fn shared_record(
    store: &dyn ImageStore,
    job: &BuildJob,
    tag: &str,
) -> std::result::Result<PushRecord, String> {
    let shared = format!("{}:{tag}", repository(&job.identity.image_name));
    let top = store.manifest(&shared).await.map_err(|e| {
        format!("imagespec has pushed no image of this spec from here, and the registry's shared build {shared} cannot be read: {e}")
    })?;
    tracing::debug!(image = %shared, digest = %top.digest, "source push: starting from the shared build");
    Ok(PushRecord {
        image: shared,
        digest: top.digest,
        id: job.identity.id.clone(),
        entries: BTreeMap::new(),
        source_layers: 1,
        owner: None,
        root: None,
    })
}

/// The `_F_IMG_ID` an image's config sets.
fn image_id(config: &Value) -> Option<&str> {
    config["config"]["Env"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|e| e.strip_prefix("_F_IMG_ID="))
}

/// The field of the tag's dict, other than the source and `copy` digests,
/// that differs between two records (a changed requirement or base is one).
fn changed_field(old: &TagRecord, new: &TagRecord) -> Option<String> {
    let ignored = |f: &str| f == "source_root" || f == "copy";
    let a: Vec<_> = old.fields.iter().filter(|(f, _)| !ignored(f)).collect();
    let b: Vec<_> = new.fields.iter().filter(|(f, _)| !ignored(f)).collect();
    if a == b {
        return None;
    }
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            return Some(y.0.clone());
        }
    }
    Some(match b.len() > a.len() {
        true => b[a.len()].0.clone(),
        false => a[b.len()].0.clone(),
    })
}

fn media_type_of(served: &str, json: &Value) -> String {
    match json["mediaType"].as_str() {
        Some(mt) => mt.to_string(),
        None => served
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

fn is_attestation(descriptor: &Value) -> bool {
    descriptor["annotations"]["vnd.docker.reference.type"].as_str() == Some("attestation-manifest")
        || descriptor["platform"]["os"].as_str() == Some("unknown")
}

/// Pushes the plan: the layer, each platform's config and manifest, then
/// the tag.
pub async fn push(
    store: &dyn ImageStore,
    options: &SourcePush,
    job: &BuildJob,
    platforms: &[String],
    plan: Plan,
) -> Result<Pushed> {
    let image = &job.identity.image_name;
    let repo = repository(image);
    let earlier = plan.earlier;
    let (Some((uid, gid)), Some(root)) = (earlier.owner, earlier.root) else {
        return Err(Error::Other(format!(
            "internal: the owner of {}'s files was not read",
            earlier.image
        )));
    };
    let stamp = Stamp {
        uid,
        gid,
        epoch: options.epoch,
    };
    let written = match plan.full {
        true => layer::write_full(&plan.tree, &plan.sources, stamp, root)?,
        false => layer::write(&plan.change, &plan.tree, &plan.sources, stamp, root)?,
    };
    tracing::debug!(
        bytes = written.blob.len(),
        full = plan.full,
        "source push: layer written"
    );
    let created = match options.epoch {
        Some(e) => e,
        None => plan.sources.values().map(|s| s.mtime).max().unwrap_or(0),
    };
    let created = rfc3339(created);
    let label = TagRecord::of(job)?.to_label()?;
    // Every platform's config and manifest first; then the layer and the
    // configs go up together.
    let mut layers_reused = 0;
    let mut pushed_manifests = Vec::new();
    let mut configs = Vec::new();
    for pi in &plan.images {
        let drop = match plan.full {
            true => earlier.source_layers as usize,
            false => 0,
        };
        let (manifest, config) = next_image(pi, drop, &written, &created, &label, media_layer(pi))?;
        layers_reused = manifest["layers"].as_array().map_or(0, Vec::len) - 1;
        let config_bytes = serde_json::to_vec(&config)
            .map_err(|e| Error::Other(format!("cannot write the config: {e}")))?;
        let config_digest = format!("sha256:{}", hex::encode(Sha256::digest(&config_bytes)));
        let mut manifest = manifest;
        manifest["config"]["digest"] = json!(config_digest);
        manifest["config"]["size"] = json!(config_bytes.len());
        let bytes = serde_json::to_vec(&manifest)
            .map_err(|e| Error::Other(format!("cannot write the manifest: {e}")))?;
        pushed_manifests.push((pi, bytes));
        configs.push((config_digest, config_bytes));
    }
    let mut blobs = vec![(written.digest.as_str(), written.blob.as_slice())];
    blobs.extend(configs.iter().map(|(d, b)| (d.as_str(), b.as_slice())));
    // The same config on two platforms is sent once.
    let mut seen = std::collections::BTreeSet::new();
    blobs.retain(|(digest, _)| seen.insert(*digest));
    let sent = futures_util::future::try_join_all(
        blobs
            .iter()
            .map(|(digest, bytes)| store.push_blob(image, digest, bytes, None)),
    )
    .await?;
    let mut uploaded: u64 = sent.iter().map(|u| u.bytes()).sum();
    tracing::debug!(uploaded, "source push: blobs sent");
    let digest = match &plan.index {
        None => {
            let (pi, bytes) = &pushed_manifests[0];
            uploaded += bytes.len() as u64;
            store.push_manifest(image, &pi.media_type, bytes).await?
        }
        Some((index_type, index)) => {
            let mut entries = Vec::new();
            for (pi, bytes) in &pushed_manifests {
                let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
                uploaded += bytes.len() as u64;
                store
                    .push_manifest(&format!("{repo}@{digest}"), &pi.media_type, bytes)
                    .await?;
                let mut d = pi.descriptor.clone().unwrap_or_else(|| json!({}));
                d["mediaType"] = json!(pi.media_type);
                d["digest"] = json!(digest);
                d["size"] = json!(bytes.len());
                entries.push(d);
            }
            let mut index = index.clone();
            index["manifests"] = Value::Array(entries);
            let bytes = serde_json::to_vec(&index)
                .map_err(|e| Error::Other(format!("cannot write the index: {e}")))?;
            uploaded += bytes.len() as u64;
            store.push_manifest(image, index_type, &bytes).await?
        }
    };
    let record = PushRecord {
        image: image.clone(),
        digest: digest.clone(),
        id: job.identity.id.clone(),
        entries: plan.tree,
        source_layers: match plan.full {
            true => 1,
            false => earlier.source_layers + 1,
        },
        owner: earlier.owner,
        root: earlier.root,
    };
    tracing::debug!(%digest, "source push: manifest sent");
    remember(options, job, platforms, &record);
    tracing::debug!("source push: remembered");
    Ok(Pushed {
        digest,
        uploaded,
        layers_reused,
    })
}

/// The media type of a new gzip layer beside the earlier image's.
fn media_layer(pi: &PlatformImage) -> &'static str {
    match pi.media_type.as_str() {
        OCI_MANIFEST => OCI_LAYER_GZIP,
        _ => DOCKER_LAYER_GZIP,
    }
}

/// The earlier image with the layer on top (after dropping its last `drop`
/// layers), its config's diff ids, history, label and `created` to match.
fn next_image(
    pi: &PlatformImage,
    drop: usize,
    layer: &layer::Layer,
    created: &str,
    label: &str,
    layer_media_type: &str,
) -> Result<(Value, Value)> {
    let mut manifest = pi.manifest.clone();
    let mut config = pi.config.clone();
    let bad = |what: &str| Error::Other(format!("the earlier image's {what} is not as expected"));
    {
        let layers = manifest["layers"]
            .as_array_mut()
            .ok_or_else(|| bad("manifest"))?;
        let keep = layers
            .len()
            .checked_sub(drop)
            .ok_or_else(|| bad("manifest"))?;
        layers.truncate(keep);
        layers.push(json!({
            "mediaType": layer_media_type,
            "digest": layer.digest,
            "size": layer.blob.len(),
        }));
    }
    {
        let diff_ids = config["rootfs"]["diff_ids"]
            .as_array_mut()
            .ok_or_else(|| bad("config"))?;
        let keep = diff_ids
            .len()
            .checked_sub(drop)
            .ok_or_else(|| bad("config"))?;
        diff_ids.truncate(keep);
        diff_ids.push(json!(layer.diff_id));
    }
    if let Some(history) = config["history"].as_array_mut() {
        // Drop the history of the dropped layers (entries that made one).
        let mut to_drop = drop;
        let mut i = history.len();
        while to_drop > 0 && i > 0 {
            i -= 1;
            if history[i]["empty_layer"].as_bool() != Some(true) {
                history.remove(i);
                to_drop -= 1;
            }
        }
        history.push(json!({
            "created": created,
            "created_by": "COPY --chown=flytekit ./src /root # imagespec: the source, pushed without an engine",
            "comment": "imagespec",
        }));
    }
    config["created"] = json!(created);
    config["config"]["Labels"][INPUTS_LABEL] = json!(label);
    // BuildKit's inline cache describes the earlier image's layers, not these.
    if let Some(c) = config.as_object_mut() {
        c.remove("moby.buildkit.cache.v0");
    }
    Ok((manifest, config))
}

/// Seconds since the epoch as RFC 3339 (UTC).
fn rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}

/// The record of an image an engine built and pushed: its files are the
/// job's, in one layer (its last).
pub fn record_engine_push(job: &BuildJob, digest: &str) -> Result<PushRecord> {
    let (entries, _) = tree_of(job)?;
    Ok(PushRecord {
        image: job.identity.image_name.clone(),
        digest: digest.to_string(),
        id: job.identity.id.clone(),
        entries,
        source_layers: 1,
        owner: None,
        root: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> PlatformImage {
        PlatformImage {
            manifest: json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:c0", "size": 1},
                "layers": [
                    {"mediaType": OCI_LAYER_GZIP, "digest": "sha256:base", "size": 10},
                    {"mediaType": OCI_LAYER_GZIP, "digest": "sha256:src", "size": 20},
                ],
            }),
            media_type: OCI_MANIFEST.into(),
            config: json!({
                "created": "2020-01-01T00:00:00Z",
                "config": {"Env": ["A=1"], "Labels": {"other": "kept"}},
                "rootfs": {"type": "layers", "diff_ids": ["sha256:d-base", "sha256:d-src"]},
                "history": [
                    {"created_by": "FROM"},
                    {"created_by": "COPY ./src /root"},
                    {"created_by": "ENV _F_IMG_ID=x", "empty_layer": true},
                ],
            }),
            descriptor: None,
        }
    }

    fn layer() -> layer::Layer {
        layer::Layer {
            blob: vec![1, 2, 3],
            digest: "sha256:new".into(),
            diff_id: "sha256:d-new".into(),
        }
    }

    #[test]
    fn buildkits_inline_cache_of_the_earlier_image_is_not_carried_over() {
        let mut earlier = image();
        earlier.config["moby.buildkit.cache.v0"] = json!("e30=");
        let (_, c) = next_image(
            &earlier,
            1,
            &layer(),
            "2024-01-01T00:00:00Z",
            "v1.x",
            OCI_LAYER_GZIP,
        )
        .unwrap();
        assert!(c.get("moby.buildkit.cache.v0").is_none(), "{c}");
        assert_eq!(c["config"]["Labels"]["other"], "kept");
    }

    #[test]
    fn the_id_of_a_shared_build_is_read_from_its_env() {
        let config = json!({"config": {"Env": ["PATH=/bin", "_F_IMG_ID=abc"]}});
        assert_eq!(image_id(&config), Some("abc"));
        assert_eq!(image_id(&json!({"config": {"Env": ["A=1"]}})), None);
        assert_eq!(image_id(&json!({"config": {}})), None);
    }

    #[test]
    fn a_change_layer_goes_on_top_and_a_full_one_replaces_the_source_layers() {
        let (m, c) = next_image(
            &image(),
            0,
            &layer(),
            "2024-01-01T00:00:00Z",
            "v1.x",
            OCI_LAYER_GZIP,
        )
        .unwrap();
        let digests: Vec<&str> = m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap())
            .collect();
        assert_eq!(digests, ["sha256:base", "sha256:src", "sha256:new"]);
        assert_eq!(c["rootfs"]["diff_ids"][2], "sha256:d-new");
        assert_eq!(c["history"].as_array().unwrap().len(), 4);
        assert_eq!(c["config"]["Labels"][INPUTS_LABEL], "v1.x");
        assert_eq!(c["config"]["Labels"]["other"], "kept");
        assert_eq!(c["config"]["Env"][0], "A=1");
        assert_eq!(c["created"], "2024-01-01T00:00:00Z");

        let (m, c) = next_image(
            &image(),
            1,
            &layer(),
            "2024-01-01T00:00:00Z",
            "v1.x",
            OCI_LAYER_GZIP,
        )
        .unwrap();
        let digests: Vec<&str> = m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap())
            .collect();
        assert_eq!(
            digests,
            ["sha256:base", "sha256:new"],
            "the source layer replaced"
        );
        assert_eq!(c["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
        let history: Vec<&str> = c["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["created_by"].as_str().unwrap())
            .collect();
        assert_eq!(
            history[..2],
            ["FROM", "ENV _F_IMG_ID=x"],
            "the COPY's history goes, the ENV's stays"
        );
    }

    #[test]
    fn only_a_change_beside_the_source_and_copy_is_a_changed_field() {
        let record = |fields: &[(&str, &str)]| TagRecord {
            v: 1,
            id: "i".into(),
            tag: "t".into(),
            image_name: "n:t".into(),
            fields: fields
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            requirements: None,
            source: None,
            copy: None,
            base: None,
            keys: Default::default(),
            values: Default::default(),
        };
        let old = record(&[
            ("name", "1"),
            ("source_root", "a"),
            ("copy", "c"),
            ("requirements", "r"),
        ]);
        let source_only = record(&[
            ("name", "1"),
            ("source_root", "b"),
            ("copy", "d"),
            ("requirements", "r"),
        ]);
        assert_eq!(changed_field(&old, &source_only), None);
        let reqs = record(&[
            ("name", "1"),
            ("source_root", "b"),
            ("copy", "d"),
            ("requirements", "r2"),
        ]);
        assert_eq!(changed_field(&old, &reqs).as_deref(), Some("requirements"));
        let more = record(&[
            ("name", "1"),
            ("source_root", "a"),
            ("copy", "c"),
            ("requirements", "r"),
            ("commands", "x"),
        ]);
        assert_eq!(changed_field(&old, &more).as_deref(), Some("commands"));
    }

    #[test]
    fn attestations_are_not_images() {
        assert!(is_attestation(
            &json!({"platform": {"os": "unknown", "architecture": "unknown"}})
        ));
        assert!(is_attestation(
            &json!({"annotations": {"vnd.docker.reference.type": "attestation-manifest"}, "platform": {"os": "linux"}})
        ));
        assert!(!is_attestation(
            &json!({"platform": {"os": "linux", "architecture": "amd64"}})
        ));
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
