#!/usr/bin/env python3
"""Run real flytekit over many spec cases in one process (the live differential test).

Usage: PYTHON harness.py < cases.json > results.jsonl
  PYTHON is a python with flytekit==1.16.31 and pyyaml (`cargo xtask flytekit`
  makes one in target/flytekit-venv and prints its path).

stdin: a JSON list of cases, each
    {"dir": ABSOLUTE_CASE_DIR, "spec": "spec.yaml", "typed_dump": false}
stdout: one JSON object per case, one per line, in the order of the cases:
    dir, spec_file (the file the result was computed from: spec or typed.yaml),
    flytekit_version, default_python, path ("pyflyte" | "to_spec" | "typed"),
    id, tag, image_name, pyflyte_image, context_files {path: sha256},
    dockerfile, requirements_uv (full texts), warnings,
    and on failure "error": "Type: message" with "stage": load | pyflyte | id |
    tag | context | guard (the fields computed before the failure stay).
Anything flytekit prints goes to stderr.

flytekit is imported once. For each case, with the case folder as the working
folder (flytekit resolves relative paths against it):

- A plain spec goes through pyflyte's own entry point,
  `flytekit.configuration.Image.look_up_image_info("default", spec)`, with
  `ImageBuildEngine.build` replaced by a stub that records the ImageSpec it is
  given (a copy taken before anything is computed on it); nothing runs
  docker. Whether the spec's builders (its nested bases' too) are registered
  in this flytekit, which the real `build` checks first, is reported as
  "unregistered_builders" and is not an error: builders are plugins (envd is
  one), and the oracle records names for them.
- A spec that uses one of imagespec's two extensions (a mapping `base_image`,
  `pip_secret_mounts` as [src, dst] lists) is built as the oracle's
  generate.py `to_spec` builds it (the Python API's form). A text holding
  `!!python/` is read with yaml.unsafe_load, as generate.py does.
- With "typed_dump", the ImageSpec built as above is written with
  `yaml.dump(spec)` (PyYAML's default dumper) to typed.yaml in the case folder
  before anything is computed on it, read back with yaml.unsafe_load, and the
  result is computed from that object.

Then, as generate.py: a nested ImageSpec base is replaced by its image_name();
id, tag, image_name; create_docker_context into a temporary folder (every
file's sha256, the text of Dockerfile and requirements_uv.txt); warnings; and
DefaultImageBuilder._build_image's guard (the tag recomputed after the context
is written must not change).

The harness imports nothing from the case folders, and refuses a case whose
absolute source_root holds this file (flytekit's loaded_modules mode hashes
the modules the process loaded from under source_root).
"""
import copy
import hashlib
import json
import os
import sys
import tempfile
import traceback
import warnings
from pathlib import Path

HARNESS = os.path.realpath(__file__)


class HarnessMisuse(Exception):
    """A case the harness must not run (reported as a harness error, not as flytekit's)."""


class StageError(Exception):
    def __init__(self, stage, exc):
        super().__init__(str(exc))
        self.stage = stage
        self.exc = exc


def describe(exc):
    return f"{type(exc).__name__}: {exc}"


def main():
    real_stdout = sys.stdout
    # flytekit and click may print; only results go to the real stdout.
    sys.stdout = sys.stderr
    cases = json.load(sys.stdin)

    import yaml
    import flytekit
    from flytekit.configuration import Image
    from flytekit.image_spec import ImageSpec
    from flytekit.image_spec.image_spec import ImageBuildEngine
    from flytekit.image_spec.default_builder import create_docker_context

    env = {
        "yaml": yaml,
        "Image": Image,
        "ImageSpec": ImageSpec,
        "ImageBuildEngine": ImageBuildEngine,
        "create_docker_context": create_docker_context,
        "common": {
            "flytekit_version": flytekit.__version__,
            "default_python": f"{sys.version_info.major}.{sys.version_info.minor}",
        },
    }
    for case in cases:
        try:
            result = run_case(case, env)
        except BaseException as e:  # a harness bug: report it, go on
            if isinstance(e, KeyboardInterrupt):
                raise
            result = {
                "dir": case.get("dir"),
                "harness_error": describe(e) + "\n" + traceback.format_exc(),
            }
        real_stdout.write(json.dumps(result) + "\n")
        real_stdout.flush()


def to_spec(d, ImageSpec):
    """generate.py's to_spec: a plain mapping with the two imagespec extensions."""
    if isinstance(d, ImageSpec):
        return d
    d = dict(d)
    if d.get("pip_secret_mounts") and all(isinstance(p, list) for p in d["pip_secret_mounts"]):
        d["pip_secret_mounts"] = [tuple(pair) for pair in d["pip_secret_mounts"]]
    if isinstance(d.get("base_image"), dict):
        d["base_image"] = to_spec(d["base_image"], ImageSpec)
    return ImageSpec(**d)


def uses_extension(raw):
    """True for a mapping with a mapping base_image or [src, dst] secret pairs."""
    if not isinstance(raw, dict):
        return False
    if isinstance(raw.get("base_image"), dict):
        return True
    mounts = raw.get("pip_secret_mounts")
    return bool(mounts) and isinstance(mounts, list) and all(isinstance(p, list) for p in mounts)


def load_spec(spec_name, env):
    """The ImageSpec for the spec file in the working folder, and how it was made."""
    yaml, ImageSpec = env["yaml"], env["ImageSpec"]
    text = Path(spec_name).read_text()
    typed_text = "!!python/" in text
    if typed_text:
        raw = yaml.unsafe_load(text)
    else:
        raw = yaml.safe_load(text)
    if typed_text or uses_extension(raw):
        path = "typed" if isinstance(raw, ImageSpec) else "to_spec"
        try:
            spec = to_spec(raw, ImageSpec)
        except Exception as e:
            raise StageError("load", e)
        return spec, path, None

    # pyflyte's own entry point, with the build stubbed out.
    Image, Engine = env["Image"], env["ImageBuildEngine"]
    recorded = []

    def stub(cls, image_spec):
        recorded.append(copy.deepcopy(image_spec))

    saved = Engine.__dict__["build"]
    Engine.build = classmethod(stub)
    try:
        image = Image.look_up_image_info("default", spec_name)
    except Exception as e:
        if not recorded:
            raise StageError("load", e)
        # The spec was made; the failure came after (the tag, or parsing the
        # name): computing below meets it at its stage, or reports it.
        return recorded[0], "pyflyte", e
    finally:
        Engine.build = saved
    if not recorded:
        raise StageError("load", RuntimeError(f"pyflyte did not read {spec_name} as a spec file"))
    pyflyte_image = image.fqn + (f":{image.tag}" if image.tag else "") + (f"@{image.digest}" if image.digest else "")
    return recorded[0], "pyflyte", pyflyte_image


def unregistered_builders(spec, env):
    """The builders ImageBuildEngine.build would not find (its first check)."""
    ImageSpec, Engine = env["ImageSpec"], env["ImageBuildEngine"]
    missing = []
    while isinstance(spec, ImageSpec):
        if spec.builder not in Engine.get_registry():
            missing.append(repr(spec.builder))
        spec = spec.base_image
    return missing


def guard_source_root(spec, env):
    ImageSpec = env["ImageSpec"]
    while isinstance(spec, ImageSpec):
        root = spec.source_root
        if isinstance(root, str) and os.path.isabs(root):
            real = os.path.realpath(root)
            if os.path.commonpath([HARNESS, real]) == real:
                raise HarnessMisuse(f"the harness {HARNESS} is under source_root {root}")
        spec = spec.base_image


def run_case(case, env):
    yaml, ImageSpec = env["yaml"], env["ImageSpec"]
    create_docker_context = env["create_docker_context"]
    case_dir = Path(case["dir"])
    spec_name = case.get("spec", "spec.yaml")
    result = dict(env["common"])
    result["dir"] = str(case_dir)
    result["spec_file"] = spec_name
    old_cwd = os.getcwd()
    stage = "load"
    try:
        os.chdir(case_dir)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                spec, path, pyflyte = load_spec(spec_name, env)
                result["path"] = path
                if case.get("typed_dump"):
                    text = yaml.dump(spec)
                    Path("typed.yaml").write_text(text)
                    result["spec_file"] = "typed.yaml"
                    spec = yaml.unsafe_load(Path("typed.yaml").read_text())
                    result["path"] = "typed"
                guard_source_root(spec, env)
                missing = unregistered_builders(spec, env)
                if missing:
                    result["unregistered_builders"] = missing
                stage = "id"
                if isinstance(spec.base_image, ImageSpec):
                    # what ImageBuildEngine.build does before building a nested spec
                    spec.base_image = spec.base_image.image_name()
                result["id"] = spec.id
                stage = "tag"
                result["tag"] = spec.tag
                result["image_name"] = spec.image_name()
                if isinstance(pyflyte, Exception):
                    # flytekit computed the name, pyflyte still failed
                    raise StageError("pyflyte", pyflyte)
                if pyflyte is not None:
                    result["pyflyte_image"] = pyflyte
                stage = "context"
                with tempfile.TemporaryDirectory() as tmp:
                    ctx = Path(tmp)
                    initial_tag = spec.tag
                    create_docker_context(spec, ctx)
                    files = {}
                    for p in sorted(ctx.rglob("*")):
                        if p.is_file():
                            rel = p.relative_to(ctx).as_posix()
                            data = p.read_bytes()
                            files[rel] = hashlib.sha256(data).hexdigest()
                            if rel == "Dockerfile":
                                result["dockerfile"] = data.decode("utf-8", "replace")
                            elif rel == "requirements_uv.txt":
                                result["requirements_uv"] = data.decode("utf-8", "replace")
                    result["context_files"] = files
                    # DefaultImageBuilder._build_image's guard
                    stage = "guard"
                    del spec.tag
                    if spec.tag != initial_tag:
                        raise ValueError(
                            f"Hash-based image tag changed from {initial_tag} to {spec.tag} while creating the context,"
                            f"indicating the content has been modified. Aborting because image tag may not match what is built."
                        )
            finally:
                result["warnings"] = sorted({str(w.message) for w in caught})
    except HarnessMisuse:
        raise
    except StageError as e:
        result["error"] = describe(e.exc)
        result["stage"] = e.stage
    except Exception as e:
        result["error"] = describe(e)
        result["stage"] = stage
    finally:
        os.chdir(old_cwd)
    return result


if __name__ == "__main__":
    main()
