//! `id`, `tag` and `image_name`, byte-identical to flytekit 1.16's: a pure
//! function of a spec and its [`Inputs`].
//!
//! flytekit hashes `str(d)`, where `d` is the dict of the spec's non-`None`
//! fields in declaration order (without `pip_secret_mounts`, `builder` and
//! `runtime_packages`): md5, unpadded URL-safe base64. The `tag` first replaces
//! `source_root`, `copy` and `requirements` by digests of what they name and a
//! nested base spec by the name it was built as, and drops `registry_config`;
//! then it turns `-` into `_` and applies `tag_format`.

use base64::Engine as _;
use md5::{Digest as _, Md5};
use serde::Serialize;

use imagespec_core::error::{Result, SpecError};
use imagespec_core::spec::{BaseImage, FieldRef, Hashed, ImageSpec, SpecRef, FIELDS};
use imagespec_inputs::Inputs;
use imagespec_pycompat::PyValue;

/// What a spec's name is made of, and the inputs that made it: the answer to
/// "why did my tag change?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// flytekit's `ImageSpec.id` of the spec as flytekit's engine builds it:
    /// a nested base replaced by the name it was built as. Written into the
    /// image as `_F_IMG_ID`.
    pub id: String,
    /// flytekit's `ImageSpec.id` of the spec as written: a nested base is
    /// hashed as the spec it is (`asdict` recurses). The same as `id` for a
    /// spec without a nested base.
    pub spec_id: String,
    /// flytekit's `ImageSpec.tag`.
    pub tag: String,
    /// `[registry/]name:tag`.
    pub image_name: String,
    /// The facts the tag hashed.
    pub inputs: TagInputs,
}

/// The file-derived values that replace paths before the tag is hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct TagInputs {
    /// md5 of the source files (copy mode `all` / `loaded_modules`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_digest: Option<String>,
    /// md5 of the `copy` entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_digest: Option<String>,
    /// sha1 of the requirements file, stripped of surrounding white space.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirements_sha1: Option<String>,
    /// The name a nested base spec was built as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_image: Option<String>,
    /// Exactly the text whose md5 is the id.
    pub id_text: String,
    /// Exactly the text whose md5 is the tag (before `-` → `_` and tag_format).
    pub tag_text: String,
}

/// Field values that replace the spec's own in the hashed dict.
#[derive(Default)]
struct Overrides {
    base_image: Option<String>,
    source_root: Option<String>,
    copy: Option<String>,
    requirements: Option<String>,
    drop_registry_config: bool,
}

impl Overrides {
    /// What the tag's dict replaces.
    fn of_tag(inputs: &TagInputs) -> Overrides {
        Overrides {
            base_image: inputs.base_image.clone(),
            source_root: inputs.source_digest.clone(),
            copy: inputs.copy_digest.clone(),
            requirements: inputs.requirements_sha1.clone(),
            drop_registry_config: true,
        }
    }
}

/// The entries of the dict the tag hashes, in its order: each field's name
/// and its entry as `tag_text` spells it (`'env': {'A': '1'}`), so that
/// `{` + the entries joined with `, ` + `}` is `tag_text`. `inputs`: the
/// identity's (for the digests and the base name).
pub fn tag_entries(spec: &ImageSpec, inputs: &TagInputs) -> Vec<(String, String)> {
    let PyValue::Dict(entries) = hash_dict(spec, &Overrides::of_tag(inputs)) else {
        unreachable!("hash_dict makes a dict");
    };
    entries
        .into_iter()
        .map(|(k, v)| {
            let name = match &k {
                PyValue::Str(name) => name.clone(),
                other => other.repr(),
            };
            (name, format!("{}: {}", k.repr(), v.repr()))
        })
        .collect()
}

fn s(v: &str) -> PyValue {
    PyValue::Str(v.to_string())
}

fn list(v: &[String]) -> PyValue {
    PyValue::List(v.iter().map(|x| s(x)).collect())
}

/// A field's value as Python holds it.
fn py_of(value: FieldRef<'_>) -> PyValue {
    match value {
        FieldRef::Str(v) => s(v),
        FieldRef::StrList(v) => list(v),
        FieldRef::Py(v) => v.clone(),
        FieldRef::Dict(d) => PyValue::Dict(d.clone()),
        FieldRef::BaseImage(BaseImage::Name(name)) => s(name),
        FieldRef::BaseImage(BaseImage::Spec(nested)) => hash_dict(nested, &Overrides::default()),
        FieldRef::SecretMounts(mounts) => PyValue::List(
            mounts
                .iter()
                .map(|m| PyValue::Tuple(vec![s(&m.src), s(&m.dst)]))
                .collect(),
        ),
    }
}

/// The dict flytekit hashes (`asdict(spec)` without the fields it drops,
/// `None` values left out), as a Python value: the field table's order, each
/// field as the table says the hash sees it.
fn hash_dict(spec: &ImageSpec, o: &Overrides) -> PyValue {
    let mut d: Vec<(PyValue, PyValue)> = Vec::new();
    for field in FIELDS {
        let value = spec.field(field.name);
        let replaced = match field.hashed {
            Hashed::Excluded => continue,
            Hashed::IdOnly if o.drop_registry_config => continue,
            Hashed::Value | Hashed::IdOnly => None,
            Hashed::SourceDigest => o.source_root.as_deref(),
            Hashed::CopyDigest => o.copy.as_deref(),
            Hashed::RequirementsDigest => o.requirements.as_deref(),
            Hashed::BaseImageName => o.base_image.as_deref(),
        };
        let entry = match (replaced, value) {
            (Some(text), _) => s(text),
            (None, Some(v)) => py_of(v),
            (None, None) => continue,
        };
        d.push((s(field.name), entry));
    }
    PyValue::Dict(d)
}

/// md5 → unpadded URL-safe base64, as flytekit's `id`.
fn md5_b64(text: &str) -> String {
    let digest = Md5::digest(text.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

impl Identity {
    /// Computes id, tag and image name from a spec and what its files hold.
    pub fn compute(spec: SpecRef<'_>, inputs: &Inputs) -> Result<Identity> {
        let base_name = match spec.base_image() {
            Some(BaseImage::Spec(_)) => inputs.base.as_ref().map(|b| b.name.clone()),
            _ => None,
        };
        let id_text = hash_dict(
            spec.spec,
            &Overrides {
                base_image: base_name.clone(),
                ..Overrides::default()
            },
        )
        .repr();
        let id = md5_b64(&id_text);
        let spec_id = match spec.base_image() {
            Some(BaseImage::Spec(_)) => {
                md5_b64(&hash_dict(spec.spec, &Overrides::default()).repr())
            }
            _ => id.clone(),
        };
        let inputs = TagInputs {
            base_image: base_name,
            source_digest: inputs.source.as_ref().map(|s| s.digest.clone()),
            copy_digest: inputs.copy.as_ref().map(|c| c.digest.clone()),
            requirements_sha1: inputs.requirements.as_ref().map(|r| r.sha1.clone()),
            ..TagInputs::default()
        };
        let tag_text = hash_dict(spec.spec, &Overrides::of_tag(&inputs)).repr();
        let spec_hash = md5_b64(&tag_text).replace('-', "_");
        let tag = match spec.tag_format() {
            Some(format) => format_tag(format, &spec_hash)?,
            None => spec_hash,
        };
        imagespec_core::spec::validate_tag(&tag)?;
        check_recorded(spec, &tag)?;
        let image_name = match spec.registry() {
            Some(registry) => format!("{registry}/{}:{tag}", spec.name()),
            None => format!("{}:{tag}", spec.name()),
        };
        Ok(Identity {
            id,
            spec_id,
            tag,
            image_name,
            inputs: TagInputs {
                id_text,
                tag_text,
                ..inputs
            },
        })
    }

    /// What changed between two identities of the same spec, for the user.
    pub fn changed_inputs(&self, after: &Identity) -> String {
        let (b, a) = (&self.inputs, &after.inputs);
        let mut what = Vec::new();
        if b.source_digest != a.source_digest {
            what.push("the files under source_root");
        }
        if b.copy_digest != a.copy_digest {
            what.push("the files named by copy");
        }
        if b.requirements_sha1 != a.requirements_sha1 {
            what.push("the requirements file");
        }
        if b.base_image != a.base_image {
            what.push("the nested base image");
        }
        if what.is_empty() {
            "the spec's inputs changed".into()
        } else {
            format!("{} changed", what.join(", "))
        }
    }
}

/// A typed dump made after flytekit computed the spec's `tag` carries it
/// (a cached property), and flytekit would use it as it is. imagespec
/// computes the tag from the content instead, and refuses a dump whose
/// recorded tag differs: the image would not hold what its tag says. (A
/// recorded `id` is not compared: flytekit's `id` of a spec whose base is
/// still a nested ImageSpec hashes the whole base, while the `id` written
/// into the image is that of the spec with the base's name.)
fn check_recorded(spec: SpecRef<'_>, tag: &str) -> Result<()> {
    let Some(recorded) = spec.recorded_tag() else {
        return Ok(());
    };
    if recorded == tag {
        return Ok(());
    }
    Err(SpecError::field(
        "tag",
        format!(
            "image tag changed: the typed spec records the tag `{recorded}` (flytekit computed it), \
             but its content gives `{tag}`: the spec or its files changed after flytekit computed the tag. \
             Aborting, because the image would not hold what its tag says"
        ),
    )
    .hint("dump the spec again (yaml.dump(image_spec)) from the process that builds it, or drop the recorded `tag`")
    .into())
}

/// Python's `tag_format.format(spec_hash=hash)`.
pub fn format_tag(format: &str, hash: &str) -> Result<String> {
    imagespec_pycompat::format::format(format, "spec_hash", hash).map_err(|e| {
        SpecError::field("tag_format", format!("cannot format `{format}`: {}", e.message()))
            .hint("tag_format is a Python format string whose only field is `{spec_hash}`, e.g. `{spec_hash}-dev`")
            .into()
    })
}
