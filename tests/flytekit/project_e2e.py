#!/usr/bin/env python3
"""End to end: a Flyte project, built through flytekitplugins-imagespec by pyflyte.

Usage: PROJECT/.venv/bin/python project_e2e.py PROJECT TEMPLATE WORK

PROJECT is the project folder; its `.venv` (made by `cargo xtask`: flytekit
1.16.31 and the plugin's wheel) is kept, everything else in it is replaced
by a copy of TEMPLATE (tests/fixtures/projects/flyte-app), whose spec.yaml
gets its `${...}` values from the environment, and the folder becomes a git
repository, as a project is. WORK is a scratch folder outside the project.

Environment: IMAGESPEC_E2E_REGISTRY, IMAGESPEC_E2E_PYTHON_IMAGE,
IMAGESPEC_E2E_UV_IMAGE, IMAGESPEC_DOCKER (the e2e environment's) and
FLYTE_APP_MARKER (a value of this run, in every image's env, so that the
first run really builds).

From PROJECT, as a user would (`.venv/bin` first on PATH):

1. `pyflyte --pkgs workflows package -f --image spec.yaml` builds the task
   images (ImageBuildEngine) and the spec.yaml image (--image goes through
   Image.look_up_image_info, as `pyflyte run --image spec.yaml` does)
   through imagespec: one `imagespec: built and pushed NAME` line per image
   on stderr, each lint warning once, naming the user's file, nothing else.
2. The package registers each task with the image flytekit names.
3. Each pushed image carries imagespec's `dev.imagespec.inputs` label, and
   holds what its spec says (requirements, copy entry, source files, and
   neither the project's .venv nor pyflyte's package).
4. flytekit's default builder (`builder="default"`) finds each image by
   name: `exist()` is True and `should_build` is False.
5. The same `pyflyte package` again builds nothing: one
   `imagespec: found NAME` line per image.
6. `pyflyte build workflows/hello.py wf` finds the task images, and
   `pyflyte run --image spec.yaml workflows/hello.py wf` finds the
   spec.yaml image and runs the workflow locally: one
   `imagespec: found NAME` line per image.
7. With IMAGESPEC_PLUGIN_VERBOSE=1 (imagespec's whole log), each lint
   warning is still shown once.
8. A spec whose package does not exist fails: pyflyte exits non-zero and
   shows the build's log once, and the spec's lint warning once.

No output may name the plugin's temporary files (/tmp/flytekitplugins-imagespec-*).
Prints `ok: ...` per check; every failed check is listed at the end and
the exit status is 1.
"""

import dataclasses
import json
import os
import re
import shutil
import string
import subprocess
import sys
import tarfile
from pathlib import Path

TEMP_PREFIX = "flytekitplugins-imagespec-"
# Every image of the project: the task images and the spec.yaml one.
APP, SLIM, DEFAULT = "flyte-app", "flyte-app-slim", "flyte-app-default"
GREETING = "hello from the copy entry\n"
BUILT = re.compile(r"^imagespec: built and pushed (?P<name>\S+) \(\d+(\.\d+)?s\)$")
FOUND = re.compile(r"^imagespec: found (?P<name>\S+?); nothing to build$")
WARNING = re.compile(r"^warning: (?P<where>.+?): ImageSpec\(name='(?P<name>[^']*)'\): field `[^`]*` \[[a-z0-9-]+\]: ")

failures = []


def ok(text):
    print(f"ok: {text}", flush=True)


def check(condition, what, detail=""):
    """Records a failed check and goes on, so one run reports every failure."""
    if condition:
        ok(what)
    else:
        failures.append(f"{what}\n{detail}".rstrip())
        print(f"FAILED: {what}\n{detail}".rstrip(), flush=True)
    return condition


def fatal(what, detail=""):
    failures.append(what)
    print(f"FAILED: {what}\n{detail}".rstrip(), flush=True)
    finish()


def finish():
    if failures:
        print(f"\n{len(failures)} check(s) failed:", flush=True)
        for f in failures:
            # The details were printed where the check failed.
            print(f"- {f.splitlines()[0]}", flush=True)
        sys.exit(1)
    print("all checks passed", flush=True)
    sys.exit(0)


def docker(*args, check_rc=True):
    out = subprocess.run([os.environ["IMAGESPEC_DOCKER"], *args], capture_output=True, text=True)
    if check_rc and out.returncode != 0:
        fatal(f"docker {' '.join(args)} failed ({out.returncode})", out.stderr)
    return out


def label_of(image):
    docker("pull", "-q", image)
    out = docker("image", "inspect", image)
    labels = json.loads(out.stdout)[0]["Config"].get("Labels") or {}
    return labels.get("dev.imagespec.inputs")


# -- the project ------------------------------------------------------------


def prepare(project, template):
    """The template copied into the project folder, beside its .venv."""
    if not (project / ".venv" / "bin" / "pyflyte").is_file():
        fatal(f"{project}/.venv has no pyflyte: make it with `cargo xtask e2e test` (plugin::fresh_venv)")
    for child in project.iterdir():
        if child.name == ".venv":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    shutil.copytree(template, project, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    spec = project / "spec.yaml"
    spec.write_text(string.Template(spec.read_text()).substitute(os.environ))
    git = shutil.which("git")
    if git is None:
        fatal("git is not installed: the project must be a git repository (flytekit's GitIgnore asks git)")
    # A repository of its own: else git answers for the workspace's
    # repository, which ignores target/ and with it every file here.
    subprocess.run([git, "init", "-q", str(project)], check=True)


def user_env(project):
    """The environment of a user who activated the project's .venv."""
    env = dict(os.environ)
    for var in (
        "IMAGESPEC_BIN",
        "IMAGESPEC_LOG",
        "IMAGESPEC_PLUGIN_VERBOSE",
        "IMAGESPEC_PLUGIN_LINTS",
        "IMAGESPEC_PLUGIN_PRIORITY",
        "FLYTE_FORCE_PUSH_IMAGE_SPEC",
        "PYTHONPATH",
        "PYTHONHOME",
    ):
        env.pop(var, None)
    venv = project / ".venv"
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def pyflyte(project, *args, env=None):
    argv = [str(project / ".venv" / "bin" / "pyflyte"), *args]
    shown = "".join(f"{k}={v} " for k, v in (env or {}).items())
    print(f"$ cd {project} && {shown}pyflyte {' '.join(args)}", flush=True)
    env = {**user_env(project), **(env or {})}
    out = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True)
    out.shown = f"exit {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    return out


# -- what pyflyte printed -----------------------------------------------------


def parse_stderr(text):
    """stderr split into image lines, lint warnings (a `warning:` line and
    its indented continuation) and anything else."""
    images, warnings, other = [], [], []
    in_warning = False
    for line in text.splitlines():
        if line.startswith("imagespec: "):
            images.append(line)
            in_warning = False
        elif line.startswith("warning: "):
            warnings.append([line])
            in_warning = True
        elif line.startswith("  ") and in_warning:
            warnings[-1].append(line)
        else:
            other.append(line)
            in_warning = False
    return images, ["\n".join(w) for w in warnings], other


def spec_lines(project):
    """Where hello.py writes each ImageSpec(...): `workflows/hello.py:N`."""
    lines = (project / "workflows" / "hello.py").read_text().splitlines()
    return {f"workflows/hello.py:{i}" for i, line in enumerate(lines, 1) if "ImageSpec(" in line}


def check_output(run, project, what, expect, names):
    """One `imagespec: ` line per image (`expect`: BUILT or FOUND), with
    exactly `names`; each lint warning once, naming the user's file;
    nothing else on stderr; no temporary path."""
    images, warnings, other = parse_stderr(run.stderr)
    got = []
    for line in images:
        m = expect.match(line)
        check(m is not None, f"{what}: `{line}` says {'built and pushed' if expect is BUILT else 'found'}", run.shown)
        if m:
            got.append(m.group("name"))
    check(
        sorted(got) == sorted(names),
        f"{what}: one imagespec line per image ({len(names)})",
        f"expected {sorted(names)}, got {got}\n{run.shown}",
    )
    check(
        not other,
        f"{what}: stderr holds only the image lines and lint warnings (no progress, no log)",
        "other lines:\n" + "\n".join(other[:40]),
    )
    dupes = sorted({w for w in warnings if warnings.count(w) > 1})
    check(not dupes, f"{what}: each lint warning once", "\n".join(dupes))
    places = spec_lines(project) | {"spec.yaml"}
    for w in warnings:
        m = WARNING.match(w)
        check(
            m is not None and m.group("where") in places,
            f"{what}: warning points at the user's ImageSpec(...) or spec.yaml ({m.group('where') if m else '?'})",
            f"expected one of {sorted(places)}:\n{w}",
        )
    both = run.stdout + run.stderr
    check(TEMP_PREFIX not in both, f"{what}: no path of the plugin's temporary files", run.shown)
    check("imagespec: " not in run.stdout, f"{what}: stdout holds no image lines (they go to stderr)", run.stdout)


# -- what flytekit names --------------------------------------------------------


def flytekit_specs(project):
    """Each task's spec as pyflyte package serializes it, and spec.yaml's
    (as `--image spec.yaml` reads it), all with flytekit's default builder.
    Returns {task name: ImageSpec} and the spec.yaml ImageSpec."""
    import yaml
    from flytekit.configuration import FastSerializationSettings, ImageConfig, SerializationSettings
    from flytekit.core.python_auto_container import PythonAutoContainerTask, update_image_spec_copy_handling
    from flytekit.image_spec.image_spec import ImageSpec
    from flytekit.tools.module_loader import add_sys_path, just_load_modules

    os.chdir(project)
    # As pyflyte package loads the package (so the same modules are loaded
    # from the project folder, for LOADED_MODULES) and sets source_root.
    with add_sys_path(str(project)):
        just_load_modules(["workflows"])
    import workflows.hello as hello

    settings = SerializationSettings(
        image_config=ImageConfig.auto_default_image(),
        source_root=str(project),
        fast_serialization_settings=FastSerializationSettings(enabled=False, destination_dir="/root"),
    )
    tasks = {}
    for value in vars(hello).values():
        if isinstance(value, PythonAutoContainerTask) and isinstance(value.container_image, ImageSpec):
            spec = dataclasses.replace(value.container_image, builder="default")
            update_image_spec_copy_handling(spec, settings)
            tasks[value.name] = spec
    with open("spec.yaml") as f:
        default = ImageSpec(**{**yaml.safe_load(f), "builder": "default"})
    return tasks, default


def packaged_images(package):
    """{task name: image} of the tasks in a pyflyte package."""
    from flyteidl.admin.task_pb2 import TaskSpec

    images = {}
    with tarfile.open(package) as tar:
        for member in tar.getmembers():
            if member.name.endswith("_1.pb"):
                spec = TaskSpec.FromString(tar.extractfile(member).read())
                images[spec.template.id.name] = spec.template.container.image
    return images


# -- what the images hold ------------------------------------------------------------

PROBE = r"""
import importlib, json, os
files = []
for root, dirs, names in os.walk("/root"):
    rel = os.path.relpath(root, "/root")
    if rel == ".":
        dirs[:] = [d for d in dirs if d not in (".venv", ".cache")]
    files += [os.path.normpath(os.path.join(rel, n)) for n in names]
def can_import(name):
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        return False
print(json.dumps({
    "files": sorted(files),
    "greeting": open("/root/data/greeting.txt").read() if os.path.exists("/root/data/greeting.txt") else None,
    "six": can_import("six"),
    "marker": os.environ.get("MARKER"),
    # What only the project's .venv holds: the plugin and its binary.
    "project_venv": os.path.exists("/root/.venv/bin/imagespec") or can_import("flytekitplugins.imagespec"),
}))
"""


def probe(image):
    out = docker("run", "--rm", "--entrypoint", "python3", image, "-c", PROBE, check_rc=False)
    if out.returncode != 0:
        check(False, f"{image} runs python3", out.stdout + out.stderr)
        return None
    return json.loads(out.stdout)


LIST_ROOT = """
import os
for root, _, names in os.walk("/root"):
    for name in names:
        print(os.path.normpath(os.path.relpath(os.path.join(root, name), "/root")))
"""


def base_files():
    """The files the base image has in /root."""
    base = os.environ["IMAGESPEC_E2E_PYTHON_IMAGE"]
    out = docker("run", "--rm", "--entrypoint", "/usr/bin/python3", base, "-c", LIST_ROOT)
    return set(out.stdout.split())


BROKEN = """\
import os

from flytekit import ImageSpec, task

missing = ImageSpec(
    name="flyte-app-broken",
    registry=os.environ["IMAGESPEC_E2E_REGISTRY"],
    base_image=os.environ["IMAGESPEC_E2E_PYTHON_IMAGE"],
    python_exec="/usr/bin/python3",
    packages=["imagespec-e2e-no-such-package==0.0.1"],
    env={"MARKER": os.environ["FLYTE_APP_MARKER"]},
    builder_config={
        "uv_image": os.environ["IMAGESPEC_E2E_UV_IMAGE"],
        "micromamba_image": os.environ["IMAGESPEC_E2E_PYTHON_IMAGE"],
    },
)


@task(container_image=missing)
def nothing() -> None:
    pass
"""


# -- the steps ----------------------------------------------------------------------


def main():
    # Resolved, as pyflyte resolves its source folder (`-s .`).
    project = Path(sys.argv[1]).resolve()
    template = Path(sys.argv[2]).resolve()
    work = Path(sys.argv[3]).resolve()
    marker = os.environ["FLYTE_APP_MARKER"]

    prepare(project, template)
    ok(f"project copied into {project} (its .venv kept)")

    package = ["--pkgs", "workflows", "package", "-f", "--image", "spec.yaml"]
    first = pyflyte(project, *package)
    if first.returncode != 0:
        fatal("the first `pyflyte package` failed", first.shown)
    ok("the first `pyflyte --pkgs workflows package -f --image spec.yaml` succeeded")
    packaged = packaged_images(project / "flyte-package.tgz")

    # flytekit's names, computed by flytekit in this process (not the
    # plugin's): the default builder, the same loaded modules, source_root.
    tasks, default = flytekit_specs(project)
    specs = {spec.name: spec for spec in [*tasks.values(), default]}
    names = {n: s.image_name() for n, s in specs.items()}
    check(set(names) == {APP, SLIM, DEFAULT}, "the project has its three images", str(names))
    all_names = sorted(names.values())
    check_output(first, project, "first package", BUILT, all_names)

    expected_tasks = {name: names[spec.name] for name, spec in tasks.items()}
    expected_tasks["workflows.hello.echo"] = names[DEFAULT]
    check(
        packaged == expected_tasks,
        "the package registers every task with the image flytekit names (echo: spec.yaml's, by --image)",
        f"package: {packaged}\nflytekit: {expected_tasks}",
    )

    from flytekit.image_spec.image_spec import ImageBuildEngine

    flytekit_default = ImageBuildEngine._get_builder("default")
    for spec_name, name in sorted(names.items()):
        check(bool(label_of(name)), f"{name} was pushed by imagespec (dev.imagespec.inputs label)")
        spec = specs[spec_name]
        check(spec.exist() is True, f"flytekit's default builder finds {name} (exist())", str(spec.exist()))
        check(flytekit_default.should_build(spec) is False, f"flytekit's default builder would not rebuild {name}")

    # What each image holds, beside what its base image has in /root.
    base = base_files()
    from flytekit.constants import CopyFileDetection
    from flytekit.tools.ignore import DockerIgnore, GitIgnore, IgnoreGroup, StandardIgnore
    from flytekit.tools.script_mode import ls_files

    app = specs[APP]
    ignore = IgnoreGroup(app.source_root, [GitIgnore, DockerIgnore, StandardIgnore])
    listed, _ = ls_files(app.source_root, CopyFileDetection.ALL, ignore_group=ignore)
    app_files = {os.path.normpath(os.path.relpath(f, app.source_root)) for f in listed} | set(app.copy)
    want = {
        APP: app_files,
        # LOADED_MODULES: the package pyflyte loaded, none of .venv's modules.
        SLIM: {"workflows/__init__.py", "workflows/hello.py"},
        DEFAULT: {"data/greeting.txt"},
    }
    check(
        ".venv" not in {f.split("/")[0] for f in app_files},
        "flytekit copies nothing of .venv",
        str(sorted(app_files)),
    )
    for spec_name, name in sorted(names.items()):
        seen = probe(name)
        if seen is None:
            continue
        files = set(seen["files"]) - base
        check(
            files == want[spec_name],
            f"{name} holds the files its spec copies, and nothing of .venv or pyflyte's package",
            f"missing: {sorted(want[spec_name] - files)}\nextra: {sorted(files - want[spec_name])}",
        )
        check(seen["six"], f"{name} imports six (requirements / packages)")
        check(seen["marker"] == marker, f"{name} has the spec's env", str(seen["marker"]))
        check(not seen["project_venv"], f"{name} holds nothing of the project's .venv")
        if spec_name != SLIM:
            check(
                seen["greeting"] == GREETING,
                f"{name} has the copy entry at /root/data/greeting.txt",
                repr(seen["greeting"]),
            )

    second = pyflyte(project, *package)
    if second.returncode != 0:
        fatal("the second `pyflyte package` failed", second.shown)
    check_output(second, project, "second package", FOUND, all_names)
    check(
        packaged_images(project / "flyte-package.tgz") == expected_tasks,
        "the second package registers the same images",
    )

    build = pyflyte(project, "build", "workflows/hello.py", "wf")
    if check(build.returncode == 0, "`pyflyte build workflows/hello.py wf` succeeded", build.shown):
        check_output(build, project, "pyflyte build", FOUND, [names[APP], names[SLIM]])

    run = pyflyte(project, "run", "--image", "spec.yaml", "workflows/hello.py", "wf", "--name", "e2e")
    if check(run.returncode == 0, "`pyflyte run --image spec.yaml workflows/hello.py wf` succeeded", run.shown):
        check_output(run, project, "pyflyte run --image spec.yaml", FOUND, [names[DEFAULT]])
        check("HELLO E2E, FROM FLYTE-APP" in run.stdout, "the workflow ran", run.shown)

    # With imagespec's whole log: still each lint warning once.
    verbose = pyflyte(project, "build", "workflows/hello.py", "wf", env={"IMAGESPEC_PLUGIN_VERBOSE": "1"})
    if check(verbose.returncode == 0, "`IMAGESPEC_PLUGIN_VERBOSE=1 pyflyte build` succeeded", verbose.shown):
        _, warnings, _ = parse_stderr(verbose.stderr)
        dupes = sorted({w.splitlines()[0] for w in warnings if warnings.count(w) > 1})
        check(not dupes, "IMAGESPEC_PLUGIN_VERBOSE=1: each lint warning once", "\n".join(dupes))
        check(TEMP_PREFIX not in verbose.stdout + verbose.stderr, "IMAGESPEC_PLUGIN_VERBOSE=1: no temporary path")

    # Last, since it adds a package to the project: a build that fails.
    broken = project / "broken"
    broken.mkdir()
    (broken / "__init__.py").write_text("")
    (broken / "tasks.py").write_text(BROKEN)
    failed = pyflyte(project, "--pkgs", "broken", "package", "-f", "-o", str(work / "broken.tgz"))
    both = failed.stdout + failed.stderr
    check(failed.returncode != 0, "a build that fails makes pyflyte fail", failed.shown)
    cause = "imagespec-e2e-no-such-package was not found"
    check(cause in both.replace("\n", " "), "the failure shows the build's log (uv's error)", failed.shown)
    check(
        both.count("No solution found when resolving dependencies") == 1,
        "the failure shows the build's log once",
        failed.shown,
    )
    # The spec's lint warnings (flytekit-unset here) matter most when the
    # build fails: once, where the spec was written.
    _, warnings, _ = parse_stderr(failed.stderr)
    where = {f"broken/tasks.py:{i}" for i, line in enumerate(BROKEN.splitlines(), 1) if "ImageSpec(" in line}
    places = [m.group("where") for m in map(WARNING.match, warnings) if m]
    check(
        both.count("[flytekit-unset]") == 1 and len(places) == 1 and places[0] in where,
        f"the failure shows the spec's lint warning once, at {sorted(where)}",
        failed.shown,
    )
    check(TEMP_PREFIX not in both, "the failure names no temporary path", failed.shown)
    check("flyte-app-broken" in both, "the failure names the image", failed.shown)

    finish()


if __name__ == "__main__":
    main()
