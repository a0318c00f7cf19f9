"""The FID feature network: TensorFlow's 2015-12-05 InceptionV3 (pool3, 2048-d), ported to plain torch.

This is the graph every published FID uses (Heusel et al. 2017), not torchvision's InceptionV3, which differs
in weights and in a few pooling layers. Layer names follow the TF graph (``mixed_4/tower_1/conv_2``) so the
converted weights map one to one. Batch norms are folded into the conv biases at conversion
(``lsgan.nets.weight_conversion``), and the conversion checks this module against the reference TorchScript net.

Input: ``[B, 3, 299, 299]`` scaled as TF's ``(x - 128) / 128`` of 0-255 pixels, i.e. in ``[-1, 0.9921875]``.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

FID_INPUT_SIZE = 299
FID_FEATURES = 2048


class ConvReLU(nn.Conv2d):
    """A conv with its batch norm folded into the bias, then ReLU (every conv of the TF graph is one)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int | tuple[int, int], stride: int = 1,
                 same: bool = True) -> None:
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        padding = (kh // 2, kw // 2) if same else (0, 0)
        super().__init__(in_channels, out_channels, (kh, kw), stride=stride, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(super().forward(x))


def _chain(*layers: nn.Module) -> nn.Sequential:
    """A tower whose layers are named conv, conv_1, conv_2, ... as in the TF graph."""
    names = ["conv"] + [f"conv_{i}" for i in range(1, len(layers))]
    return nn.Sequential(OrderedDict(zip(names, layers, strict=True)))


def _avg_pool_3x3() -> nn.AvgPool2d:
    return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)


def _pooled_1x1(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(OrderedDict(pool=_avg_pool_3x3(), conv=ConvReLU(in_channels, out_channels, 1)))


def _factorised_7x7(in_channels: int, mid: int, out_channels: int, double: bool) -> nn.Sequential:
    """1x1 then alternating 1x7/7x1 convs (tower) or 7x1/1x7 twice (double tower), as in Inception-C."""
    if not double:
        return _chain(ConvReLU(in_channels, mid, 1), ConvReLU(mid, mid, (1, 7)), ConvReLU(mid, out_channels, (7, 1)))
    return _chain(
        ConvReLU(in_channels, mid, 1), ConvReLU(mid, mid, (7, 1)), ConvReLU(mid, mid, (1, 7)),
        ConvReLU(mid, mid, (7, 1)), ConvReLU(mid, out_channels, (1, 7)),
    )


class _Concat(nn.Module):
    """Runs every child branch on the same input and concatenates along channels, in registration order."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.children()], dim=1)


class InceptionA(_Concat):
    def __init__(self, in_channels: int, pool_channels: int) -> None:
        super().__init__()
        self.conv = ConvReLU(in_channels, 64, 1)
        self.tower = _chain(ConvReLU(in_channels, 48, 1), ConvReLU(48, 64, 5))
        self.tower_1 = _chain(ConvReLU(in_channels, 64, 1), ConvReLU(64, 96, 3), ConvReLU(96, 96, 3))
        self.tower_2 = _pooled_1x1(in_channels, pool_channels)


class InceptionB(_Concat):
    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.conv = ConvReLU(in_channels, 384, 3, stride=2, same=False)
        self.tower = _chain(ConvReLU(in_channels, 64, 1), ConvReLU(64, 96, 3), ConvReLU(96, 96, 3, 2, same=False))
        self.pool = nn.MaxPool2d(3, stride=2)


class InceptionC(_Concat):
    def __init__(self, in_channels: int, mid: int) -> None:
        super().__init__()
        self.conv = ConvReLU(in_channels, 192, 1)
        self.tower = _factorised_7x7(in_channels, mid, 192, double=False)
        self.tower_1 = _factorised_7x7(in_channels, mid, 192, double=True)
        self.tower_2 = _pooled_1x1(in_channels, 192)


class InceptionD(_Concat):
    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.tower = _chain(ConvReLU(in_channels, 192, 1), ConvReLU(192, 320, 3, stride=2, same=False))
        self.tower_1 = _chain(
            ConvReLU(in_channels, 192, 1), ConvReLU(192, 192, (1, 7)), ConvReLU(192, 192, (7, 1)),
            ConvReLU(192, 192, 3, stride=2, same=False),
        )
        self.pool = nn.MaxPool2d(3, stride=2)


class InceptionE(nn.Module):
    """Expanded filter bank; the last block of the TF graph pools with max, the one before with average."""

    def __init__(self, in_channels: int, max_pool: bool) -> None:
        super().__init__()
        self.conv = ConvReLU(in_channels, 320, 1)
        self.tower_conv = ConvReLU(in_channels, 384, 1)
        self.tower_mixed_conv = ConvReLU(384, 384, (1, 3))
        self.tower_mixed_conv_1 = ConvReLU(384, 384, (3, 1))
        self.tower_1_conv = ConvReLU(in_channels, 448, 1)
        self.tower_1_conv_1 = ConvReLU(448, 384, 3)
        self.tower_1_mixed_conv = ConvReLU(384, 384, (1, 3))
        self.tower_1_mixed_conv_1 = ConvReLU(384, 384, (3, 1))
        self.tower_2_pool = nn.MaxPool2d(3, stride=1, padding=1) if max_pool else _avg_pool_3x3()
        self.tower_2_conv = ConvReLU(in_channels, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.tower_conv(x)
        b = self.tower_1_conv_1(self.tower_1_conv(x))
        return torch.cat([
            self.conv(x),
            self.tower_mixed_conv(a), self.tower_mixed_conv_1(a),
            self.tower_1_mixed_conv(b), self.tower_1_mixed_conv_1(b),
            self.tower_2_conv(self.tower_2_pool(x)),
        ], dim=1)


class FIDInceptionV3(nn.Module):
    """``[B, 3, 299, 299]`` in ``[-1, 0.9921875]`` -> pool3 features ``[B, 2048]``."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(OrderedDict([
            ("conv", ConvReLU(3, 32, 3, stride=2, same=False)),
            ("conv_1", ConvReLU(32, 32, 3, same=False)),
            ("conv_2", ConvReLU(32, 64, 3)),
            ("pool0", nn.MaxPool2d(3, stride=2)),
            ("conv_3", ConvReLU(64, 80, 1)),
            ("conv_4", ConvReLU(80, 192, 3, same=False)),
            ("pool1", nn.MaxPool2d(3, stride=2)),
            ("mixed", InceptionA(192, 32)),
            ("mixed_1", InceptionA(256, 64)),
            ("mixed_2", InceptionA(288, 64)),
            ("mixed_3", InceptionB(288)),
            ("mixed_4", InceptionC(768, 128)),
            ("mixed_5", InceptionC(768, 160)),
            ("mixed_6", InceptionC(768, 160)),
            ("mixed_7", InceptionC(768, 192)),
            ("mixed_8", InceptionD(768)),
            ("mixed_9", InceptionE(1280, max_pool=False)),
            ("mixed_10", InceptionE(2048, max_pool=True)),
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).mean(dim=(2, 3))  # [B, 2048, 8, 8] -> [B, 2048]
