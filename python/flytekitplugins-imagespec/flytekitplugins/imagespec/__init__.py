"""flytekit's ImageSpec, built by imagespec.

Importing this package (flytekit does it at start-up, through the
``flytekit.plugins`` entry point) registers the ``imagespec`` builder with
``ImageBuildEngine`` at a priority above flytekit's own builders, so that a
spec without ``builder`` is built by imagespec. ``ImageSpec(builder="default")``
still selects flytekit's; ``IMAGESPEC_PLUGIN_PRIORITY`` changes the priority
(``0`` or less: never the default).
"""

import os

from flytekit.image_spec.image_spec import ImageBuildEngine

from .builder import BUILDER_NAME, ImagespecBuilder, ImagespecError, dump_spec

__all__ = ["BUILDER_NAME", "ImagespecBuilder", "ImagespecError", "dump_spec", "PRIORITY"]

#: Above flytekit's ``default`` (1) and ``noop`` (0).
PRIORITY = int(os.environ.get("IMAGESPEC_PLUGIN_PRIORITY", "10"))

ImageBuildEngine.register(BUILDER_NAME, ImagespecBuilder(), priority=PRIORITY)
