"""flytekit's ImageSpec, built by imagespec.

Importing this package (flytekit does it at start-up, through the
``flytekit.plugins`` entry point) registers the ``imagespec`` builder with
``ImageBuildEngine`` at a priority above flytekit's own builders, so that a
spec without ``builder`` is built by imagespec. ``ImageSpec(builder="default")``
still selects flytekit's; ``IMAGESPEC_PLUGIN_PRIORITY`` changes the priority
(``0`` or less: never the default).

It also records, on each ``ImageSpec`` made from then on, where it was
written (``path:line`` of the user's ``ImageSpec(...)``, or the spec file of
``pyflyte run --image spec.yaml``), in a private attribute that flytekit's
hash skips, so that messages point there rather than at a temporary file.
"""

import functools
import os

from flytekit.image_spec.image_spec import ImageBuildEngine, ImageSpec

from .builder import ImagespecBuilder, dump_spec
from .handover import BUILDER_NAME, ORIGIN_ATTR, ImagespecError, origin

__all__ = ["BUILDER_NAME", "ImagespecBuilder", "ImagespecError", "dump_spec", "PRIORITY"]

#: Above flytekit's ``default`` (1) and ``noop`` (0).
PRIORITY = int(os.environ.get("IMAGESPEC_PLUGIN_PRIORITY", "10"))

ImageBuildEngine.register(BUILDER_NAME, ImagespecBuilder(), priority=PRIORITY)


def _record_origin(post_init):
    @functools.wraps(post_init)
    def __post_init__(self):
        post_init(self)
        if ORIGIN_ATTR not in self.__dict__:
            try:
                where = origin(skip=1)
            except Exception:  # never let bookkeeping break a spec
                where = None
            if where:
                self.__dict__[ORIGIN_ATTR] = where

    __post_init__._imagespec_records_origin = True
    return __post_init__


if not getattr(ImageSpec.__post_init__, "_imagespec_records_origin", False):
    ImageSpec.__post_init__ = _record_origin(ImageSpec.__post_init__)
