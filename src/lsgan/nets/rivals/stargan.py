"""StarGAN (Choi et al., CVPR 2018; reference code yunjey/stargan ``model.py``), the paper's first rival: one
generator for every domain, the target domain given as constant label maps concatenated to the input image, and
a PatchGAN discriminator with a source head (real/fake) and a domain classification head.

Domains are the eight emotions of ``facs.EMOTIONS`` (StarGAN's RaFD setting). lsgan's generators take target AUs,
so ``emotion_domain`` turns an AU vector into its emotion (the nearest full-intensity prototype by cosine, neutral
when the AUs are about 0) both in training and in editing: StarGAN can only make the eight prototypes, whatever AU
mix is asked for. That is the design the paper compares against (docs/rivals.md).

Networks as the reference: 7x7 conv, two 4x4 stride-2 down-samplings, residual blocks, two 4x4 transposed-conv
up-samplings, 7x7 conv + tanh, InstanceNorm (affine) and ReLU throughout; the discriminator is ``d_layers`` 4x4
stride-2 convs with LeakyReLU(0.01). Departure: InstanceNorm keeps no running statistics (the reference tracks
them, which makes eval mode differ from training), so an edit is the same in training and in the Editor.
GANimation's networks (``ganimation.py``) are built from the same parts, as its reference code is.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lsgan import facs
from lsgan.config import ConfigError, check_min
from lsgan.nets.blocks import au_maps, channel_ladder

DOWNSAMPLINGS = 2  # the generator's stride-2 convs (and transposed convs back up), as both references
NUM_DOMAINS = len(facs.EMOTIONS)
NEUTRAL = facs.EMOTIONS.index("neutral")
# An AU vector shorter than this (L2) is neutral: the half-intensity prototypes are all at least 0.43 long.
NEUTRAL_NORM = 0.2


@dataclass
class StarGANConfig:
    width: int = 64  # g_conv_dim: channels of the first 7x7 conv, doubled by each down-sampling
    residual_blocks: int = 6  # g_repeat_num: residual blocks at 1/4 resolution
    d_width: int = 64  # d_conv_dim: channels of the discriminator's first conv, doubled by each next one
    d_layers: int = 6  # d_repeat_num: 4x4 stride-2 convs (image_size / 2**d_layers must be at least 1)
    d_max_channels: int = 2048  # cap on the discriminator's channels (2048: the reference's 64 * 2**5, no cap)

    def __post_init__(self) -> None:
        check_min(self, 1, "width", "d_width", "d_layers", "d_max_channels")
        check_min(self, 0, "residual_blocks")


def emotion_domain(aus: Tensor) -> Tensor:
    """AU intensities [B,16] -> one-hot emotion domains [B,8] (order ``facs.EMOTIONS``): the emotion whose
    full-intensity prototype (``facs.EMOTION_PROTOTYPES``) has the largest cosine with the AUs, or neutral when
    their L2 norm is below ``NEUTRAL_NORM``. The same function labels real images (their AU labels), training
    targets and the Editor's targets."""
    prototypes = torch.stack([torch.from_numpy(facs.emotion_vector(e)) for e in facs.EMOTIONS]).to(aus)  # [8,16]
    cosine = F.normalize(aus, dim=1) @ F.normalize(prototypes, dim=1).T  # [B,8]; the neutral column is 0
    cosine[:, NEUTRAL] = -2.0  # below any cosine: neutral only by the norm test
    index = torch.where(aus.norm(dim=1) < NEUTRAL_NORM, NEUTRAL, cosine.argmax(dim=1))
    return (index[:, None] == torch.arange(NUM_DOMAINS, device=aus.device)).to(aus.dtype)


def instance_norm(channels: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(channels, affine=True)


class ResidualBlock(nn.Module):
    """x + (3x3 conv -> IN -> ReLU -> 3x3 conv -> IN)(x), channels unchanged."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), instance_norm(channels), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False), instance_norm(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def translation_body(in_channels: int, width: int, residual_blocks: int) -> nn.Sequential:
    """StarGAN's generator less its output conv (GANimation's too): ``[B, in_channels, H, W] -> [B, width, H, W]``
    through a 7x7 conv, 2 down-samplings (4x4, stride 2), residual blocks at H/4 and 2 transposed 4x4 convs.
    H and W must be multiples of 4."""
    channels = [width * 2**level for level in range(DOWNSAMPLINGS + 1)]
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, width, 7, padding=3, bias=False), instance_norm(width), nn.ReLU(inplace=True),
    ]
    for c_in, c_out in itertools.pairwise(channels):
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), instance_norm(c_out), nn.ReLU(inplace=True)]
    layers += [ResidualBlock(channels[-1]) for _ in range(residual_blocks)]
    for c_in, c_out in itertools.pairwise(reversed(channels)):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), instance_norm(c_out), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


def output_conv(width: int, channels: int) -> nn.Conv2d:
    """The 7x7 conv of an output head (no bias, as the references)."""
    return nn.Conv2d(width, channels, 7, padding=3, bias=False)


class StarGANGenerator(nn.Module):
    """``forward(image [B,3,H,W] in [-1,1], domain [B,8] one-hot) -> image [B,3,H,W]``: the domain as constant
    maps beside the image, the translation body, a 7x7 conv and tanh."""

    def __init__(self, config: StarGANConfig | None = None) -> None:
        super().__init__()
        config = config or StarGANConfig()
        self.body = translation_body(3 + NUM_DOMAINS, config.width, config.residual_blocks)
        self.to_image = nn.Sequential(output_conv(config.width, 3), nn.Tanh())

    def forward(self, image: Tensor, domain: Tensor) -> Tensor:
        return self.to_image(self.body(torch.cat([image, au_maps(domain, image.shape[-2:])], dim=1)))


class PatchDiscriminator(nn.Module):
    """StarGAN's discriminator (and GANimation's critic): ``d_layers`` 4x4 stride-2 convs with LeakyReLU(0.01),
    then a 3x3 source head, a patch of real/fake scores ``[B,1,s,s]`` (s = side / 2**d_layers), and a head over
    the whole s x s map giving ``outputs`` values ``[B, outputs]`` (domain logits, or AU intensities)."""

    def __init__(self, config: StarGANConfig, image_size: int, outputs: int) -> None:
        super().__init__()
        side = image_size // 2**config.d_layers
        if side < 1:
            raise ConfigError(f"d_layers={config.d_layers} halves a {image_size}-px image below 1 px: use at most "
                              f"{image_size.bit_length() - 1}")
        channels = [3, *channel_ladder(config.d_width, config.d_max_channels, config.d_layers - 1)]
        layers: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(channels):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.01)]
        self.trunk = nn.Sequential(*layers)
        self.source_head = nn.Conv2d(channels[-1], 1, 3, padding=1, bias=False)
        self.class_head = nn.Conv2d(channels[-1], outputs, side, bias=False)

    def forward(self, image: Tensor) -> tuple[Tensor, Tensor]:
        features = self.trunk(image)
        return self.source_head(features), self.class_head(features).flatten(1)


class StarGANDiscriminator(PatchDiscriminator):
    """``forward(image) -> (real/fake patch scores [B,1,s,s], domain logits [B,8])``."""

    def __init__(self, config: StarGANConfig | None = None, image_size: int = 128) -> None:
        super().__init__(config or StarGANConfig(), image_size, NUM_DOMAINS)
