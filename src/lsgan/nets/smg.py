"""Semantic mask generator (SMG, paper Fig. 2): a BiSeNet-like face parser with a spatial path, a context path
with attention refinement modules (ARM = coordinate attention, Eq. 1-3) and a feature fusion module, plus the
conversion of its parsing into the three soft region masks (eye, mouth, part) that the TG fuses with.
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


class ARM(nn.Module):
    """Attention refinement module = coordinate attention (Eq. 1-3).

    z^h = mean over W [B,C,H,1], z^w = mean over H [B,C,1,W] (Eq. 1); f = delta(BN(F1([z^h, z^w]))) with F1 a
    shared 1x1 conv C -> C/r; split into f^h, f^w; g^h = sigmoid(F_h(f^h)), g^w = sigmoid(F_w(f^w)) (Eq. 2);
    y = x * g^h * g^w (Eq. 3). delta is h-swish, as in coordinate attention.
    """

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        hidden = max(4, channels // reduction)
        self.reduce = conv_norm_act(channels, hidden, kernel_size=1, norm="batch", act="hardswish")  # F1, BN, delta
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


def make_attention(kind: str, channels: int, reduction: int) -> nn.Module:
    return ARM(channels, reduction) if kind == "arm" else SEAttention(channels, reduction)


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
    """Receptive field: a strided stem to 1/8, two basic blocks to 1/16 and 1/32, each refined by an attention
    module; the 1/32 features get a global-context term, and both are upsampled and summed back to 1/8."""

    def __init__(self, width: int, attention: str, reduction: int) -> None:
        super().__init__()
        c8, c16, c32 = 2 * width, 4 * width, 8 * width
        self.stem = nn.Sequential(
            conv_norm_act(3, width, stride=2), conv_norm_act(width, c8, stride=2), conv_norm_act(c8, c8, stride=2)
        )
        self.block16 = BasicBlock(c8, c16, stride=2)
        self.block32 = BasicBlock(c16, c32, stride=2)
        self.attend16 = make_attention(attention, c16, reduction)
        self.attend32 = make_attention(attention, c32, reduction)
        # No BatchNorm on the pooled 1x1 map: it would fail for a batch of one in training mode.
        self.global_context = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), conv_norm_act(c32, c32, kernel_size=1, norm="none")
        )
        self.merge32 = conv_norm_act(c32, c16)
        self.merge16 = conv_norm_act(c16, c8)
        self.out_channels = c8

    def forward(self, image: Tensor) -> Tensor:
        x8 = self.stem(image)
        x16 = self.block16(x8)
        x32 = self.block32(x16)
        up32 = self.merge32(self.attend32(x32) + self.global_context(x32))
        up16 = self.merge16(self.attend16(x16) + F.interpolate(up32, size=x16.shape[-2:], mode="nearest"))
        return F.interpolate(up16, size=x8.shape[-2:], mode="nearest")


class FeatureFusion(nn.Module):
    """Concatenate both paths, a 1x1 conv, then an attention-weighted residual (BiSeNet's FFM with an ARM)."""

    def __init__(self, in_channels: int, out_channels: int, attention: str, reduction: int) -> None:
        super().__init__()
        self.fuse = conv_norm_act(in_channels, out_channels, kernel_size=1)
        self.attend = make_attention(attention, out_channels, reduction)

    def forward(self, spatial: Tensor, context: Tensor) -> Tensor:
        fused = self.fuse(torch.cat([spatial, context], dim=1))
        return fused + self.attend(fused)


class SMG(nn.Module):
    """Face parser: ``forward(image [B,3,H,W] in [-1,1]) -> logits [B, NUM_PARSING_CLASSES, H, W]``."""

    def __init__(self, config: SMGConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or SMGConfig()
        self.spatial = SpatialPath(config.width)
        self.context = ContextPath(config.width, config.attention, config.reduction)
        fused = 4 * config.width
        self.fusion = FeatureFusion(
            self.spatial.out_channels + self.context.out_channels, fused, config.attention, config.reduction
        )
        self.head = nn.Sequential(conv_norm_act(fused, fused), nn.Conv2d(fused, NUM_PARSING_CLASSES, 1))

    def forward(self, image: Tensor) -> Tensor:
        features = self.fusion(self.spatial(image), self.context(image))
        return F.interpolate(self.head(features), size=image.shape[-2:], mode="bilinear", align_corners=False)

    @torch.no_grad()
    def masks(self, image: Tensor) -> Tensor:
        """Region masks [B,3,H,W] (eye, mouth, part) of ``image``, with this SMG's dilation and blur."""
        return region_masks(self(image), self.config.mask_dilation, self.config.mask_blur)
