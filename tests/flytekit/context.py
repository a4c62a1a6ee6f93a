#!/usr/bin/env python3
"""Write real flytekit's build context for a spec, as pyflyte would read it.

Usage: PYTHON context.py SPEC_FILE OUT_DIR
  Reads SPEC_FILE with `ImageSpec(**yaml.safe_load(f))` (pyflyte's
  `--image spec.yaml`) in the spec's folder, writes flytekit's
  `create_docker_context` into OUT_DIR (which must not exist), and prints
  the image name. Used by the e2e test that builds flytekit's Dockerfile and
  imagespec's for one spec and compares the images.
"""
import os
import sys
from pathlib import Path


def main():
    spec_file, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    import yaml
    from flytekit.image_spec.default_builder import create_docker_context
    from flytekit.image_spec.image_spec import ImageSpec

    os.chdir(spec_file.parent)
    with open(spec_file) as f:
        spec = ImageSpec(**yaml.safe_load(f))
    out.mkdir(parents=True)
    create_docker_context(spec, out)
    print(spec.image_name(), file=real_stdout)


if __name__ == "__main__":
    main()
