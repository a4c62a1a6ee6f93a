"""A pytest plugin: flytekit's own image_spec unit tests, answered by imagespec.

Loaded with ``-p imagespec_swap`` (this folder and the plugin's source,
``python/flytekitplugins-imagespec``, on ``PYTHONPATH``), it patches the
installed flytekit before any test module is imported, so that the vendored
tests (which stay as flytekit wrote them) exercise imagespec through the
flytekit plugin's hand-over (``flytekitplugins.imagespec.handover``):

- ``ImageSpec.id`` and ``ImageSpec.tag`` become ``functools.cached_property``
  again, computed by ``imagespec tag`` (``handover.identity``): ``id`` is the
  JSON's ``spec_id`` (flytekit's id of the spec as written), ``tag`` its
  ``tag``. Being cached properties as in flytekit, they can be set and
  deleted as flytekit's own code and tests do (``del image_spec.tag``).
- ``ImageSpec.image_name()`` is imagespec's ``image_name``, looked up in
  ``ImageBuildEngine._IMAGE_NAME_TO_REAL_NAME`` as flytekit's is, so the
  names builders return still replace it.
- ``flytekit.image_spec.default_builder.create_docker_context`` becomes
  ``handover.create_docker_context`` (``imagespec context --copy``). The
  module attribute is replaced, so flytekit's own
  ``DefaultImageBuilder._build_image`` (which calls it by its module-global
  name) uses it, and so do the tests that import it by name.

Importing the plugin package registers its ``imagespec`` builder with
``ImageBuildEngine``; ``IMAGESPEC_PLUGIN_PRIORITY`` must then keep it from
being the default builder (flytekit's engine-priority tests would pick it),
so this module sets it to ``-1`` unless it is set, and refuses a priority
above 0.

Every run of the binary is counted (through ``handover.run``, which every
hand-over goes through): per test, as the junit XML property
``imagespec_calls``; in total, in the JSON file ``$IMAGESPEC_SWAP_REPORT``
names, if set, and in the terminal summary. A session in which imagespec was
never run fails (exit status 3) with a message saying so: a swap that
silently does nothing must not pass.
"""

import collections
import functools
import json
import os

import pytest

os.environ.setdefault("IMAGESPEC_PLUGIN_PRIORITY", "-1")

from flytekit.image_spec import default_builder  # noqa: E402
from flytekit.image_spec.image_spec import ImageBuildEngine, ImageSpec  # noqa: E402
from flytekitplugins.imagespec import handover  # noqa: E402

#: Runs of the binary, by imagespec command (``tag``, ``context``).
CALLS: "collections.Counter[str]" = collections.Counter()

#: What is swapped in, for the header and the report.
SWAPPED = [
    "ImageSpec.id",
    "ImageSpec.tag",
    "ImageSpec.image_name",
    "default_builder.create_docker_context",
]

_run = handover.run


@functools.wraps(_run)
def _counted_run(command, image_spec, *args, **kwargs):
    CALLS[command] += 1
    return _run(command, image_spec, *args, **kwargs)


def _spec_id(self: ImageSpec) -> str:
    """flytekit's id of the spec as written, as imagespec computes it."""
    return handover.identity(self)["spec_id"]


def _tag(self: ImageSpec) -> str:
    """The image's tag, as imagespec computes it."""
    return handover.identity(self)["tag"]


def _image_name(self: ImageSpec) -> str:
    """Full image name with tag: imagespec's, or the name a builder returned
    for it (flytekit's ``ImageBuildEngine._IMAGE_NAME_TO_REAL_NAME``)."""
    image_name = handover.identity(self)["image_name"]
    try:
        return ImageBuildEngine._IMAGE_NAME_TO_REAL_NAME[image_name]
    except KeyError:
        return image_name


def _cached_property(function, name: str) -> functools.cached_property:
    prop = functools.cached_property(function)
    prop.__set_name__(ImageSpec, name)
    return prop


def _swap() -> None:
    handover.run = _counted_run
    ImageSpec.id = _cached_property(_spec_id, "id")
    ImageSpec.tag = _cached_property(_tag, "tag")
    ImageSpec.image_name = _image_name
    default_builder.create_docker_context = handover.create_docker_context


_swap()


def _check_swapped() -> None:
    """Refuses to run when the swap is not in place, or when the plugin's
    builder would be chosen by default."""
    problems = []
    if handover.run is not _counted_run:
        problems.append("handover.run is not counted")
    for name, function in (("id", _spec_id), ("tag", _tag)):
        prop = ImageSpec.__dict__.get(name)
        if not isinstance(prop, functools.cached_property) or prop.func is not function:
            problems.append(f"ImageSpec.{name} is not imagespec's")
    if ImageSpec.image_name is not _image_name:
        problems.append("ImageSpec.image_name is not imagespec's")
    if default_builder.create_docker_context is not handover.create_docker_context:
        problems.append("default_builder.create_docker_context is not imagespec's")
    registered = ImageBuildEngine._REGISTRY.get(handover.BUILDER_NAME)
    if registered is not None and registered[1] > 0:
        problems.append(
            f"the {handover.BUILDER_NAME!r} builder is registered at priority {registered[1]}, "
            "so flytekit would pick it by default: set IMAGESPEC_PLUGIN_PRIORITY=-1"
        )
    if problems:
        raise pytest.UsageError("imagespec_swap: " + "; ".join(problems))


def pytest_configure(config):
    _check_swapped()


def pytest_report_header(config):
    try:
        binary = handover.binary()
    except Exception as e:  # shown, and every test will say it too
        binary = f"(none: {e})"
    return [
        f"imagespec_swap: {', '.join(SWAPPED)} answered by imagespec",
        f"imagespec_swap: binary {binary}; "
        f"IMAGESPEC_PLUGIN_PRIORITY={os.environ.get('IMAGESPEC_PLUGIN_PRIORITY')}",
    ]


_calls_before = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_calls_before] = sum(CALLS.values())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    before = item.stash.get(_calls_before, sum(CALLS.values()))
    # Read by junitxml from the teardown report, made after this hook.
    item.user_properties.append(("imagespec_calls", sum(CALLS.values()) - before))


def _report(session) -> dict:
    return {
        "calls": dict(CALLS),
        "total": sum(CALLS.values()),
        "tests_collected": session.testscollected,
        "swapped": SWAPPED,
    }


def pytest_sessionfinish(session, exitstatus):
    report = _report(session)
    path = os.environ.get("IMAGESPEC_SWAP_REPORT")
    if path:
        with open(path, "w") as f:
            json.dump(report, f)
    if report["total"] == 0 and session.testscollected > 0:
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    total = sum(CALLS.values())
    by_command = ", ".join(f"{c}: {n}" for c, n in sorted(CALLS.items())) or "none"
    if total == 0:
        terminalreporter.write_sep(
            "=",
            "imagespec_swap: imagespec was NEVER called: the swap did nothing, this run proves nothing",
            red=True,
            bold=True,
        )
    else:
        terminalreporter.write_sep("-", f"imagespec_swap: imagespec called {total} times ({by_command})")
