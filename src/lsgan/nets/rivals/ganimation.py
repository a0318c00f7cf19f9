"""GANimation (Pumarola et al., ECCV 2018; reference code albertpumarola/GANimation
``networks/generator_wasserstein_gan.py``, ``networks/discriminator_wasserstein_gan.py``), the paper's second
rival: a generator conditioned on the 16 target AUs (constant maps beside the image) whose body is StarGAN's, with
two heads, a colour mask C (7x7 conv, tanh) and an attention mask A (7x7 conv, sigmoid), and the output
``A * I + (1 - A) * C`` (the attention-based generator: where A is 1 the input is kept). The critic is StarGAN's
PatchGAN with a real/fake head and an AU regression head (linear, 16 values).

Weights start from N(0, 0.02) for every (transposed) conv and zero biases, as the reference's ``init_weights``.
Departures: none in the networks beyond StarGAN's (InstanceNorm without running statistics is the reference's
choice here); widths and depths come from ``GANimationConfig`` (docs/rivals.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from lsgan import facs
from lsgan.nets.blocks import au_maps
from lsgan.nets.rivals.stargan import PatchDiscriminator, StarGANConfig, output_conv, translation_body


@dataclass
class GANimationConfig(StarGANConfig):
    """GANimation's networks are StarGAN's (its reference code starts from StarGAN's): the same widths and
    depths, 64 / 6 / 64 / 6 in the reference at 128 px."""


@dataclass
class GANimationOutput:
    image: Tensor  # [B,3,H,W] A * I + (1 - A) * C
    colour: Tensor  # [B,3,H,W] C in [-1, 1]
    attention: Tensor  # [B,1,H,W] A in [0, 1]; 1 keeps the input pixel


def compose(image: Tensor, colour: Tensor, attention: Tensor) -> Tensor:
    """GANimation's output: the input where the attention is 1, the colour mask where it is 0."""
    return attention * image + (1.0 - attention) * colour


def init_weights(module: nn.Module) -> None:
    """The reference's initialisation: conv and transposed-conv weights ~ N(0, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class GANimationGenerator(nn.Module):
    """``forward(image [B,3,H,W] in [-1,1], aus [B,16] in [0,1]) -> GANimationOutput``."""

    def __init__(self, config: GANimationConfig | None = None) -> None:
        super().__init__()
        config = config or GANimationConfig()
        self.body = translation_body(3 + facs.NUM_AUS, config.width, config.residual_blocks)
        self.colour_head = nn.Sequential(output_conv(config.width, 3), nn.Tanh())
        self.attention_head = nn.Sequential(output_conv(config.width, 1), nn.Sigmoid())
        self.apply(init_weights)

    def forward(self, image: Tensor, aus: Tensor) -> GANimationOutput:
        features = self.body(torch.cat([image, au_maps(aus, image.shape[-2:])], dim=1))
        colour, attention = self.colour_head(features), self.attention_head(features)
        return GANimationOutput(compose(image, colour, attention), colour, attention)


class GANimationCritic(PatchDiscriminator):
    """``forward(image) -> (real/fake patch scores [B,1,s,s], AU intensities [B,16])`` (D_I and D_y)."""

    def __init__(self, config: GANimationConfig | None = None, image_size: int = 128) -> None:
        super().__init__(config or GANimationConfig(), image_size, facs.NUM_AUS)
        self.apply(init_weights)
