#!/usr/bin/env python3
"""Real flytekit's side of `cargo xtask bench`.

Usage: PYTHON bench.py name SPEC...      image_name() of each spec, one a line
       PYTHON bench.py context SPEC OUT  create_docker_context into OUT
       PYTHON bench.py exist SPEC...     ImageSpec.exist() of each, one a line

Each spec is read as pyflyte reads `--image spec.yaml`
(`ImageSpec(**yaml.safe_load(f))`), in the spec's folder.
"""
import os
import sys
from pathlib import Path


def load(path):
    import yaml
    from flytekit.image_spec.image_spec import ImageSpec

    path = Path(path).resolve()
    os.chdir(path.parent)
    with open(path) as f:
        return ImageSpec(**yaml.safe_load(f))


def main():
    out = sys.stdout
    sys.stdout = sys.stderr
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "name":
        for spec in args:
            try:
                print(load(spec).image_name(), file=out)
            except Exception as e:  # error cases are timed too
                print(f"error: {type(e).__name__}", file=out)
    elif mode == "context":
        from flytekit.image_spec.default_builder import create_docker_context

        target = Path(args[1]).resolve()
        spec = load(args[0])
        target.mkdir(parents=True)
        create_docker_context(spec, target)
        print(spec.image_name(), file=out)
    elif mode == "exist":
        for spec in args:
            print(load(spec).exist(), file=out)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
