"""Semantic mask generator (SMG, paper Fig. 2): a BiSeNet-like face parser with a spatial path, a context path
with attention refinement modules (ARM = coordinate attention, Eq. 1-3) and a feature fusion module, plus the
conversion of its parsing into the three soft region masks (eye, mouth, part) that the TG fuses with.

The paper's SMG (§SMG): a spatial path of "a convolutional layer and two basic blocks", a context path of "two basic
blocks and two attention refinement modules", a feature fusion module of "a convolutional layer and an attention
refinement module". Four additions (BiSeNet's and coordinate attention's) are departures, each switched by an
``SMGConfig`` flag whose ``false`` is the paper's design and whose default (``true``) is what the shipped model
was trained with: ``context_stem``, ``global_context``, ``context_merge``, ``arm_norm`` (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lsgan.nets.blocks import BasicBlock, conv_norm_act
from lsgan.parsing import NUM_PARSING_CLASSES, region_masks

__all__ = [
    "ARM",
    "SMG",
    "BasicBlock",
    "ContextPath",
    "FeatureFusion",
    "SEAttention",
    "SMGConfig",
    "SpatialPath",
    "region_masks",
]


@dataclass
class SMGConfig:
    width: int = 32  # channels of the first conv; deeper stages use 2x, 4x, 8x
    attention: Literal["arm", "se"] = "arm"  # "se" is the paper's ablation (squeeze-excitation instead of ARM)
    reduction: int = 8  # r in Eq. 2: the shared 1x1 conv maps C -> C/r
    mask_dilation: float = 0.06  # "enlarged" eye/mouth regions: dilation radius / image side
    mask_blur: float = 0.02  # soft mask edge: box-blur radius / image side
    # Departures (false: the paper's design; true: as shipped). A strided 3-conv stem takes the context path to
    # 1/8 before its two basic blocks (false: the blocks read the image, at 1/2 and 1/4).
    context_stem: bool = True
    global_context: bool = True  # a global-average-pooling term added to the deepest features (BiSeNet)
    # 3x3 convs that merge the deeper attended features into the shallower ones (false: both attended maps are
    # concatenated and the fusion module's conv merges them)
    context_merge: bool = True
    arm_norm: bool = True  # BatchNorm after the ARM's F1 (coordinate attention; the paper: conv + activation)


class ARM(nn.Module):
    """Attention refinement module = coordinate attention (Eq. 1-3).

    z^h = mean over W [B,C,H,1], z^w = mean over H [B,C,1,W] (Eq. 1); f = delta(F1([z^h, z^w])) with F1 a
    shared 1x1 conv C -> C/r (followed by BatchNorm with ``batch_norm``, as in coordinate attention; not in the
    paper); split into f^h, f^w; g^h = sigmoid(F_h(f^h)), g^w = sigmoid(F_w(f^w)) (Eq. 2); y = x * g^h * g^w
    (Eq. 3). delta is h-swish, as in coordinate attention.
    """

    def __init__(self, channels: int, reduction: int = 8, batch_norm: bool = True) -> None:
        super().__init__()
        hidden = max(4, channels // reduction)
        norm = "batch" if batch_norm else "none"
        self.reduce = conv_norm_act(channels, hidden, kernel_size=1, norm=norm, act="hardswish")  # F1, (BN), delta
        self.expand_h = nn.Conv2d(hidden, channels, 1)  # F_h
        self.expand_w = nn.Conv2d(hidden, channels, 1)  # F_w

    def forward(self, x: Tensor) -> Tensor:
        height, width = x.shape[-2:]
        z_h = x.mean(dim=3, keepdim=True)  # [B, C, H, 1]
        z_w = x.mean(dim=2, keepdim=True).transpose(2, 3)  # [B, C, W, 1]
        f = self.reduce(torch.cat([z_h, z_w], dim=2))  # [B, C/r, H+W, 1]
        f_h, f_w = torch.split(f, [height, width], dim=2)
        g_h = torch.sigmoid(self.expand_h(f_h))  # [B, C, H, 1]
        g_w = torch.sigmoid(self.expand_w(f_w.transpose(2, 3)))  # [B, C, 1, W]
        return x * g_h * g_w


class SEAttention(nn.Module):
    """Squeeze-and-excitation channel attention (the ablation that replaces the ARM)."""

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(4, channels // reduction)
        self.excite = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x * self.excite(x)


def make_attention(config: SMGConfig, channels: int) -> nn.Module:
    if config.attention == "arm":
        return ARM(channels, config.reduction, config.arm_norm)
    return SEAttention(channels, config.reduction)


class SpatialPath(nn.Module):
    """A conv and two basic blocks, each stride 2: detail-preserving features at 1/8 resolution."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            conv_norm_act(3, width, kernel_size=3, stride=2),
            BasicBlock(width, 2 * width, stride=2),
            BasicBlock(2 * width, 2 * width, stride=2),
        )
        self.out_channels = 2 * width

    def forward(self, image: Tensor) -> Tensor:
        return self.layers(image)


class ContextPath(nn.Module):
    """Receptive field: two basic blocks (stride 2 each), each refined by an attention module, merged and resized
    to the spatial path's side. As shipped (``SMGConfig`` departures on): a strided stem first takes the image to
    1/8 (so the blocks work at 1/16 and 1/32), the deepest features get a global-context term, and merge convs sum
    them back into the shallower ones. The paper's (all off): the blocks read the image and both attended maps
    are concatenated (4w + 8w channels) for the fusion module."""

    def __init__(self, config: SMGConfig) -> None:
        super().__init__()
        width = config.width
        c8, c16, c32 = 2 * width, 4 * width, 8 * width
        self.stem: nn.Module = nn.Identity()
        if config.context_stem:
            self.stem = nn.Sequential(
                conv_norm_act(3, width, stride=2), conv_norm_act(width, c8, stride=2), conv_norm_act(c8, c8, stride=2)
            )
        self.block16 = BasicBlock(c8 if config.context_stem else 3, c16, stride=2)
        self.block32 = BasicBlock(c16, c32, stride=2)
        self.attend16 = make_attention(config, c16)
        self.attend32 = make_attention(config, c32)
        self.global_context: nn.Module | None = None
        if config.global_context:  # no BatchNorm on the pooled 1x1 map: it would fail for a batch of one
            self.global_context = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), conv_norm_act(c32, c32, kernel_size=1, norm="none")
            )
        self.merge32: nn.Module | None = None
        self.merge16: nn.Module | None = None
        if config.context_merge:
            self.merge32 = conv_norm_act(c32, c16)
            self.merge16 = conv_norm_act(c16, c8)
        self.out_channels = c8 if config.context_merge else c16 + c32

    def forward(self, image: Tensor, size: tuple[int, int]) -> Tensor:
        """image [B,3,H,W] -> features [B, out_channels, *size] (``size``: the spatial path's side)."""
        x16 = self.block16(self.stem(image))
        x32 = self.block32(x16)
        deep = self.attend32(x32)
        if self.global_context is not None:
            deep = deep + self.global_context(x32)
        if self.merge32 is None or self.merge16 is None:
            merged = torch.cat([self.attend16(x16), _resize(deep, x16.shape[-2:])], dim=1)
        else:
            merged = self.merge16(self.attend16(x16) + _resize(self.merge32(deep), x16.shape[-2:]))
        return _resize(merged, size)


def _resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Nearest-neighbour up (the shipped SMG's resampling); area (mean) down, where the paper's context path ends
    finer than the spatial path."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="area" if x.shape[-1] > size[-1] else "nearest")


class FeatureFusion(nn.Module):
    """Concatenate both paths, a 1x1 conv, then an attention-weighted residual (BiSeNet's FFM with an ARM)."""

    def __init__(self, in_channels: int, out_channels: int, config: SMGConfig) -> None:
        super().__init__()
        self.fuse = conv_norm_act(in_channels, out_channels, kernel_size=1)
        self.attend = make_attention(config, out_channels)

    def forward(self, spatial: Tensor, context: Tensor) -> Tensor:
        fused = self.fuse(torch.cat([spatial, context], dim=1))
        return fused + self.attend(fused)


class SMG(nn.Module):
    """Face parser: ``forward(image [B,3,H,W] in [-1,1]) -> logits [B, NUM_PARSING_CLASSES, H, W]``."""

    def __init__(self, config: SMGConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or SMGConfig()
        self.spatial = SpatialPath(config.width)
        self.context = ContextPath(config)
        fused = 4 * config.width
        self.fusion = FeatureFusion(self.spatial.out_channels + self.context.out_channels, fused, config)
        self.head = nn.Sequential(conv_norm_act(fused, fused), nn.Conv2d(fused, NUM_PARSING_CLASSES, 1))

    def forward(self, image: Tensor) -> Tensor:
        spatial = self.spatial(image)
        features = self.fusion(spatial, self.context(image, spatial.shape[-2:]))
        return F.interpolate(self.head(features), size=image.shape[-2:], mode="bilinear", align_corners=False)

    @torch.no_grad()
    def masks(self, image: Tensor) -> Tensor:
        """Region masks [B,3,H,W] (eye, mouth, part) of ``image``, with this SMG's dilation and blur."""
        return region_masks(self(image), self.config.mask_dilation, self.config.mask_blur)
