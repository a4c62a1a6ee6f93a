#!/usr/bin/env python3
"""End to end: flytekit 1.16.31 with the flytekitplugins-imagespec wheel.

Usage: PLUGIN_VENV_PYTHON plugin_e2e.py WORK_DIR
Environment: IMAGESPEC_E2E_REGISTRY, IMAGESPEC_E2E_PYTHON_IMAGE,
IMAGESPEC_E2E_UV_IMAGE, IMAGESPEC_DOCKER (the e2e environment's).

1. flytekit loads the plugin (entry point) and `imagespec` is the default builder.
2. ImageBuildEngine.build(ImageSpec(...)) builds and pushes through imagespec:
   the pushed image carries imagespec's `dev.imagespec.inputs` label.
3. flytekit's own default builder, asked for the same spec, finds the image
   (ImageSpec.exist() is True) and would not build it.
4. The image runs and holds the spec's packages, env and source.
5. Image.look_up_image_info with a spec.yaml (pyflyte run --image's path)
   builds through imagespec too, under the name flytekit computes.
Prints one line per step; exits non-zero at the first failure.
"""
import json
import os
import subprocess
import sys
from pathlib import Path


def step(text):
    print(f"ok: {text}", flush=True)


def docker(*args, check=True):
    out = subprocess.run([os.environ["IMAGESPEC_DOCKER"], *args], capture_output=True, text=True)
    if check and out.returncode != 0:
        raise SystemExit(f"docker {' '.join(args)} failed: {out.stderr}")
    return out


def label_of(image):
    docker("pull", image)
    out = docker("image", "inspect", image)
    labels = json.loads(out.stdout)[0]["Config"].get("Labels") or {}
    return labels.get("dev.imagespec.inputs")


def main():
    work = Path(sys.argv[1]).resolve()
    registry = os.environ["IMAGESPEC_E2E_REGISTRY"]
    base = os.environ["IMAGESPEC_E2E_PYTHON_IMAGE"]
    uv_image = os.environ["IMAGESPEC_E2E_UV_IMAGE"]
    marker = os.environ.get("PLUGIN_E2E_MARKER", "1")

    import flytekit  # noqa: F401  (loads the flytekit.plugins entry points)
    from flytekit.constants import CopyFileDetection
    from flytekit.image_spec.image_spec import ImageBuildEngine, ImageSpec

    registry_of = ImageBuildEngine.get_registry()
    assert "imagespec" in registry_of, f"the plugin did not register: {list(registry_of)}"
    top = max(registry_of, key=lambda n: registry_of[n][1])
    assert top == "imagespec", f"imagespec is not the default builder: {registry_of}"
    step("flytekit loaded the plugin; imagespec is the default builder")

    src = work / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "app.py").write_text(f"MARKER = {marker!r}\n")
    common = dict(
        registry=registry,
        base_image=base,
        python_exec="/usr/bin/python3",
        packages=["six"],
        env={"GREETING": "from the plugin", "MARKER": marker},
        source_root=str(src),
        source_copy_mode=CopyFileDetection.ALL,
        builder_config={"uv_image": uv_image, "micromamba_image": base},
    )
    spec = ImageSpec(name="plugin-e2e", **common)
    assert spec.builder == "imagespec", spec.builder
    name = spec.image_name()
    ImageBuildEngine.build(spec)
    assert label_of(name), f"{name} has no dev.imagespec.inputs label: imagespec did not build it"
    step(f"ImageBuildEngine.build built and pushed {name} through imagespec")

    again = ImageSpec(name="plugin-e2e", builder="default", **common)
    assert again.image_name() == name, (again.image_name(), name)
    assert again.exist() is True, f"flytekit's check does not find {name}: {again.exist()}"
    default = ImageBuildEngine._get_builder("default")
    assert default.should_build(again) is False, "flytekit's default builder would rebuild"
    step("flytekit's default builder finds the image and does not rebuild")

    run = docker(
        "run", "--rm", name, "python3", "-c",
        "import os, six, app; print(os.environ['GREETING'], app.MARKER, six.__name__)",
    )
    assert run.stdout.strip() == f"from the plugin {marker} six", run.stdout
    step("the image runs with the spec's packages, env and source")

    spec_yaml = work / "spec.yaml"
    spec_yaml.write_text(
        "name: plugin-e2e-yaml\n"
        f"registry: {registry}\n"
        f"base_image: {base}\n"
        "python_exec: /usr/bin/python3\n"
        "packages: [six]\n"
        f"env: {{MARKER: '{marker}'}}\n"
        "builder_config:\n"
        f"  uv_image: {uv_image}\n"
        f"  micromamba_image: {base}\n"
    )
    from flytekit.configuration import Image

    os.chdir(work)
    image = Image.look_up_image_info("default", str(spec_yaml))
    full = f"{image.fqn}:{image.tag}"
    import yaml

    with open(spec_yaml) as f:
        expected = ImageSpec(**yaml.safe_load(f)).image_name()
    assert full == expected, (full, expected)
    assert label_of(full), f"{full} was not built by imagespec"
    step(f"Image.look_up_image_info (pyflyte run --image spec.yaml) built {full} through imagespec")


if __name__ == "__main__":
    main()
