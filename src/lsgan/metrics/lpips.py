"""LPIPS v0.1 (Zhang et al. 2018, the paper's Eq. 14) in plain torch, from the converted weights.

As in the reference implementation: scale the ``[-1, 1]`` input with LPIPS's ImageNet shift/scale, take the ReLU
outputs of five backbone stages, unit-normalise each feature vector over channels, square the difference, weight
the channels with the learned 1x1 "lin" heads, average over space and sum over the stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from lsgan.metrics.image import check_same_shape
from lsgan.nets import pretrained

LpipsNet = Literal["alex", "vgg"]
NORMALISE_EPS = 1e-10


@dataclass(frozen=True)
class ConvStep:
    """One backbone conv; ``pool_before`` is a (kernel, stride) max-pool ahead of it, ``tap`` marks a compared stage."""

    out_channels: int
    kernel: int = 3
    stride: int = 1
    padding: int = 1
    pool_before: tuple[int, int] | None = None
    tap: bool = False


# torchvision's vgg16().features, compared after relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
VGG16_STEPS: tuple[ConvStep, ...] = tuple(
    ConvStep(channels, pool_before=(2, 2) if index in (2, 4, 7, 10) else None, tap=index in (1, 3, 6, 9, 12))
    for index, channels in enumerate(pretrained.VGG16_CONV_CHANNELS)
)
# torchvision's alexnet().features, compared after every ReLU.
ALEXNET_STEPS: tuple[ConvStep, ...] = (
    ConvStep(64, kernel=11, stride=4, padding=2, tap=True),
    ConvStep(192, kernel=5, padding=2, pool_before=(3, 2), tap=True),
    ConvStep(384, pool_before=(3, 2), tap=True),
    ConvStep(256, tap=True),
    ConvStep(256, tap=True),
)
NETS: dict[str, tuple[tuple[ConvStep, ...], str]] = {
    "vgg": (VGG16_STEPS, pretrained.LPIPS_VGG16),
    "alex": (ALEXNET_STEPS, pretrained.LPIPS_ALEX),
}


class LPIPS(nn.Module):
    """``LPIPS(net)(a, b)`` -> ``[B]`` distances for image batches in ``[-1, 1]``; 0 for identical images.

    The weights are frozen, but gradients flow to the inputs, so it can also serve as a perceptual loss.
    """

    def __init__(self, net: LpipsNet = "alex", load_pretrained: bool = True) -> None:
        super().__init__()
        if net not in NETS:
            raise ValueError(f"unknown LPIPS net {net!r}; choose one of {', '.join(NETS)}")
        steps, weight_file = NETS[net]
        self.steps = steps
        self.backbone = nn.ModuleList(_convs(steps))
        self.heads = nn.ModuleList(
            nn.Conv2d(step.out_channels, 1, 1, bias=False) for step in steps if step.tap
        )
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1), persistent=False)
        if load_pretrained:
            pretrained.load_into(self, weight_file)
        self.requires_grad_(False)
        self.eval()

    def stage_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The unit-normalised ReLU features of the compared stages, ``[B, C_l, H_l, W_l]`` each."""
        x = (x - self.shift) / self.scale
        features = []
        for step, conv in zip(self.steps, self.backbone, strict=True):
            if step.pool_before is not None:
                x = F.max_pool2d(x, *step.pool_before)
            x = F.relu(conv(x))
            if step.tap:
                features.append(x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + NORMALISE_EPS))
        return features

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        check_same_shape(a, b)
        pairs = zip(self.stage_features(a), self.stage_features(b), strict=True)
        per_stage = [  # each [B]
            head((fa - fb).pow(2)).mean(dim=(1, 2, 3)) for head, (fa, fb) in zip(self.heads, pairs, strict=True)
        ]
        return torch.stack(per_stage).sum(dim=0)


def _convs(steps: tuple[ConvStep, ...]) -> list[nn.Conv2d]:
    in_channels, convs = 3, []
    for step in steps:
        convs.append(nn.Conv2d(in_channels, step.out_channels, step.kernel, step.stride, step.padding))
        in_channels = step.out_channels
    return convs
