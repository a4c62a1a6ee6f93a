"""The hand-over: what flytekit knows, given to the imagespec binary.

A spec goes over in its typed form (``yaml.dump(image_spec)``), which
imagespec reads with its Python types (tuples, the ``CopyFileDetection``
member, nested specs), so that it names the image as flytekit does. Beside
it go the facts only this Python process knows:

- the folder relative paths are taken from (``--base-dir``): flytekit
  resolves ``requirements``, ``copy``, ``source_root``, lock files and
  ``pip_secret_mounts`` against the process's current folder, and the spec
  file is written into a temporary folder;
- the loaded module files (``--loaded-modules``), filtered as flytekit
  filters them before it digests them for ``LOADED_MODULES``;
- the flytekit requirement flytekit would add and this Python's version;
- how to name the spec in messages (``--display-name``): where the user
  wrote the ``ImageSpec(...)`` or the spec file, never the temporary file.

Every function here runs the binary and returns its JSON document, or
raises :class:`ImagespecError` with imagespec's message: the cause, not a
count.
"""

import copy
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
import typing
from pathlib import Path

import yaml
from flytekit.exceptions.user import FlyteUserException
from flytekit.image_spec.image_spec import ImageSpec

BUILDER_NAME = "imagespec"

#: The attribute where the plugin records where a spec was made (see
#: ``origin``). Private (a leading ``_``): flytekit's hash and its
#: unsupported-parameter check skip it; the hand-over drops it.
ORIGIN_ATTR = "_imagespec_origin"


class ImagespecError(FlyteUserException, ValueError):
    """imagespec refused or failed; the message is imagespec's.

    A ``ValueError`` too, as flytekit's own builder raises for the same
    causes (an invalid spec, ``image tag changed``), so code that catches
    flytekit's errors catches these.
    """

    _ERROR_CODE = "USER:ImagespecError"


def binary() -> str:
    """The imagespec binary: ``IMAGESPEC_BIN``, else the one this wheel
    installed beside the running Python, else ``imagespec`` on PATH."""
    explicit = os.environ.get("IMAGESPEC_BIN")
    if explicit:
        return explicit
    beside = Path(sysconfig.get_path("scripts")) / "imagespec"
    if beside.is_file():
        return str(beside)
    found = shutil.which("imagespec")
    if found:
        return found
    raise ImagespecError(
        "the imagespec binary is not installed: reinstall flytekitplugins-imagespec, or set IMAGESPEC_BIN"
    )


def _levels(spec: ImageSpec) -> typing.Iterator[ImageSpec]:
    """The spec, then its nested base specs, outermost first."""
    level = spec
    while isinstance(level, ImageSpec):
        yield level
        level = level.base_image


def spec_text(image_spec: ImageSpec) -> str:
    """The typed YAML of a spec, as imagespec reads it.

    At every level, ``builder`` ``imagespec`` (this plugin's name, which
    means nothing to imagespec) is cleared, so imagespec picks its own
    default builder; other names (``default``, ``noop``) are imagespec's
    too and are kept. ``builder`` is not part of flytekit's hash. Keys keep
    their order (``sort_keys=False``): flytekit hashes ``str()`` of dicts
    such as ``env`` and ``builder_config``, whose order ``yaml.dump``'s
    default sorting would change, and with it the tag.
    """
    spec = copy.deepcopy(image_spec)
    for level in _levels(spec):
        if level.builder == BUILDER_NAME:
            level.builder = None
        level.__dict__.pop(ORIGIN_ATTR, None)
    return yaml.dump(spec, sort_keys=False)


def _within(path: str, directory: str) -> bool:
    """flytekit's test that a file is under a folder: ``os.path.commonpath``
    equals the folder (as written), and mixing absolute and relative paths
    is no."""
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:
        return False


def installed_locations() -> typing.List[str]:
    """The folders flytekit's ``LOADED_MODULES`` never copies from: flytekit
    itself, the interpreter's prefixes and every site-packages."""
    import flytekit

    folders = [os.path.dirname(flytekit.__file__), sys.prefix, sys.base_prefix]
    try:
        folders.append(site.getusersitepackages())
    except Exception:  # a site module without it (embedded interpreters)
        pass
    try:
        folders.extend(site.getsitepackages())
    except Exception:
        pass
    return folders


def loaded_module_files(modules: typing.Optional[typing.Iterable[object]] = None) -> typing.List[str]:
    """The files of the loaded modules that flytekit's ``LOADED_MODULES``
    may copy, in ``sys.modules`` order, repeats kept (flytekit digests a file
    once per module that names it): modules without a file (built in,
    namespace packages) are left out, as are those under flytekit, the
    interpreter's prefixes and site-packages. imagespec keeps those under
    the spec's ``source_root``, as flytekit does."""
    excluded = installed_locations()
    files = []
    for module in list(sys.modules.values()) if modules is None else modules:
        try:
            path = module.__file__
        except AttributeError:
            continue
        if not isinstance(path, str) or not path or "\n" in path:
            continue
        if any(_within(path, folder) for folder in excluded):
            continue
        files.append(path)
    return files


def knobs() -> typing.Dict[str, str]:
    """What flytekit takes from this process, for imagespec to take the same:
    the flytekit requirement flytekit would add, and this Python's version."""
    from flytekit.image_spec.default_builder import get_flytekit_for_pypi

    return {
        "IMAGESPEC_FLYTEKIT_REQUIREMENT": get_flytekit_for_pypi(),
        "IMAGESPEC_DEFAULT_PYTHON": f"{sys.version_info.major}.{sys.version_info.minor}",
    }


def display_name(image_spec: ImageSpec) -> str:
    """How messages name a spec: where it was made, and its name."""
    where = getattr(image_spec, ORIGIN_ATTR, None)
    label = f"ImageSpec(name={image_spec.name!r})"
    return f"{where[1]}: {label}" if where else label


def from_spec_file(image_spec: ImageSpec) -> bool:
    """Whether the spec was read from a spec file (``pyflyte run --image
    spec.yaml``) rather than made by Python code. A spec file is data, maybe
    someone else's: imagespec then reads only files inside the project.
    Code is the user's own, and may name files anywhere, as in flytekit."""
    where = getattr(image_spec, ORIGIN_ATTR, None)
    return bool(where) and where[0] == "file"


def _flytekit_folder() -> str:
    import flytekit

    return os.path.dirname(os.path.abspath(flytekit.__file__))


_PLUGIN_FOLDER = os.path.dirname(os.path.abspath(__file__))


def origin(skip: int = 1) -> typing.Optional[typing.Tuple[str, str]]:
    """Where the ``ImageSpec(...)`` being made was written: the first frame
    of the caller's stack outside flytekit, this plugin, the standard library
    and site-packages (``path:line``); for a spec read by
    ``Image.look_up_image_info`` (``pyflyte run --image spec.yaml``), the
    spec file: ``("code", "path:line")`` or ``("file", path)``. ``None`` when
    no such frame is found."""
    try:
        frame = sys._getframe(skip + 1)
    except ValueError:
        return None
    installed = [os.path.abspath(p) for p in installed_locations()]
    flytekit_folder = _flytekit_folder()
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename
        if code.co_name == "look_up_image_info":
            spec_file = frame.f_locals.get("image_identifier")
            if isinstance(spec_file, str) and os.path.isfile(spec_file):
                return ("file", spec_file)
        if not filename.startswith("<"):
            full = os.path.abspath(filename)
            ours = full.startswith(flytekit_folder) or full.startswith(_PLUGIN_FOLDER)
            if not ours and not any(_within(full, p) for p in installed):
                try:
                    shown = os.path.relpath(full)
                except ValueError:
                    shown = full
                if shown.startswith(".."):
                    shown = full
                return ("code", f"{shown}:{frame.f_lineno}")
        frame = frame.f_back
    return None


class Outcome(typing.NamedTuple):
    """What one run of imagespec gave."""

    #: Exit code.
    code: int
    #: Its JSON document (empty when it printed none).
    doc: dict
    #: Its stderr, when it was kept (``quiet``).
    stderr: str
    #: Its stdout, as printed.
    stdout: str

    @property
    def ok(self) -> bool:
        return self.code == 0 and bool(self.doc.get("ok", False))


def call(
    command: str,
    image_spec: ImageSpec,
    args: typing.Sequence[str] = (),
    *,
    env: typing.Optional[typing.Dict[str, str]] = None,
    quiet: bool = False,
) -> Outcome:
    """Runs ``imagespec COMMAND --json`` on the spec, handed over as this
    module describes. With ``quiet``, imagespec's stderr is kept in the
    outcome; otherwise it streams to this process's stderr."""
    with tempfile.TemporaryDirectory(prefix="flytekitplugins-imagespec-") as tmp:
        spec_file = Path(tmp) / "spec.yaml"
        spec_file.write_text(spec_text(image_spec))
        modules = Path(tmp) / "loaded-modules.txt"
        modules.write_text("".join(f"{m}\n" for m in loaded_module_files()))
        argv = [
            binary(),
            command,
            "--json",
            "--base-dir",
            os.getcwd(),
            "--loaded-modules",
            str(modules),
            "--display-name",
            display_name(image_spec),
            *([] if from_spec_file(image_spec) else ["--allow-outside-paths"]),
            *args,
            str(spec_file),
        ]
        full_env = dict(os.environ)
        full_env.update(knobs())
        full_env.update(env or {})
        proc = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if quiet else None,
            env=full_env,
            text=True,
        )
    try:
        doc = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        doc = {}
    return Outcome(proc.returncode, doc if isinstance(doc, dict) else {}, proc.stderr or "", proc.stdout)


def run(
    command: str,
    image_spec: ImageSpec,
    args: typing.Sequence[str] = (),
    *,
    env: typing.Optional[typing.Dict[str, str]] = None,
    quiet: bool = False,
) -> dict:
    """:func:`call`, returning the JSON document, or raising
    :class:`ImagespecError` with imagespec's error (and, when it printed no
    JSON at all, what it printed on stderr)."""
    outcome = call(command, image_spec, args, env=env, quiet=quiet)
    if outcome.ok:
        return outcome.doc
    raise ImagespecError(failure_message(command, image_spec, outcome))


def failure_message(command: str, image_spec: ImageSpec, outcome: Outcome) -> str:
    """imagespec's error for a spec, with the cause of each failed image (the
    failed step and its last lines), and where the spec was written."""
    error = outcome.doc.get("error") or {}
    message = error.get("message")
    if not message:
        # No JSON error object (imagespec could not even start): what it said.
        message = (outcome.stderr.strip() or outcome.stdout.strip() or "(no message)")[-4000:]
    lines = [f"imagespec {command} of {display_name(image_spec)} failed (exit {outcome.code}): {message}"]
    hint = error.get("hint")
    if hint:
        lines.append(f"  hint: {hint}")
    return "\n".join(lines)


def identity(image_spec: ImageSpec) -> dict:
    """``imagespec tag``: id, spec_id, tag and image_name as imagespec computes them."""
    return run("tag", image_spec, quiet=True)


def create_docker_context(image_spec: ImageSpec, folder: typing.Union[str, os.PathLike]) -> dict:
    """``imagespec context``: the build context flytekit's
    ``create_docker_context`` writes, into ``folder`` (empty or new). The
    warnings flytekit itself gives there (``uv.lock support is
    experimental``) are given as ``UserWarning``\\ s, as flytekit does."""
    import warnings

    doc = run("context", image_spec, ["--copy", "-o", os.fspath(folder)], quiet=True)
    for text in doc.get("warnings") or []:
        warnings.warn(text, UserWarning, stacklevel=2)
    return doc
