"""The typed hand-over: what the plugin gives imagespec (``yaml.dump`` of the
spec) names the image exactly as flytekit does, for nested bases, tuples
(``pip_secret_mounts``) and the ``CopyFileDetection`` members; and the
builder stops, building nothing, when the names differ.

Run with a Python that has flytekit 1.16.31, this folder's parent on
PYTHONPATH and IMAGESPEC_BIN set to the binary under test:
``python -m unittest discover -s tests`` (the Rust test
``tests/tests/flytekit_plugin.rs`` does).
"""

import json
import os
import subprocess
import tempfile
import unittest
from unittest import mock
from pathlib import Path

from flytekit.constants import CopyFileDetection
from flytekit.image_spec.image_spec import ImageSpec

from flytekitplugins.imagespec import ImagespecBuilder, ImagespecError, dump_spec
from flytekitplugins.imagespec.builder import binary, knobs


def imagespec_name(spec: ImageSpec, folder: Path) -> str:
    path = folder / "spec.yaml"
    path.write_text(dump_spec(spec))
    env = dict(os.environ)
    env.update(knobs())
    out = subprocess.run(
        [binary(), "tag", "--json", str(path)], capture_output=True, text=True, env=env
    )
    if out.returncode != 0:
        raise AssertionError(f"imagespec tag failed: {out.stderr}\n{path.read_text()}")
    return json.loads(out.stdout)["image_name"]


class HandOver(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        (self.dir / "src" / "pkg").mkdir(parents=True)
        (self.dir / "src" / "pkg" / "a.py").write_text("A = 1\n")
        (self.dir / "netrc").write_text("machine example.com\n")

    def tearDown(self):
        self.tmp.cleanup()

    def same(self, spec: ImageSpec):
        self.assertEqual(imagespec_name(spec, self.dir), spec.image_name(), dump_spec(spec))

    def test_the_copy_mode_members(self):
        for mode in (CopyFileDetection.ALL, CopyFileDetection.NO_COPY, CopyFileDetection.LOADED_MODULES):
            with self.subTest(mode=mode):
                self.same(
                    ImageSpec(
                        name="handover",
                        python_version="3.12",
                        registry="localhost:5765",
                        source_root=str(self.dir / "src"),
                        source_copy_mode=mode,
                        packages=["six"],
                    )
                )

    def test_tuples_of_secret_mounts(self):
        self.same(
            ImageSpec(
                name="handover",
                python_version="3.12",
                packages=["six"],
                pip_secret_mounts=[(str(self.dir / "netrc"), "/root/.netrc")],
                env={"A": "1", "B": "two words"},
            )
        )

    def test_nested_bases(self):
        base = ImageSpec(name="base", python_version="3.12", registry="localhost:5765", apt_packages=["git"])
        middle = ImageSpec(name="middle", registry="localhost:5765", base_image=base, packages=["six"])
        top = ImageSpec(
            name="top",
            registry="localhost:5765",
            base_image=middle,
            source_root=str(self.dir / "src"),
            source_copy_mode=CopyFileDetection.ALL,
            commands=["echo hi"],
        )
        self.same(top)
        self.same(middle)

    def test_dicts_keep_their_order(self):
        # flytekit hashes str(dict): {'b': .., 'a': ..} is not {'a': .., 'b': ..}.
        self.same(
            ImageSpec(
                name="handover",
                python_version="3.12",
                env={"ZED": "1", "ALPHA": "2", "MID": "3"},
                builder_config={"uv_image": "u:1", "micromamba_image": "m:1"},
                builder_options={"z": 1, "a": [1, 2]},
            )
        )

    def test_a_spec_whose_tag_flytekit_computed(self):
        spec = ImageSpec(name="handover", python_version="3.12", env={"B": "1", "A": "2"})
        spec.image_name()  # flytekit caches `tag`; the dump carries it and imagespec checks it
        self.assertIn("tag: ", dump_spec(spec))
        self.same(spec)

    def test_the_builder_field_is_not_handed_over(self):
        spec = ImageSpec(name="handover", python_version="3.12", builder="imagespec")
        self.assertNotIn("builder: imagespec", dump_spec(spec))
        self.same(spec)

    def test_a_name_mismatch_stops_before_building(self):
        spec = ImageSpec(name="handover", python_version="3.12", registry="localhost:1")
        # flytekit names it otherwise (as a flytekit change could): nothing
        # may be built or pushed (localhost:1 would fail loudly if it were).
        with mock.patch.object(ImageSpec, "image_name", return_value="localhost:1/other:tag"):
            with self.assertRaises(ImagespecError) as raised:
                ImagespecBuilder().build_image(spec)
        self.assertIn("localhost:1/other:tag", str(raised.exception))
        self.assertIn("not building", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
