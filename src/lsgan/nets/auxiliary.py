"""The two pretrained helpers of the losses (paper §Loss function): G_exp, an AU-intensity regressor (Eq. 6),
and C_id, an identity classifier (Eq. 7), both VGG-style conv stacks with global pooling.

``width`` scales every conv's channels (e.g. 0.25 for a CPU config). ``init: imagenet`` copies ImageNet VGG16
convs (``lsgan.nets.pretrained``) and needs ``width: 1``; for VGG19, whose stages 3-5 have a fourth conv, that
extra conv starts as a copy of the stage's last VGG16 conv (same shape). With ``batch_norm`` the BN layers start
as identities, so the copied convs keep their ImageNet responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lsgan import facs
from lsgan.config import ConfigError
from lsgan.errors import CheckpointError
from lsgan.nets.blocks import conv_norm_act

# Convs per stage (each stage ends in a 2x2 max-pool) and their ImageNet channel counts.
STAGE_CONVS: dict[str, tuple[int, ...]] = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
STAGE_CHANNELS: tuple[int, ...] = (64, 128, 256, 512, 512)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class AuxiliaryConfig:
    arch: Literal["vgg16", "vgg19"] = "vgg19"
    width: float = 1.0  # channel multiplier of the conv stack
    batch_norm: bool = True
    init: Literal["imagenet", "none"] = "none"
    embedding_dim: int = 256  # hidden layer between pooled features and the output layer


class VGGFeatures(nn.Module):
    """ImageNet-normalised input ([-1,1] -> ImageNet statistics), VGG conv stages, global average pooling:
    ``forward(image [B,3,H,W]) -> [B, C]``."""

    def __init__(self, config: AuxiliaryConfig) -> None:
        super().__init__()
        self.config = config
        norm = "batch" if config.batch_norm else "none"
        layers: list[nn.Module] = []
        in_channels = 3
        for convs, channels in zip(STAGE_CONVS[config.arch], STAGE_CHANNELS):
            out_channels = max(1, round(channels * config.width))
            for _ in range(convs):
                layers.append(conv_norm_act(in_channels, out_channels, norm=norm, act="relu"))
                in_channels = out_channels
            layers.append(nn.MaxPool2d(2, ceil_mode=True))
        self.stages = nn.Sequential(*layers)
        self.out_channels = in_channels
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        if config.init == "imagenet":
            self.load_imagenet()

    def convs(self) -> list[nn.Conv2d]:
        return [m for m in self.stages.modules() if isinstance(m, nn.Conv2d)]

    def load_imagenet(self) -> None:
        if self.config.width != 1.0:
            raise ConfigError(
                f"aux.init=imagenet needs aux.width=1.0 (the VGG16 channel counts), got {self.config.width}"
            )
        from lsgan.nets.pretrained import (
            vgg16_conv_weights,  # lazy: optional converted weights file
        )

        pretrained = vgg16_conv_weights()
        with torch.no_grad():
            for conv, source in zip(self.convs(), _vgg16_sources(self.config.arch)):
                weight, bias = pretrained[source]
                if weight.shape != conv.weight.shape:
                    raise CheckpointError(
                        f"ImageNet VGG16 conv {source} has shape {tuple(weight.shape)}, expected {tuple(conv.weight.shape)}"
                    )
                conv.weight.copy_(weight)
                if conv.bias is not None:
                    conv.bias.copy_(bias)

    def forward(self, image: Tensor) -> Tensor:
        x = ((image + 1.0) / 2.0 - self.mean) / self.std
        return self.stages(x).mean(dim=(2, 3))


def _vgg16_sources(arch: str) -> list[int]:
    """For each conv of ``arch``, the index of the VGG16 conv it starts from (extra convs repeat the last)."""
    sources, offset = [], 0
    for convs, vgg16_convs in zip(STAGE_CONVS[arch], STAGE_CONVS["vgg16"]):
        sources += [offset + min(j, vgg16_convs - 1) for j in range(convs)]
        offset += vgg16_convs
    return sources


class _VGGModel(nn.Module):
    """VGG features -> FC embedding (ReLU) -> output layer."""

    def __init__(self, config: AuxiliaryConfig, outputs: int) -> None:
        super().__init__()
        self.config = config
        self.features = VGGFeatures(config)
        self.embed = nn.Sequential(nn.Linear(self.features.out_channels, config.embedding_dim), nn.ReLU(inplace=True))
        self.out = nn.Linear(config.embedding_dim, outputs)

    def embedding(self, image: Tensor) -> Tensor:
        """L2-normalised penultimate features [B, embedding_dim] (for identity / perceptual metrics)."""
        return F.normalize(self.embed(self.features(image)), dim=1)

    def raw(self, image: Tensor) -> Tensor:
        return self.out(self.embed(self.features(image)))


class AURegressor(_VGGModel):
    """G_exp: ``forward(image [B,3,H,W] in [-1,1]) -> AU intensities [B,16] in [0,1]`` (sigmoid)."""

    def __init__(self, config: AuxiliaryConfig | None = None) -> None:
        super().__init__(config or AuxiliaryConfig(), facs.NUM_AUS)

    def forward(self, image: Tensor) -> Tensor:
        return torch.sigmoid(self.raw(image))


class IdentityClassifier(_VGGModel):
    """C_id: ``forward(image) -> logits [B, num_identities]``; ``embedding(image)`` for identity metrics."""

    def __init__(self, num_identities: int, config: AuxiliaryConfig | None = None) -> None:
        if num_identities < 1:
            raise ConfigError(f"IdentityClassifier needs at least one identity, got {num_identities}")
        super().__init__(config or AuxiliaryConfig(), num_identities)
        self.num_identities = num_identities

    def forward(self, image: Tensor) -> Tensor:
        return self.raw(image)
