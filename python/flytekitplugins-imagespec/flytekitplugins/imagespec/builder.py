"""The ``imagespec`` image builder: hands a spec to the imagespec binary.

The spec goes over as :mod:`.handover` describes. imagespec checks the name
before it builds: a typed spec carries the tag flytekit computed (the
builder makes sure it has), and imagespec refuses to build when its content
now gives another (``image tag changed``), since flytekit would never find
the image under imagespec's name.

What the user sees: each lint finding once (where the spec was written,
and whether its fix changes the tag), then one line per image (built,
pushed, found), and on failure imagespec's log and an exception carrying
the cause.
"""

import os
import typing

import click
from flytekit.image_spec.image_spec import ImageSpec, ImageSpecBuilder

from .handover import (
    BUILDER_NAME,
    ImagespecError,
    binary,
    call,
    display_name,
    failure_message,
    knobs,
    loaded_module_files,
    spec_text,
)

__all__ = [
    "BUILDER_NAME",
    "ImagespecBuilder",
    "ImagespecError",
    "binary",
    "dump_spec",
    "knobs",
    "loaded_module_files",
]

#: ``builder_options`` keys that become command line options. Only options
#: that choose nothing on the host: which program runs and how registries
#: are trusted come from the user's environment (see docs/flytekit-plugin.md).
OPTIONS = {
    "imagespec_buildkit": "--buildkit",
    "imagespec_jobs": "--jobs",
    # A builder compiled into imagespec, by name (`default`, `podman`): it
    # picks among builders, never a program's path.
    "imagespec_builder": "--builder",
}

#: ``builder_options`` keys that become environment variables of imagespec.
ENV_OPTIONS = {
    # Read by every builder (docker and podman).
    "imagespec_build_network": "IMAGESPEC_BUILD_NETWORK",
    # Share the build cache through the registry (an extra tag, cache
    # metadata in the image): chooses no program, weakens no TLS.
    "imagespec_registry_cache": "IMAGESPEC_REGISTRY_CACHE",
    "imagespec_registry_timeout": "IMAGESPEC_REGISTRY_TIMEOUT",
    "imagespec_registry_retries": "IMAGESPEC_REGISTRY_RETRIES",
}

#: ``builder_options`` keys a spec may not set: they would choose the program
#: that runs on this machine, or weaken TLS. Their environment variables.
REFUSED_OPTIONS = {
    "imagespec_docker": "IMAGESPEC_DOCKER",
    "imagespec_podman": "IMAGESPEC_PODMAN",
    "imagespec_buildx_builder": "IMAGESPEC_BUILDX_BUILDER",
    "imagespec_insecure_registries": "IMAGESPEC_INSECURE_REGISTRIES",
}

#: Environment variable: ``0``/``false`` silences the plugin's lint warnings.
ENV_LINTS = "IMAGESPEC_PLUGIN_LINTS"
#: Environment variable: ``1`` streams imagespec's whole log (progress,
#: build output, the summary table) instead of one line per image.
ENV_VERBOSE = "IMAGESPEC_PLUGIN_VERBOSE"


def dump_spec(image_spec: ImageSpec) -> str:
    """The typed YAML of a spec, as imagespec reads it (see :func:`.handover.spec_text`)."""
    return spec_text(image_spec)


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def _say(text: str, color: str = "blue") -> None:
    click.secho(text, fg=color, err=True)


class ImagespecBuilder(ImageSpecBuilder):
    """flytekit's ``ImageSpecBuilder`` whose work imagespec does."""

    builder_type = BUILDER_NAME

    def should_build(self, image_spec: ImageSpec) -> bool:
        # imagespec checks the registry itself (every registry, with
        # flytekit's rules: force push, fast fail) and skips an image that
        # exists, saying so, so the question is left to it.
        return True

    def build_image(self, image_spec: ImageSpec) -> typing.Optional[str]:
        # flytekit's name, cached in the spec: the hand-over carries it, and
        # imagespec refuses to build under another.
        expected = image_spec.image_name()
        options = dict(image_spec.builder_options or {})
        # imagespec builds nothing unless it names the spec as flytekit does.
        env = {var: str(options[key]) for key, var in ENV_OPTIONS.items() if key in options}
        for key, var in REFUSED_OPTIONS.items():
            if key in options:
                _say(
                    f"warning: {display_name(image_spec)}: builder_options `{key}` is ignored: a spec may not "
                    f"choose the program that runs or how registries are trusted; set {var} in your environment",
                    "yellow",
                )
        flags = ["--expect-image-name", expected]
        for key, flag in OPTIONS.items():
            if key in options:
                flags += [flag, str(options[key])]
        verbose = _flag(ENV_VERBOSE, False)
        if not verbose:
            flags.insert(0, "--quiet")
        outcome = call("build", image_spec, flags, env=env, quiet=not verbose)
        report = outcome.doc
        # Each finding once: imagespec prints them itself only when verbose.
        if _flag(ENV_LINTS, True) and not verbose:
            for spec in report.get("lints") or []:
                for lint in spec.get("lints") or []:
                    _say(lint_line(display_name(image_spec), lint), "yellow")
        requested = None
        for image in report.get("images") or []:
            if not verbose:
                _say(f"imagespec: {image_line(image)}", "red" if image.get("action") == "failed" else "blue")
            if image.get("requested"):
                requested = image
        if not outcome.ok:
            # The cause (the failed step and its last lines) is in the
            # exception; imagespec's own stderr only when it gave no JSON.
            raise ImagespecError(failure_message("build", image_spec, outcome))
        if requested is None:
            raise ImagespecError(f"imagespec built nothing for {expected}: {report}")
        return requested.get("real_name") or requested["image_name"]


def lint_line(where: str, lint: dict) -> str:
    """One lint finding, as imagespec prints it."""
    text = f"warning: {where}: field `{lint.get('field')}` [{lint.get('code')}]: {lint.get('message')}"
    fix = lint.get("fix")
    if fix:
        text += f"\n  instead: {fix}"
    if lint.get("changes_tag"):
        text += "\n  (fixing it changes the tag: the image is built again under a new name)"
    return text


def image_line(image: dict) -> str:
    """One image's outcome in a line."""
    name = image.get("real_name") or image.get("image_name")
    action = image.get("action")
    seconds = image.get("time") or 0.0
    if action == "built":
        what = "built and pushed" if image.get("pushed") else "built"
        return f"{what} {name} ({seconds:.1f}s)"
    if action == "skipped":
        return f"found {name}; nothing to build"
    if action == "failed":
        return f"failed to build {name}"
    return f"{action} {name}: {image.get('reason')}"
