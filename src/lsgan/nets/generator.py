"""Transformative generator (TG): three branches of one class (eyes, mouth, part), each turning a region code
and its AU subset into an image through 6 up-sampling residual blocks, fused by the region masks (paper §TG).

The variants are named presets (``tg.preset``, table ``TG_PRESETS``): ``paper`` (the default) is the paper's TG,
``skip`` and ``warp`` add the departures below; a setting given explicitly overrides its preset's value.

Departure (config ``skip_levels``): a pure vector-latent decoder gives blurry faces that lose identity and
background, so each branch can also read encoder E's feature maps of its own region image as U-Net skips,
coarsest level first, and every up-block sees the branch's AU subset as broadcast maps.
``skip_levels: 0`` is the paper's design (z only); ``7`` feeds all levels, 1/64 .. full resolution.
The start side is image_size / 64 (2 at 128, 1 at 64; sizes below 64 keep 1x1 for the first blocks).

Second departure (config ``output``): ``image`` (the paper) has each branch draw its region's pixels;
``residual`` has each branch draw a change that is added to the source image; ``warp`` has each branch draw a
displacement field that moves the source's pixels (brows rise, lip corners pull, the jaw drops) plus a change
added on top (teeth, wrinkles, shading). In both, the last conv starts at zero, so an untrained generator returns
the source exactly and training only has to learn the expression change (see docs/architecture.md).

Also here: ``EncoderDecoderGenerator``, the paper's E_wt(AAE+TG) ablation that replaces AAE + TG (it still reads
the SMG's region masks when there is an SMG).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lsgan import facs
from lsgan.config import ConfigError
from lsgan.nets.aae import EncoderOutput
from lsgan.nets.blocks import (
    NUM_LEVELS,
    BasicBlock,
    UpResBlock,
    au_maps,
    channel_ladder,
    conv_norm_act,
    halving_chain,
    to_rgb,
)

# Region order everywhere: the channels of the region masks and the TG branches.
REGIONS: tuple[str, ...] = ("eye", "mouth", "part")
WARP_CHANNELS = 5  # output "warp": (dx, dy) displacement + RGB change


TGPreset = Literal["paper", "skip", "warp"]

# The generator variants by name: the values of the settings a preset decides (a TGConfig field left at None takes
# its preset's value; one given explicitly, in YAML or code, wins). ``paper``: the paper's TG (z codes and AUs only,
# each branch draws its region's image, conditioned on the target AUs); ``skip``: the paper's plus U-Net skips from
# E's feature maps; ``warp``: the shipped model's design (skips, branches warp the source and add a bounded colour
# change, one output set per AU, conditioned on the AU change). See docs/architecture.md, departures.
# The preset is resolved once, when the config is built: ``dataclasses.replace(tg, preset=...)`` keeps the values
# already resolved, so switch presets by building a new TGConfig (or in the YAML).
TG_PRESETS: dict[str, dict[str, object]] = {
    "paper": {"skip_levels": 0, "output": "image", "au_gated": False, "condition": "target", "max_colour": 1.0},
    "skip": {"skip_levels": NUM_LEVELS + 1, "output": "image", "au_gated": False, "condition": "target",
             "max_colour": 1.0},
    "warp": {"skip_levels": NUM_LEVELS + 1, "output": "warp", "au_gated": True, "condition": "change",
             "max_colour": 0.06},
}


@dataclass
class TGConfig:
    preset: TGPreset = "paper"  # fills the settings below that are left unset (None): see TG_PRESETS
    width: int = 32  # channels of the last (full-resolution) up-block; doubling towards coarse levels
    max_channels: int = 256
    eye_aus: tuple[int, ...] = facs.EYE_AUS  # u_te
    mouth_aus: tuple[int, ...] = facs.MOUTH_AUS  # u_tm
    part_aus: tuple[int, ...] = facs.AU_IDS  # the part branch is conditioned on all of u_t
    skip_levels: int | None = None  # encoder levels fed as skips, coarsest first (0 = paper)
    output: Literal["image", "residual", "warp"] | None = None  # the image (paper), a change, or a warp + a change
    max_shift: float = 0.25  # warp: largest displacement, as a fraction of the image's half-width
    max_colour: float | None = None  # warp: largest colour change, as a fraction of the image's range (1: any)
    au_gated: bool | None = None  # last conv draws a map set per AU, summed with the AU intensities as weights
    condition: Literal["target", "change"] | None = None  # branches read the target AUs (paper) or target - source

    def __post_init__(self) -> None:
        if self.preset not in TG_PRESETS:
            raise ConfigError(f"tg.preset must be one of {', '.join(TG_PRESETS)}, got {self.preset!r}")
        for name, value in TG_PRESETS[self.preset].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if not 0 <= self.skip_levels <= NUM_LEVELS + 1:
            raise ConfigError(f"tg.skip_levels must be 0..{NUM_LEVELS + 1}, got {self.skip_levels}")
        if not 0 < self.max_colour <= 1:
            raise ConfigError(f"tg.max_colour must be in (0, 1], got {self.max_colour}")

    def region_aus(self) -> dict[str, tuple[int, ...]]:
        return {"eye": self.eye_aus, "mouth": self.mouth_aus, "part": self.part_aus}


@dataclass
class EncoderDecoderConfig:
    width: int = 64
    downsamplings: int = 2
    residual_blocks: int = 6
    max_channels: int = 256


class TGBranch(nn.Module):
    """One TG branch: ``forward(code: EncoderOutput, aus [B, n_aus]) -> image [B,3,H,W]`` in [-1, 1].

    [z, aus] -> FC -> [C_6, side/64, side/64] (+ E's level-6 features) -> 6 UpResBlocks (level 5 .. 0, each
    with E's features of that level when skipped, and the AU maps) -> RGB.
    """

    def __init__(
        self, config: TGConfig, num_aus: int, latent_dim: int, skip_channels: Sequence[int], image_size: int
    ) -> None:
        super().__init__()
        self.sides = halving_chain(image_size)
        channels = channel_ladder(config.width, config.max_channels)
        self.skip_level_set = {NUM_LEVELS - i for i in range(min(config.skip_levels, NUM_LEVELS + 1))}
        self.start_channels = channels[NUM_LEVELS]
        start_side = self.sides[NUM_LEVELS]
        self.from_code = nn.Linear(latent_dim + num_aus, self.start_channels * start_side * start_side)
        in_channels = self.start_channels + self._skip(skip_channels, NUM_LEVELS)
        self.blocks = nn.ModuleList()
        for level in reversed(range(NUM_LEVELS)):
            self.blocks.append(UpResBlock(in_channels, self._skip(skip_channels, level), num_aus, channels[level]))
            in_channels = channels[level]
        self.out_channels = WARP_CHANNELS if config.output == "warp" else 3
        self.au_gated = config.au_gated
        self.to_image = to_rgb(channels[0], self.out_channels * (num_aus + 1 if config.au_gated else 1))
        if config.output != "image":  # start as the identity edit: no change anywhere
            nn.init.zeros_(self.to_image[-2].weight)
            nn.init.zeros_(self.to_image[-2].bias)

    def _skip(self, skip_channels: Sequence[int], level: int) -> int:
        return skip_channels[level] if level in self.skip_level_set else 0

    def _skip_feature(self, code: EncoderOutput, level: int) -> Tensor | None:
        return code.features[level] if level in self.skip_level_set else None

    def forward(self, code: EncoderOutput, aus: Tensor) -> Tensor:
        side = self.sides[NUM_LEVELS]
        x = self.from_code(torch.cat([code.z, aus], dim=1)).view(-1, self.start_channels, side, side)
        start_skip = self._skip_feature(code, NUM_LEVELS)
        if start_skip is not None:
            x = torch.cat([x, start_skip], dim=1)
        for block, level in zip(self.blocks, reversed(range(NUM_LEVELS))):
            x = block(x, (self.sides[level], self.sides[level]), aus, self._skip_feature(code, level))
        drawn = self.to_image[:-1](x)  # before the tanh
        if self.au_gated:
            drawn = self._gate(drawn, aus)
        return self.to_image[-1](drawn)

    def _gate(self, maps: Tensor, aus: Tensor) -> Tensor:
        """maps [B, C*(1+n), H, W] -> [B, C, H, W]: a bias set plus one set per AU weighted by its intensity, so
        each AU switches on its own face-dependent change (learnt far faster than through AU maps alone)."""
        batch, _, height, width = maps.shape
        per_au = maps.view(batch, aus.shape[1] + 1, self.out_channels, height, width)
        weights = torch.cat([torch.ones_like(aus[:, :1]), aus], dim=1)  # [B, 1+n]
        return torch.einsum("bk,bkchw->bchw", weights, per_au)


class TGOutput(NamedTuple):
    image: Tensor  # [B,3,H,W] the fused edit I~
    branches: dict[str, Tensor]  # region -> branch image I~_r [B,3,H,W]
    flow: Tensor | None  # output: warp only: [B,2,H,W] the mask-fused displacement (grid units)
    colour: Tensor | None  # output: warp only: [B,3,H,W] the mask-fused colour change (image units)


class TransformativeGenerator(nn.Module):
    """Three TG branches and their fusion: I~ = sum_r M_r * I~_r over r in (eye, mouth, part); with
    ``output: residual`` each I~_r = clamp(I + 2 * branch_r) (branch outputs lie in [-1, 1], images span 2);
    with ``output: warp`` I~_r = clamp(sample(I, grid + shift_r) + 2 * max_colour * change_r)."""

    def __init__(self, config: TGConfig, latent_dim: int, skip_channels: Sequence[int], image_size: int) -> None:
        super().__init__()
        self.config = config
        self.branches = nn.ModuleDict()
        for region, aus in config.region_aus().items():
            self.branches[region] = TGBranch(config, len(aus), latent_dim, skip_channels, image_size)
            self.register_buffer(f"{region}_au_index", torch.tensor(facs.subset_indices(aus)), persistent=False)

    def _region_aus(self, region: str, target_aus: Tensor) -> Tensor:
        """The branch's AU subset [B, n_region] of the 16-vector (u_te, u_tm, or all of u_t)."""
        return target_aus[:, getattr(self, f"{region}_au_index")]

    def forward(
        self, codes: dict[str, EncoderOutput], target_aus: Tensor, masks: Tensor, source: Tensor,
        source_aus: Tensor | None = None,
    ) -> TGOutput:
        """codes: region -> E output of image x region mask; target_aus [B,16]; masks [B,3,H,W]; source: the
        input image [B,3,H,W]; source_aus [B,16] (needed with ``condition: change``). Returns the fused image,
        the branch images and, for ``output: warp``, the edit as a field (``edit_field``)."""
        drawn = self.draw(codes, target_aus, source_aus)
        branches = self.branch_images(source, drawn)
        flow, colour = self.edit_field(drawn, masks) if self.config.output == "warp" else (None, None)
        return TGOutput(fuse(branches, masks), branches, flow, colour)

    def draw(self, codes: dict[str, EncoderOutput], target_aus: Tensor, source_aus: Tensor | None = None
             ) -> dict[str, Tensor]:
        """What each branch draws: {region: [B,3,H,W] image or change, or [B,5,H,W] displacement + change}."""
        aus = target_aus if self.config.condition == "target" else target_aus - source_aus  # [B,16]
        return {region: branch(codes[region], self._region_aus(region, aus)) for region, branch in self.branches.items()}

    def branch_images(self, source: Tensor, drawn: dict[str, Tensor]) -> dict[str, Tensor]:
        """Each branch's image I~_r from what it drew (see the class docstring)."""
        if self.config.output == "residual":
            return {region: (source + 2 * change).clamp(-1, 1) for region, change in drawn.items()}
        if self.config.output == "warp":
            return {region: self._warp(source, field) for region, field in drawn.items()}
        return drawn

    def edit_field(self, drawn: dict[str, Tensor], masks: Tensor) -> tuple[Tensor, Tensor]:
        """``warp`` output as one resolution-free field: the mask-weighted displacement ``[B,2,H,W]`` (grid units:
        fractions of the half-width/height, as ``F.grid_sample`` reads them) and RGB change ``[B,3,H,W]`` (image
        units, [-1, 1] images). Sampling any-resolution copy of the source at the displaced positions and adding
        the (upsampled) change gives the edit at that resolution (``lsgan.editing.fields``)."""
        if self.config.output != "warp":
            raise ValueError("only warping TGs (tg.output: warp) draw a displacement field")
        flow = fuse({region: self.config.max_shift * field[:, :2] for region, field in drawn.items()}, masks)
        colour = fuse({region: self._colour_change(field) for region, field in drawn.items()}, masks)
        return flow, colour

    def _colour_change(self, drawn: Tensor) -> Tensor:
        """A ``warp`` branch's RGB change [B,3,H,W] in image units: at most ``max_colour`` of the range (2)."""
        return 2 * self.config.max_colour * drawn[:, 2:]

    def _warp(self, source: Tensor, drawn: Tensor) -> Tensor:
        """A branch's ``warp`` output [B,5,H,W] applied to the source: sample it at the displaced positions
        (channels 0-1, in [-1, 1] x ``max_shift`` of the half-width) and add the RGB change (channels 2-4)."""
        grid = pixel_centre_grid(source) + self.config.max_shift * drawn[:, :2].permute(0, 2, 3, 1)
        moved = F.grid_sample(source, grid, mode="bilinear", padding_mode="border", align_corners=False)
        return (moved + self._colour_change(drawn)).clamp(-1, 1)


def fuse(per_region: dict[str, Tensor], masks: Tensor) -> Tensor:
    """sum_r M_r * x_r over r in (eye, mouth, part): masks [B,3,H,W], each x_r [B,C,H,W]."""
    return sum(masks[:, i : i + 1] * per_region[region] for i, region in enumerate(REGIONS))


def pixel_centre_grid(image: Tensor) -> Tensor:
    """The identity sampling grid of ``F.grid_sample`` (align_corners=False) for ``image`` [B,C,H,W]: [1,H,W,2]
    of (x, y) pixel centres in [-1, 1]. Built from ``arange`` (``affine_grid`` needs ONNX opset 20)."""
    height, width = image.shape[-2:]
    ys = (torch.arange(height, dtype=image.dtype, device=image.device) * 2 + 1) / height - 1
    xs = (torch.arange(width, dtype=image.dtype, device=image.device) * 2 + 1) / width - 1
    return torch.stack([xs.expand(height, width), ys[:, None].expand(height, width)], dim=-1)[None]


class EncoderDecoderGenerator(nn.Module):
    """Ablation E_wt(AAE+TG): a StarGAN-style conv encoder-decoder in place of AAE + TG, the AU maps and (with
    ``mask_channels``, when the model has an SMG) the region masks concatenated to the input image.
    ``forward(image [B,3,H,W], aus [B,16], masks [B,3,H,W] or None) -> image``; H and W must be multiples of
    2^downsamplings."""

    def __init__(self, config: EncoderDecoderConfig | None = None, mask_channels: int = 0) -> None:
        super().__init__()
        config = config or EncoderDecoderConfig()
        self.mask_channels = mask_channels
        channels = channel_ladder(config.width, config.max_channels, config.downsamplings)
        in_channels = 3 + facs.NUM_AUS + mask_channels
        layers: list[nn.Module] = [conv_norm_act(in_channels, channels[0], 7, norm="group")]
        layers += [conv_norm_act(channels[i], channels[i + 1], 3, 2, "group") for i in range(config.downsamplings)]
        layers += [BasicBlock(channels[-1], channels[-1], norm="group") for _ in range(config.residual_blocks)]
        for i in reversed(range(config.downsamplings)):
            layers += [nn.Upsample(scale_factor=2), conv_norm_act(channels[i + 1], channels[i], norm="group")]
        layers += [nn.Conv2d(channels[0], 3, 7, padding=3), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, image: Tensor, aus: Tensor, masks: Tensor | None = None) -> Tensor:
        inputs = [image, au_maps(aus, image.shape[-2:])]  # [B,3,H,W], [B,16,H,W]
        if self.mask_channels:
            if masks is None or masks.shape[1] != self.mask_channels:
                raise ValueError(f"this encoder-decoder reads {self.mask_channels} region mask channels: pass them")
            inputs.append(masks)  # [B,3,H,W]
        return self.net(torch.cat(inputs, dim=1))
