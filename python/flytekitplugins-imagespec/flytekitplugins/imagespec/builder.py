"""The ``imagespec`` image builder: hands a spec to the imagespec binary.

The spec goes over in the typed form, ``yaml.dump(image_spec)``, which
imagespec reads with its Python types (tuples, the ``CopyFileDetection``
member, nested specs), so that it computes the name flytekit computes. The
builder checks that it does before building, and stops otherwise: an image
pushed under another name would never be found by flytekit.
"""

import copy
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import typing
from pathlib import Path

import yaml
from flytekit.exceptions.user import FlyteUserException
from flytekit.image_spec.default_builder import get_flytekit_for_pypi
from flytekit.image_spec.image_spec import ImageSpec, ImageSpecBuilder

BUILDER_NAME = "imagespec"

#: ``builder_options`` keys and the command line options they become.
OPTIONS = {
    "imagespec_docker": "--docker",
    "imagespec_buildkit": "--buildkit",
    "imagespec_buildx_builder": "--buildx-builder",
    "imagespec_build_network": "--build-network",
    "imagespec_jobs": "--jobs",
}

#: ``builder_options`` keys that become environment variables of imagespec.
ENV_OPTIONS = {
    "imagespec_registry_timeout": "IMAGESPEC_REGISTRY_TIMEOUT",
    "imagespec_registry_retries": "IMAGESPEC_REGISTRY_RETRIES",
    "imagespec_insecure_registries": "IMAGESPEC_INSECURE_REGISTRIES",
}


class ImagespecError(FlyteUserException):
    """imagespec refused or failed to build an image; the message is imagespec's."""

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


def dump_spec(image_spec: ImageSpec) -> str:
    """The typed YAML of a spec, as imagespec reads it.

    ``builder`` is cleared (it is not part of flytekit's hash): the name
    ``imagespec`` means this plugin to flytekit and nothing to imagespec,
    which then picks its own default builder. Nested base specs stay specs.
    Keys keep their order (``sort_keys=False``): flytekit hashes ``str()``
    of dicts such as ``env`` and ``builder_config``, whose order
    ``yaml.dump``'s default sorting would change, and with it the tag.
    """
    spec = copy.deepcopy(image_spec)
    spec.builder = None
    return yaml.dump(spec, sort_keys=False)


def knobs() -> typing.Dict[str, str]:
    """What flytekit takes from this process, for imagespec to take the same:
    the flytekit requirement flytekit would add, and this Python's version."""
    return {
        "IMAGESPEC_FLYTEKIT_REQUIREMENT": get_flytekit_for_pypi(),
        "IMAGESPEC_DEFAULT_PYTHON": f"{sys.version_info.major}.{sys.version_info.minor}",
    }


def loaded_module_files() -> typing.List[str]:
    """The files of the modules this process has loaded (flytekit's
    ``LOADED_MODULES`` copies those under source_root; imagespec applies the
    same rule to this list)."""
    files = []
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path:
            files.append(os.path.abspath(path) if not os.path.isabs(path) else path)
    return sorted(set(files))


class ImagespecBuilder(ImageSpecBuilder):
    """flytekit's ``ImageSpecBuilder`` whose work imagespec does."""

    builder_type = BUILDER_NAME

    def should_build(self, image_spec: ImageSpec) -> bool:
        # imagespec checks the registry itself (every registry, with
        # flytekit's rules: force push, fast fail) and skips an image that
        # exists, so the question is left to it.
        return True

    def build_image(self, image_spec: ImageSpec) -> typing.Optional[str]:
        with tempfile.TemporaryDirectory(prefix="flytekitplugins-imagespec-") as tmp:
            spec_file = Path(tmp) / "spec.yaml"
            spec_file.write_text(dump_spec(image_spec))
            modules = Path(tmp) / "loaded-modules.txt"
            modules.write_text("\n".join(loaded_module_files()) + "\n")
            common = ["--loaded-modules", str(modules)]
            env = dict(os.environ)
            env.update(knobs())
            options = dict(image_spec.builder_options or {})
            for key, var in ENV_OPTIONS.items():
                if key in options:
                    env[var] = str(options[key])
            build_flags = []
            for key, flag in OPTIONS.items():
                if key in options:
                    build_flags += [flag, str(options[key])]

            # The name first: imagespec must agree with flytekit.
            tag = self._run(["tag", "--json", *common, str(spec_file)], env)
            expected = image_spec.image_name()
            if tag.get("image_name") != expected:
                raise ImagespecError(
                    f"imagespec computes the name {tag.get('image_name')!r} for this spec and flytekit "
                    f"{expected!r}; not building, since flytekit would not find the image under imagespec's "
                    "name. Please report this with the spec (yaml.dump(image_spec))."
                )
            report = self._run(["build", "--json", *common, *build_flags, str(spec_file)], env)
            requested = [i for i in report.get("images", []) if i.get("requested")]
            if not requested:
                raise ImagespecError(f"imagespec built nothing for {expected}: {report}")
            entry = requested[-1]
            return entry.get("real_name") or entry["image_name"]

    @staticmethod
    def _run(args: typing.List[str], env: typing.Dict[str, str]) -> dict:
        """Runs imagespec; its log streams to this process's stderr; its JSON
        document is returned, or its error raised as an ImagespecError."""
        command = [binary(), *args]
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=None, env=env, text=True)
        try:
            doc = json.loads(proc.stdout) if proc.stdout.strip() else {}
        except json.JSONDecodeError:
            doc = {}
        if proc.returncode != 0 or not doc.get("ok", False):
            error = doc.get("error") or {}
            message = error.get("message") or proc.stdout.strip() or "(no message; see the log above)"
            hint = error.get("hint")
            raise ImagespecError(
                f"imagespec {args[0]} failed (exit {proc.returncode}): {message}" + (f"\n  hint: {hint}" if hint else "")
            )
        return doc
