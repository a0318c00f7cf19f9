"""face-api's FaceExpressionNet (npm ``@vladmandic/face-api@1.7.15``, tfjs) ported to PyTorch.

The net is face-api's ``FaceFeatureExtractor`` (four dense blocks of 3×3 convs, 112 → 56 → 28 → 14 → 7, then a
7×7 average pool) and a fully connected layer over 7 classes, softmaxed. Everything follows face-api's own code
(``src/faceFeatureExtractor``, ``src/faceProcessor``, ``src/dom/NetInput.ts``) so that the outputs match tfjs to
float32 rounding; the tests check that against outputs recorded with the original (``scripts/reference_faceapi.mjs``):

- the face is cut out as ``extractFaceTensors`` does (box clipped to the photo, then floored), zero-padded to a
  square centred on the face (``padToSquare``), resized to 112×112 with TF's legacy bilinear sampling (no half-pixel
  offset, no corner alignment), then ``(rgb - mean_rgb) / 255``;
- tfjs ``'same'`` padding puts the odd pixel of a stride-2 conv after the image, not around it, so convs pad
  explicitly instead of using torch's symmetric ``padding=``.

Weights: ``lsgan.nets.weight_conversion`` dequantises face-api's uint8 tfjs weights into ``FACEAPI_EXPRESSION``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lsgan.errors import InputImageError, NoFaceError
from lsgan.nets.expression import EXPRESSIONS, Box, ExpressionClassifier

# face-api's FACE_EXPRESSION_LABELS: the order of its logits (not EXPRESSIONS' order).
FACEAPI_LABELS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
TO_EXPRESSIONS: tuple[int, ...] = tuple(FACEAPI_LABELS.index(label) for label in EXPRESSIONS)

INPUT_SIZE = 112
MEAN_RGB: tuple[float, float, float] = (122.782, 117.001, 104.298)  # FaceFeatureExtractor.forwardInput
DENSE_CHANNELS: tuple[int, ...] = (32, 64, 128, 256)  # out channels of dense0..dense3
CONVS_PER_BLOCK = 4  # denseBlock4


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF's ``'same'`` padding (before, after) of one axis: the odd pixel goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad_same(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """``x [B, C, H, W]`` zero-padded so that a ``kernel``×``kernel`` conv of ``stride`` works like TF's ``'same'``."""
    top, bottom = same_padding(x.shape[2], kernel, stride)
    left, right = same_padding(x.shape[3], kernel, stride)
    return F.pad(x, (left, right, top, bottom))


class SamePadConv(nn.Conv2d):
    """A conv without implicit padding that pads like TF's ``'same'`` (tfjs ``conv2d(x, filters, stride, 'same')``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(pad_same(x, self.kernel_size[0], self.stride[0]))


class SeparableConv(nn.Module):
    """tfjs ``separableConv2d(x, depthwise, pointwise, stride, 'same')`` plus a bias, as face-api's
    ``depthwiseSeparableConv``: a 3×3 depthwise conv of ``stride`` (no bias), then a 1×1 conv with the bias."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.depthwise = SamePadConv(channels_in, channels_in, 3, stride, groups=channels_in, bias=False)
        self.pointwise = nn.Conv2d(channels_in, channels_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class DenseBlock(nn.Module):
    """face-api's ``denseBlock4``: a stride-2 conv, then three separable convs, each reading the ReLU of the sum of
    everything before it; the block returns the ReLU of the sum of all four (only the first conv is ReLU'd alone)."""

    def __init__(self, channels_in: int, channels_out: int, first: bool) -> None:
        super().__init__()
        # The first block starts with a plain conv on RGB, the others with a separable one.
        self.conv0: nn.Module = (
            SamePadConv(channels_in, channels_out, 3, 2) if first else SeparableConv(channels_in, channels_out, 2)
        )
        self.conv1 = SeparableConv(channels_out, channels_out, 1)
        self.conv2 = SeparableConv(channels_out, channels_out, 1)
        self.conv3 = SeparableConv(channels_out, channels_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, Cin, H, W] -> [B, Cout, H/2, W/2]
        total = F.relu(self.conv0(x))
        for conv in (self.conv1, self.conv2, self.conv3):
            total = total + conv(F.relu(total))  # the first ReLU is a no-op: conv0's output is already ReLU'd
        return F.relu(total)


class FaceExpressionNet(ExpressionClassifier):
    """face-api's FaceExpressionNet: ``forward(faces [B, 3, 112, 112]) -> probabilities [B, 7]`` (EXPRESSIONS order).

    ``faces`` are made by ``preprocess`` (RGB, mean-subtracted, divided by 255). ``logits`` gives the pre-softmax
    outputs in face-api's own label order (``FACEAPI_LABELS``).
    """

    name = "faceapi"
    input_size = INPUT_SIZE

    def __init__(self) -> None:
        super().__init__()
        channels_in = (3, *DENSE_CHANNELS[:-1])
        for index, (cin, cout) in enumerate(zip(channels_in, DENSE_CHANNELS, strict=True)):
            self.add_module(f"dense{index}", DenseBlock(cin, cout, first=index == 0))
        self.fc = nn.Linear(DENSE_CHANNELS[-1], len(FACEAPI_LABELS))
        self.register_buffer("to_expressions", torch.tensor(TO_EXPRESSIONS), persistent=False)

    def logits(self, faces: torch.Tensor) -> torch.Tensor:  # [B, 3, 112, 112] -> [B, 7] in FACEAPI_LABELS order
        x = faces
        for index in range(len(DENSE_CHANNELS)):
            x = getattr(self, f"dense{index}")(x)
        x = F.avg_pool2d(x, 7, 2)  # [B, 256, 7, 7] -> [B, 256, 1, 1] (tfjs avgPool [7, 7], stride 2, 'valid')
        return self.fc(x.flatten(1))

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        return self.logits(faces).softmax(dim=1)[:, self.to_expressions]

    def preprocess(self, photo: np.ndarray, box: Box) -> torch.Tensor:
        return preprocess_face(photo, box)

    def from_rgb255(self, faces: torch.Tensor) -> torch.Tensor:
        """``[B, 3, 112, 112]`` RGB in 0-255 -> this net's input (mean-subtracted, divided by 255)."""
        return (faces - torch.tensor(MEAN_RGB, device=faces.device, dtype=faces.dtype).view(1, 3, 1, 1)) / 255


def preprocess_face(photo: np.ndarray, box: Box) -> torch.Tensor:
    """face-api's input for the face in ``box`` of a uint8 H×W×3 RGB photo: ``[3, 112, 112]`` float32."""
    face = torch.from_numpy(crop_box(photo, box).astype(np.float32))  # [h, w, 3], a copy (the photo may be read-only)
    square = pad_to_square(face)
    if square.shape[0] != INPUT_SIZE:
        square = resize_bilinear_tf(square, INPUT_SIZE)
    normalised = (square - torch.tensor(MEAN_RGB, dtype=torch.float32)) / 255
    return normalised.permute(2, 0, 1).contiguous()


def crop_box(photo: np.ndarray, box: Box) -> np.ndarray:
    """The pixels of ``box`` as face-api cuts them (``Box.clipAtImageBorders`` then ``floor``): ``[h, w, 3]``."""
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise InputImageError(f"expected a uint8 H×W×3 RGB photo, got {photo.dtype} of shape {photo.shape}")
    height, width = photo.shape[:2]
    x0, y0, x1, y1 = box
    left, top = max(x0, 0.0), max(y0, 0.0)
    crop_width = math.floor(min(x1 - left, width - left))
    crop_height = math.floor(min(y1 - top, height - top))
    left, top = math.floor(left), math.floor(top)
    if crop_width <= 0 or crop_height <= 0:
        raise NoFaceError(f"face box {tuple(round(v, 1) for v in box)} holds no pixel of the {width}×{height} photo")
    return photo[top:top + crop_height, left:left + crop_width]


def pad_to_square(image: torch.Tensor) -> torch.Tensor:
    """face-api's centred ``padToSquare``: zeros around the short side, the larger half after. ``[H, W, C]``."""
    height, width = image.shape[:2]
    diff = abs(height - width)
    after = math.floor(diff * 0.5 + 0.5)  # JS Math.round: halves round up
    before = diff - after
    if height > width:
        return F.pad(image, (0, 0, before, after))
    return F.pad(image, (0, 0, 0, 0, before, after))


def resize_bilinear_tf(image: torch.Tensor, size: int) -> torch.Tensor:
    """tfjs ``resizeBilinear(alignCorners=false, halfPixelCenters=false)`` of ``[H, W, C]`` to ``[size, size, C]``.

    Output pixel ``i`` samples source coordinate ``i * in / out`` (not torch's half-pixel-centred one); computed in
    float64 like tfjs's CPU kernel, then rounded to float32.
    """
    source = image.double()
    rows0, rows1, row_frac = _source_positions(image.shape[0], size)
    cols0, cols1, col_frac = _source_positions(image.shape[1], size)
    col_frac = col_frac[None, :, None]
    top = source[rows0][:, cols0] + (source[rows0][:, cols1] - source[rows0][:, cols0]) * col_frac
    bottom = source[rows1][:, cols0] + (source[rows1][:, cols1] - source[rows1][:, cols0]) * col_frac
    return (top + (bottom - top) * row_frac[:, None, None]).float()


def _source_positions(size_in: int, size_out: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Floor index, ceil index and fraction of each output pixel's source coordinate along one axis."""
    position = torch.arange(size_out, dtype=torch.float64) * (size_in / size_out)
    floor = position.floor()
    ceil = position.ceil().clamp(max=size_in - 1)
    return floor.long(), ceil.long(), position - floor
