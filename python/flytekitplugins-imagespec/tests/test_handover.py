"""The hand-over: what the plugin gives imagespec names the image exactly as
flytekit does (nested bases, tuples, the ``CopyFileDetection`` members,
paths relative to the current folder, loaded modules with a virtualenv
inside the source root), every level's ``builder`` is handed over as
imagespec understands it, and the builder stops, building nothing, when the
names differ.

Run with a Python that has flytekit 1.16.31, this folder's parent on
PYTHONPATH and IMAGESPEC_BIN set to the binary under test:
``python -m unittest discover -s tests`` (the Rust test
``crates/8-cli/tests/flytekit_plugin_handover.rs`` does).
"""

import contextlib
import io
import os
import sys
import tempfile
import types
import unittest
import warnings
from pathlib import Path
from unittest import mock

from flytekit.constants import CopyFileDetection
from flytekit.image_spec.image_spec import ImageSpec

from flytekitplugins.imagespec import ImagespecBuilder, ImagespecError, dump_spec, handover


@contextlib.contextmanager
def cwd(folder):
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


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
        got = handover.identity(spec)
        self.assertEqual(got["image_name"], spec.image_name(), dump_spec(spec))
        self.assertEqual(got["spec_id"], spec.id, dump_spec(spec))

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

    def test_relative_paths_are_taken_from_the_current_folder(self):
        # flytekit reads requirements, copy and source_root relative to the
        # process's folder; the spec file is written elsewhere.
        project = self.dir / "project"
        (project / "data").mkdir(parents=True)
        (project / "code" / "pkg").mkdir(parents=True)
        (project / "requirements.txt").write_text("six\n")
        (project / "data" / "a.txt").write_text("a\n")
        (project / "code" / "pkg" / "m.py").write_text("M = 1\n")
        with cwd(project):
            for mode in (CopyFileDetection.ALL, CopyFileDetection.NO_COPY):
                spec = ImageSpec(
                    name="relative",
                    python_version="3.12",
                    requirements="requirements.txt",
                    copy=["data/a.txt", "data"],
                    source_root="code",
                    source_copy_mode=mode,
                    pip_secret_mounts=[("../netrc", "/root/.netrc")],
                )
                self.same(spec)
            context = self.dir / "ctx"
            context.mkdir()
            handover.create_docker_context(spec, context)
            self.assertEqual((context / "data" / "a.txt").read_text(), "a\n")
            self.assertIn("six", (context / "requirements_uv.txt").read_text())

    def test_loaded_modules_leave_out_a_virtualenv_inside_the_source_root(self):
        # A project whose source root holds the virtualenv that runs flytekit:
        # flytekit leaves out the modules under flytekit, sys.prefix and
        # site-packages before it digests the loaded modules.
        root = os.path.dirname(sys.prefix)
        mine = Path(root) / "imagespec_handover_probe.py"
        mine.write_text("PROBE = 1\n")
        sys.path.insert(0, root)
        try:
            import imagespec_handover_probe  # noqa: F401  (a user module under the root)

            spec = ImageSpec(name="venv-inside", python_version="3.12", source_root=root)
            self.assertEqual(spec.source_copy_mode, CopyFileDetection.LOADED_MODULES)
            files = handover.loaded_module_files()
            self.assertIn(str(mine), files)
            self.assertFalse([f for f in files if f.startswith(sys.prefix + os.sep)], files)
            self.same(spec)
        finally:
            sys.path.remove(root)
            sys.modules.pop("imagespec_handover_probe", None)
            mine.unlink()

    def test_modules_without_a_file_and_repeats_are_as_flytekit_sees_them(self):
        file = str(self.dir / "src" / "pkg" / "a.py")
        modules = [
            types.ModuleType("builtin_like"),  # no __file__
            types.SimpleNamespace(__file__=None),  # a namespace package
            types.SimpleNamespace(__file__=file),
            types.SimpleNamespace(__file__=file),  # flytekit digests it twice
            types.SimpleNamespace(__file__=os.path.join(sys.prefix, "x.py")),
        ]
        self.assertEqual(handover.loaded_module_files(modules), [file, file])

    def test_every_levels_builder_is_handed_over_as_imagespec_knows_it(self):
        base = ImageSpec(name="base", python_version="3.12", builder="imagespec", apt_packages=["git"])
        middle = ImageSpec(name="middle", builder="imagespec", base_image=base, packages=["six"])
        top = ImageSpec(name="top", builder="imagespec", base_image=middle)
        text = dump_spec(top)
        self.assertNotIn("builder: imagespec", text)
        self.same(top)
        # imagespec plans all three levels (it used to say `imagespec` is not registered).
        report = handover.run("build", top, ["--dry-run", "--no-push"], quiet=True)
        self.assertEqual(len(report["images"]), 3, report)
        # Other names are imagespec's too, and stay.
        noop = ImageSpec(name="top", builder="imagespec", base_image=ImageSpec(name="b", builder="noop", base_image="x:1"))
        self.assertIn("builder: noop", dump_spec(noop))
        # An error in a nested base names the nested field.
        bad = ImageSpec(name="top", base_image=ImageSpec(name="b", builder="envd"))
        with self.assertRaises(ImagespecError) as raised:
            handover.run("build", bad, ["--dry-run"], quiet=True)
        self.assertIn("base_image.builder", str(raised.exception))

    def test_errors_are_value_errors_with_flytekits_words(self):
        with self.assertRaises(ValueError) as raised:
            handover.create_docker_context(ImageSpec(name="x", cuda="12.4"), self.dir / "ctx-cuda")
        self.assertIn("cuda and cudnn do not need to be specified", str(raised.exception))
        self.assertIsInstance(raised.exception, ImagespecError)
        # flytekit names the spec all the same.
        self.same(ImageSpec(name="x", cuda="12.4"))

    def test_flytekits_warnings_are_python_warnings(self):
        (self.dir / "uv.lock").write_text("lock\n")
        (self.dir / "pyproject.toml").write_text("[project]\nname = 'p'\n")
        spec = ImageSpec(name="lock", python_version="3.12", requirements=str(self.dir / "uv.lock"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            handover.create_docker_context(spec, self.dir / "ctx-lock")
        self.assertEqual([str(w.message) for w in caught], ["uv.lock support is experimental"])

    def test_a_name_mismatch_stops_before_building(self):
        spec = ImageSpec(name="handover", python_version="3.12", registry="localhost:1")
        # flytekit names it otherwise (as a flytekit change could): nothing
        # may be built or pushed (localhost:1 would fail loudly if it were).
        with mock.patch.object(ImageSpec, "image_name", return_value="localhost:1/other:tag"):
            with self.assertRaises(ImagespecError) as raised:
                ImagespecBuilder().build_image(spec)
        self.assertIn("localhost:1/other:tag", str(raised.exception))
        self.assertIn("image tag changed", str(raised.exception))
        self.assertIn("not building", str(raised.exception))

    def test_a_tag_that_changed_since_flytekit_computed_it(self):
        source = self.dir / "src"
        spec = ImageSpec(
            name="changing", python_version="3.12", source_root=str(source), source_copy_mode=CopyFileDetection.ALL
        )
        spec.image_name()
        (source / "pkg" / "a.py").write_text("A = 2\n")
        with self.assertRaises(ValueError) as raised:
            handover.create_docker_context(spec, self.dir / "ctx-changed")
        self.assertIn("image tag changed", str(raised.exception))

    def test_a_spec_cannot_choose_the_program_that_runs(self):
        # builder_options are the spec's (someone else's, maybe): they may
        # not pick the docker client or weaken TLS; they are warned about
        # and ignored, and the user's environment decides.
        from flytekitplugins.imagespec import builder as builder_module

        seen = {}

        def fake_call(command, image_spec, args=(), *, env=None, quiet=False):
            seen["args"], seen["env"] = list(args), dict(env or {})
            return handover.Outcome(1, {}, "", "")

        spec = ImageSpec(
            name="options",
            python_version="3.12",
            builder_options={
                "imagespec_docker": "/tmp/evil-docker",
                "imagespec_buildx_builder": "remote",
                "imagespec_insecure_registries": "registry.example",
                "imagespec_podman": "/tmp/evil-podman",
                "imagespec_jobs": 2,
                "imagespec_builder": "podman",
                "imagespec_build_network": "host",
                "imagespec_registry_cache": 1,
            },
        )
        err = io.StringIO()
        with mock.patch.object(builder_module, "call", fake_call), contextlib.redirect_stderr(err):
            with self.assertRaises(ImagespecError):
                ImagespecBuilder().build_image(spec)
        self.assertNotIn("--docker", seen["args"])
        self.assertNotIn("/tmp/evil-docker", seen["args"])
        self.assertNotIn("--buildx-builder", seen["args"])
        self.assertNotIn("IMAGESPEC_INSECURE_REGISTRIES", seen["env"])
        self.assertIn("--jobs", seen["args"])
        self.assertNotIn("/tmp/evil-podman", seen["args"])
        self.assertNotIn("IMAGESPEC_PODMAN", seen["env"])
        # Which compiled-in builder builds, and the RUN steps' network (read
        # by every builder), may come from the spec.
        self.assertEqual(seen["args"][seen["args"].index("--builder") + 1], "podman")
        self.assertEqual(seen["env"].get("IMAGESPEC_BUILD_NETWORK"), "host")
        # So may sharing the build cache through the registry.
        self.assertEqual(seen["env"].get("IMAGESPEC_REGISTRY_CACHE"), "1")
        for key in (
            "imagespec_docker",
            "imagespec_buildx_builder",
            "imagespec_insecure_registries",
            "imagespec_podman",
        ):
            self.assertIn(f"`{key}` is ignored", err.getvalue())

    def test_messages_name_where_the_spec_was_written(self):
        spec = ImageSpec(name="where", env={"FLAG": "x"})  # this line
        line = sys._getframe().f_lineno - 1
        self.assertEqual(handover.display_name(spec), f"{os.path.relpath(__file__)}:{line}: ImageSpec(name='where')")
        self.assertNotIn("_imagespec_origin", dump_spec(spec))
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            with self.assertRaises(ImagespecError) as raised:
                handover.run("tag", ImageSpec(name="where", packages=["a\nRUN b"]))
        self.assertIn(handover.display_name(spec).split(":")[0], str(raised.exception))
        self.assertNotIn("flytekitplugins-imagespec-", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
