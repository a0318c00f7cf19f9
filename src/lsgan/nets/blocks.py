"""Layers shared by the LSGAN networks: conv/norm/activation stacks, ResNet basic blocks, the up-sampling
residual block of the transformative generator, AU-map broadcasting and the resolution/channel ladders.

Every strided convolution in lsgan is 3x3 with stride 2 and padding 1, so one step maps a side ``s`` to
``ceil(s / 2)``; ``halving_chain`` gives the sides of all levels, which lets any image size (also tiny test
sizes below 64, where the coarsest levels stay 1x1) line encoder features up with generator blocks.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# The paper's TG has 6 up-sampling residual blocks, so encoder E and the AUD go down 6 levels too.
NUM_LEVELS = 6

Norm = Literal["batch", "group", "none"]
Activation = Literal["relu", "lrelu", "hardswish", "none"]


def halving_chain(size: int, steps: int = NUM_LEVELS) -> list[int]:
    """Sides after 0..steps stride-2 convolutions (3x3, padding 1): ``[size, ceil(size/2), ...]``."""
    sides = [size]
    for _ in range(steps):
        sides.append((sides[-1] + 1) // 2)
    return sides


def channel_ladder(width: int, max_channels: int, levels: int = NUM_LEVELS) -> list[int]:
    """Channels per level 0..levels, doubling from ``width`` at full resolution, capped at ``max_channels``."""
    return [min(width * 2**level, max_channels) for level in range(levels + 1)]


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with at least 4 channels per group: unlike InstanceNorm it does not zero 1x1 feature maps."""
    groups = next((g for g in (8, 4, 2) if channels % g == 0 and channels // g >= 4), 1)
    return nn.GroupNorm(groups, channels)


def make_norm(kind: Norm, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return group_norm(channels)
    return nn.Identity()


def make_activation(kind: Activation) -> nn.Module:
    return {
        "relu": lambda: nn.ReLU(inplace=True),
        "lrelu": lambda: nn.LeakyReLU(0.2, inplace=True),
        "hardswish": lambda: nn.Hardswish(),
        "none": nn.Identity,
    }[kind]()


def conv_norm_act(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 3,
    stride: int = 1,
    norm: Norm = "batch",
    act: Activation = "relu",
) -> nn.Sequential:
    """Conv (same padding, no bias when normalised) -> norm -> activation."""
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, bias=norm == "none")
    return nn.Sequential(conv, make_norm(norm, out_channels), make_activation(act))


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs) with a 1x1 projection shortcut when the shape changes."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, norm: Norm = "batch") -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_norm_act(in_channels, out_channels, 3, stride, norm, "relu"),
            conv_norm_act(out_channels, out_channels, 3, 1, norm, "none"),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = conv_norm_act(in_channels, out_channels, 1, stride, norm, "none")

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.body(x) + self.shortcut(x))


def au_maps(aus: Tensor, size: tuple[int, int]) -> Tensor:
    """Broadcast AU intensities [B, n] to constant maps [B, n, h, w] (GANimation-style conditioning)."""
    return aus[:, :, None, None].expand(-1, -1, *size)


class UpResBlock(nn.Module):
    """Up-sampling residual block: resize to ``size``, concatenate an optional skip feature and the AU maps,
    two pre-activation 3x3 convs; the shortcut is a 1x1 conv of the resized input."""

    def __init__(self, in_channels: int, skip_channels: int, au_channels: int, out_channels: int) -> None:
        super().__init__()
        joined = in_channels + skip_channels + au_channels
        self.body = nn.Sequential(
            group_norm(joined),
            nn.LeakyReLU(0.2),
            nn.Conv2d(joined, out_channels, 3, padding=1),
            group_norm(out_channels),
            nn.LeakyReLU(0.2),
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
        )
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: Tensor, size: tuple[int, int], aus: Tensor, skip: Tensor | None = None) -> Tensor:
        x = F.interpolate(x, size=size, mode="nearest")
        parts = [x] if skip is None else [x, skip]
        joined = torch.cat([*parts, au_maps(aus, size)], dim=1)
        return self.body(joined) + self.shortcut(x)


def to_rgb(channels: int, out_channels: int = 3) -> nn.Sequential:
    """Norm -> activation -> 3x3 conv to RGB (or ``out_channels`` maps) -> tanh (images live in [-1, 1])."""
    return nn.Sequential(
        group_norm(channels), nn.LeakyReLU(0.2), nn.Conv2d(channels, out_channels, 3, padding=1), nn.Tanh()
    )
