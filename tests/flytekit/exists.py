#!/usr/bin/env python3
"""Ask real flytekit whether a spec's image exists, as its default builder does.

Usage: PYTHON exists.py SPEC_FILE
  Reads SPEC_FILE as pyflyte does (`ImageSpec(**yaml.safe_load(f))`, in the
  spec's folder), and prints the image name and `ImageSpec.exist()` (True,
  False, or None when flytekit cannot tell), one per line. Used by the e2e
  test of the engine-free source push: flytekit finds the pushed image by
  its name.
"""
import os
import sys
from pathlib import Path


def main():
    spec_file = Path(sys.argv[1]).resolve()
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    import yaml
    from flytekit.image_spec.image_spec import ImageSpec

    os.chdir(spec_file.parent)
    with open(spec_file) as f:
        spec = ImageSpec(**yaml.safe_load(f))
    print(spec.image_name(), file=real_stdout)
    print(spec.exist(), file=real_stdout)


if __name__ == "__main__":
    main()
