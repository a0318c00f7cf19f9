"""``lsgan export onnx``: the editing graph in ONNX, checked against PyTorch with onnxruntime."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from edit_support import run_lsgan, tiny_bundle  # noqa: F401  (pytest fixture)

from lsgan.cli.edit import export_onnx as export_command
from lsgan.editing.export import example_inputs, onnx_session, run_onnx
from lsgan.nets.lsgan import load_bundle

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def exported(tiny_bundle, tmp_path_factory) -> tuple[Path, str]:
    """One export for the whole module (it is the slow step): the file and what the command printed."""
    out = tmp_path_factory.mktemp("onnx") / "editor.onnx"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        export_command(out=out, model=tiny_bundle, opset=17)
    return out, printed.getvalue()


def test_export_prints_the_parity_check(exported):
    path, printed = exported
    assert path.is_file() and path.stat().st_size > 0
    assert "max abs diff" in printed
    assert float(printed.rsplit(" ", 1)[-1]) < 1e-3


def test_onnxruntime_matches_torch_on_a_new_batch_size(exported, tiny_bundle):
    path, _ = exported
    generator = load_bundle(tiny_bundle).generator
    image, aus, source_aus = example_inputs(generator.config.image_size, batch=3, seed=7)  # export traced batch 2
    with torch.no_grad():
        expected_image, expected_masks = generator.edit(image, aus)
    got_image, got_masks, *_ = run_onnx(onnx_session(path), image.numpy(), aus.numpy(), source_aus.numpy())
    assert got_image.shape == (3, 3, 32, 32) and got_masks.shape == (3, 3, 32, 32)
    np.testing.assert_allclose(got_image, expected_image.numpy(), atol=1e-4)
    np.testing.assert_allclose(got_masks, expected_masks.numpy(), atol=1e-4)


def test_too_old_opset_is_refused_and_writes_nothing(tiny_bundle, tmp_path, capsys, monkeypatch):
    out = tmp_path / "old.onnx"
    run = run_lsgan(["export", "onnx", "--model", tiny_bundle, "--out", out, "--opset", "9"], capsys, monkeypatch)
    assert run.code == 2 and "opset 9" in run.err and run.err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_change_conditioned_warping_generator_exports_with_the_source_aus_input(tmp_path):
    from lsgan.config import from_dict
    from lsgan.editing.export import export_onnx
    from lsgan.nets.lsgan import LSGANConfig, LSGANGenerator
    from edit_support import REPO
    import yaml

    model = yaml.safe_load((REPO / "configs" / "tiny.yaml").read_text())["model"]
    model["tg"].update(output="warp", au_gated=True, condition="change")
    torch.manual_seed(0)
    generator = LSGANGenerator(from_dict(LSGANConfig, model)).eval()
    with torch.no_grad():  # the last convs start at zero (the identity edit): make the edit depend on its inputs
        for branch in generator.tg.branches.values():
            branch.to_image[-2].weight.normal_(0, 0.05)
    report = export_onnx(generator, 32, tmp_path / "warp.onnx")
    session = onnx_session(report.path)
    assert [graph_input.name for graph_input in session.get_inputs()] == ["image", "target_aus", "source_aus"]
    image, target, source = example_inputs(32, batch=3, seed=3)
    got, _, flow, colour = run_onnx(session, image.numpy(), target.numpy(), source.numpy())
    np.testing.assert_allclose(got, generator.edit(image, target, source)[0].detach().numpy(), atol=1e-4)
    with torch.no_grad():
        _, _, expected_flow, expected_colour = generator.edit_field(image, target, source)
    np.testing.assert_allclose(flow, expected_flow.numpy(), atol=1e-4)
    np.testing.assert_allclose(colour, expected_colour.numpy(), atol=1e-4)
    moved, *_ = run_onnx(session, image.numpy(), target.numpy(), target.numpy())  # no change asked for
    assert np.abs(moved - got).max() > 1e-3


def test_the_exported_field_edits_a_photo_as_the_editor_does(tmp_path, astronaut):
    """The graph's flow and colour outputs, applied with the documented numpy step, give the Editor's own edit of a
    real photo at its resolution (the same path for ONNX users and for lsgan)."""
    from lsgan.data.images import to_tensor
    from lsgan.editing import Editor
    from lsgan.editing.export import export_onnx
    from lsgan.editing.fields import apply_field

    editor = Editor.from_pretrained(motion="model")  # the shipped model alone: the graph holds no mesh motion
    report = export_onnx(editor.generator, editor.image_size, tmp_path / "shipped.onnx")
    photo = editor.prepare(astronaut)[0]
    face = photo.faces[0]
    source = editor.estimate_faces([photo])
    result = editor.edit(astronaut, emotion="surprised")
    image = to_tensor(face.crop)[None].numpy()
    _, _, flow, colour = run_onnx(onnx_session(report.path), image, result.target_aus, source)
    mask = editor.face_mask(astronaut.shape, face)
    via_onnx = apply_field(astronaut, face.matrix, flow[0], colour[0], mask)
    difference = np.abs(via_onnx.astype(int) - result.image)
    # cv2.remap samples on a 1/32-pixel grid: the ONNX field, ~1e-6 off torch's, can put a sample at a sharp edge one
    # grid step over (a few levels); everywhere else the two edits agree to rounding.
    assert (difference > 1).sum() <= 10 and difference.max() <= 8
    assert np.any(via_onnx != astronaut)


def test_onnx_extra_pins_a_protobuf_that_mediapipe_imports_with():
    """The onnx extra's pins hold what is installed here, and mediapipe (face alignment) still imports beside onnx
    and onnxruntime in one process: onnx on its own pulls a protobuf that breaks mediapipe 0.10.14."""
    import subprocess
    import sys
    from importlib.metadata import version

    tomllib = pytest.importorskip("tomllib")
    requirements = pytest.importorskip("packaging.requirements")
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    pinned = [requirements.Requirement(text) for text in project["optional-dependencies"]["onnx"]]
    assert {requirement.name for requirement in pinned} >= {"onnx", "onnxruntime", "protobuf"}
    for requirement in pinned:
        assert requirement.specifier.contains(version(requirement.name)), (requirement, version(requirement.name))
    code = ("import mediapipe, onnx, onnxruntime\n"
            "from mediapipe.python.solutions import face_detection, face_mesh\n"
            "print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
