"""Adversarial autoencoder (AAE, paper Fig. 3): encoder E, decoder (a fully-connected layer + 5 convolutions)
and latent discriminator D_z, which pushes E's codes towards N(0, I) (Eq. 4).

E is pretrained here on whole faces and on region images (image x region mask); LSGAN then reuses it to get
z_e, z_m, z_p. Besides the code z, E returns its feature maps at every level: the transformative generator
reads them as U-Net skips (see ``generator.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lsgan.nets.blocks import NUM_LEVELS, channel_ladder, conv_norm_act, halving_chain

# The decoder's 5 convolutions each double the side, so it starts from side / 32.
DECODER_CONVS = 5


@dataclass
class AAEConfig:
    width: int = 32  # encoder channels at full resolution (doubling per level)
    max_channels: int = 256  # encoder channel cap
    latent_dim: int = 128  # size of z
    decoder_width: int = 32  # decoder channels at full resolution (doubling towards the coarse end)
    discriminator_hidden: int = 256  # D_z hidden units


@dataclass
class EncoderOutput:
    z: Tensor  # [B, latent_dim]
    features: list[Tensor]  # level l: [B, C_l, side_l, side_l], l = 0 (full resolution) .. NUM_LEVELS

    def select(self, index: slice | Tensor) -> EncoderOutput:
        """The same code and features for a subset of the batch."""
        return EncoderOutput(self.z[index], [f[index] for f in self.features])


class Encoder(nn.Module):
    """E: a 3x3 stem, then NUM_LEVELS stride-2 convs; z = FC(flatten(coarsest features))."""

    def __init__(self, config: AAEConfig, image_size: int) -> None:
        super().__init__()
        self.feature_channels = channel_ladder(config.width, config.max_channels)
        channels = self.feature_channels
        self.stem = conv_norm_act(3, channels[0], norm="group", act="lrelu")
        self.downs = nn.ModuleList(
            conv_norm_act(channels[i], channels[i + 1], stride=2, norm="group", act="lrelu") for i in range(NUM_LEVELS)
        )
        coarsest = halving_chain(image_size)[-1]
        self.to_latent = nn.Linear(channels[-1] * coarsest * coarsest, config.latent_dim)

    def forward(self, image: Tensor) -> EncoderOutput:
        features = [self.stem(image)]
        for down in self.downs:
            features.append(down(features[-1]))
        return EncoderOutput(self.to_latent(features[-1].flatten(1)), features)


class Decoder(nn.Module):
    """FC z -> [C, side/32, side/32], then 5 (upsample x2, 3x3 conv) layers; the last gives RGB through tanh."""

    def __init__(self, config: AAEConfig, image_size: int) -> None:
        super().__init__()
        self.sides = halving_chain(image_size, DECODER_CONVS)[::-1]  # coarse -> fine
        channels = channel_ladder(config.decoder_width, config.max_channels, DECODER_CONVS)[::-1]
        self.start_channels = channels[0]
        self.from_latent = nn.Linear(config.latent_dim, channels[0] * self.sides[0] ** 2)
        self.convs = nn.ModuleList(
            conv_norm_act(channels[i], channels[i + 1], norm="group", act="lrelu") for i in range(DECODER_CONVS - 1)
        )
        self.to_image = nn.Conv2d(channels[-2], 3, 3, padding=1)

    def forward(self, z: Tensor) -> Tensor:
        x = self.from_latent(z).view(-1, self.start_channels, self.sides[0], self.sides[0])
        for conv, side in zip(self.convs, self.sides[1:]):
            x = conv(F.interpolate(x, size=(side, side), mode="nearest"))
        x = F.interpolate(x, size=(self.sides[-1], self.sides[-1]), mode="nearest")
        return torch.tanh(self.to_image(x))


class LatentDiscriminator(nn.Module):
    """D_z: MLP on a code z [B, latent_dim] -> logit [B] (prior sample vs encoded)."""

    def __init__(self, config: AAEConfig) -> None:
        super().__init__()
        hidden = config.discriminator_hidden
        self.mlp = nn.Sequential(
            nn.Linear(config.latent_dim, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.mlp(z).squeeze(1)


class AdversarialAutoencoder(nn.Module):
    """E + decoder + D_z, the unit the AAE pretraining stage trains. ``forward(image) -> (z, reconstruction)``."""

    def __init__(self, config: AAEConfig | None = None, image_size: int = 128) -> None:
        super().__init__()
        self.config = config = config or AAEConfig()
        self.encoder = Encoder(config, image_size)
        self.decoder = Decoder(config, image_size)
        self.latent_discriminator = LatentDiscriminator(config)

    def forward(self, image: Tensor) -> tuple[Tensor, Tensor]:
        z = self.encoder(image).z
        return z, self.decoder(z)

    def sample_prior(self, batch: int, device: torch.device | str | None = None) -> Tensor:
        """z' ~ N(0, I), the prior D_z compares codes against."""
        return torch.randn(batch, self.config.latent_dim, device=device)
