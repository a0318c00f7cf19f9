"""AU-intensity discriminator (AUD): 6 stride-2 convolutions with LeakyReLU, then two heads (paper §AUD):
D_adv, a patch map of real/fake logits, and D_cls, a regression of the 16 AU intensities.

D_cls is linear (no sigmoid), as in GANimation: an MSE to targets at 0 or 1 then never saturates. Read it as an
estimate with ``AUDiscriminator.estimate_aus`` (clamped to [0, 1]). No normalisation layers, so the WGAN-GP
penalty (per-sample gradients) stays valid.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from torch import Tensor, nn

from lsgan import facs
from lsgan.nets.blocks import NUM_LEVELS, channel_ladder, halving_chain


@dataclass
class AUDConfig:
    width: int = 64  # channels after the first conv, doubling per conv
    max_channels: int = 512


class AUDiscriminator(nn.Module):
    """``forward(image [B,3,H,W]) -> (adv logits [B,1,h,w], AU intensities [B,16])``; h = w = side/64."""

    def __init__(self, config: AUDConfig | None = None, image_size: int = 128) -> None:
        super().__init__()
        config = config or AUDConfig()
        channels = [3, *channel_ladder(config.width, config.max_channels, NUM_LEVELS - 1)]
        layers: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(channels):
            layers += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.LeakyReLU(0.01)]
        self.trunk = nn.Sequential(*layers)
        coarsest = halving_chain(image_size)[-1]
        self.adv_head = nn.Conv2d(channels[-1], 1, 3, padding=1, bias=False)  # D_adv
        self.au_head = nn.Conv2d(channels[-1], facs.NUM_AUS, coarsest, bias=False)  # D_cls

    def forward(self, image: Tensor) -> tuple[Tensor, Tensor]:
        features = self.trunk(image)
        return self.adv_head(features), self.au_head(features).flatten(1)

    def estimate_aus(self, image: Tensor) -> Tensor:
        """D_cls read as AU intensities in [0, 1]."""
        return self.forward(image)[1].clamp(0.0, 1.0)
