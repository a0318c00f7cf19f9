"""The LSGAN generator (SMG + E + TG, what editing runs) and the model bundle: a folder with ``config.yaml`` and
one ``<name>.safetensors`` per network.

Ablation switches: ``use_smg: false`` gives masks (0, 0, 1) (the part branch makes the whole image);
``generator: encoder_decoder`` replaces AAE + TG by a StarGAN-style encoder-decoder (which still reads the SMG's
masks: the two are separate ablations, as in the paper's Tables 5-7); ``smg.attention: se`` swaps the ARMs for
squeeze-excitation. The paper's rivals: ``generator: stargan | ganimation`` (``nets.rivals``, docs/rivals.md) run
inside the same interface, without an SMG (their masks are (0, 0, 1)).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from lsgan.config import ConfigError, load_config, save_config
from lsgan.errors import CheckpointError, LsganError
from lsgan.nets.aae import AAEConfig, Encoder, EncoderOutput
from lsgan.nets.auxiliary import AURegressor, AuxiliaryConfig
from lsgan.nets.discriminator import AUDConfig
from lsgan.nets.generator import (
    REGIONS,
    EncoderDecoderConfig,
    EncoderDecoderGenerator,
    TGConfig,
    TransformativeGenerator,
)
from lsgan.nets.judge import JudgeConfig
from lsgan.nets.rivals import RIVALS
from lsgan.nets.rivals.ganimation import GANimationConfig, GANimationGenerator
from lsgan.nets.rivals.stargan import StarGANConfig, StarGANGenerator, emotion_domain
from lsgan.nets.smg import SMG, SMGConfig
from lsgan.nets.weights import check_weight_shapes, load_weights, save_weights

CONFIG_FILE = "config.yaml"
GENERATOR_FILE = "generator.safetensors"
AU_REGRESSOR_FILE = "au_regressor.safetensors"
MIN_IMAGE_SIZE = 16


@dataclass
class LSGANConfig:
    image_size: int = 128
    use_smg: bool = True
    generator: Literal["aae_tg", "encoder_decoder", "stargan", "ganimation"] = "aae_tg"
    smg: SMGConfig = field(default_factory=SMGConfig)
    aae: AAEConfig = field(default_factory=AAEConfig)
    tg: TGConfig = field(default_factory=TGConfig)
    encoder_decoder: EncoderDecoderConfig = field(default_factory=EncoderDecoderConfig)
    stargan: StarGANConfig = field(default_factory=StarGANConfig)  # generator: stargan (a rival)
    ganimation: GANimationConfig = field(default_factory=GANimationConfig)  # generator: ganimation (a rival)
    aud: AUDConfig = field(default_factory=AUDConfig)
    aux: AuxiliaryConfig = field(default_factory=AuxiliaryConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)  # the evaluation's AU judge (stage judge), not the model

    def __post_init__(self) -> None:
        if self.image_size < MIN_IMAGE_SIZE or self.image_size % 4:
            raise ConfigError(
                f"image_size must be a multiple of 4 and at least {MIN_IMAGE_SIZE}, got {self.image_size}"
            )

    @property
    def attention(self) -> str:
        """The SMG attention ablation switch (set it as ``smg.attention``)."""
        return self.smg.attention

    @property
    def has_smg(self) -> bool:
        """Whether the generator reads SMG masks: ``use_smg`` for LSGAN's generators; the rivals have none."""
        return self.use_smg and self.generator not in RIVALS


@dataclass
class GeneratorOutput:
    image: Tensor  # [B,3,H,W] in [-1,1]: the edited image I~
    masks: Tensor  # [B,3,H,W] region masks (eye, mouth, part)
    branches: dict[str, Tensor]  # region -> TG branch image [B,3,H,W] (empty for the encoder-decoder ablation)
    flow: Tensor | None = None  # warping TGs: [B,2,H,W] the mask-fused displacement (grid units)
    colour: Tensor | None = None  # warping TGs: [B,3,H,W] the mask-fused colour change (image units)
    attention: Tensor | None = None  # GANimation: [B,1,H,W] its attention mask A (1 keeps the input pixel)


class LSGANGenerator(nn.Module):
    """SMG + E + TG. ``forward(image [B,3,H,W] in [-1,1], target_aus [B,16] in [0,1], source_aus [B,16] or None)
    -> GeneratorOutput`` (``source_aus``: the image's own AUs, read only with ``tg.condition: change``).

    The SMG is pretrained and frozen: its masks are computed without gradients and it stays in eval mode even
    when the generator trains. The same generator makes I~ (target AUs), I_r (source AUs) and I_cyc (I~, source).
    """

    def __init__(self, config: LSGANConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or LSGANConfig()
        self.smg = SMG(config.smg) if config.has_smg else None
        self.encoder: Encoder | None = None
        self.tg: TransformativeGenerator | None = None
        self.encoder_decoder: EncoderDecoderGenerator | None = None
        self.stargan: StarGANGenerator | None = None
        self.ganimation: GANimationGenerator | None = None
        if config.generator == "aae_tg":
            self.encoder = Encoder(config.aae, config.image_size)
            self.tg = TransformativeGenerator(
                config.tg, config.aae.latent_dim, self.encoder.feature_channels, config.image_size
            )
        elif config.generator == "encoder_decoder":
            mask_channels = len(REGIONS) if config.use_smg else 0
            self.encoder_decoder = EncoderDecoderGenerator(config.encoder_decoder, mask_channels)
        elif config.generator == "stargan":
            self.stargan = StarGANGenerator(config.stargan)
        else:
            self.ganimation = GANimationGenerator(config.ganimation)

    def train(self, mode: bool = True) -> LSGANGenerator:
        super().train(mode)
        if self.smg is not None:
            self.smg.eval()
        return self

    @torch.no_grad()
    def region_masks(self, image: Tensor) -> Tensor:
        """[B,3,H,W] (eye, mouth, part) from the SMG, or (0, 0, 1) everywhere without it."""
        if self.smg is None:
            masks = torch.zeros_like(image)
            masks[:, 2] = 1.0
            return masks
        return self.smg.masks(image)

    def encode_regions(self, image: Tensor, masks: Tensor) -> dict[str, EncoderOutput]:
        """E on I x M_eye, I x M_mouth, I x M_part in one batched call -> {region: code}."""
        batch = image.shape[0]
        regions = (image.unsqueeze(1) * masks.unsqueeze(2)).flatten(0, 1)  # [B*3, 3, H, W], region-major per sample
        encoded = self.encoder(regions)
        return {region: encoded.select(slice(i, 3 * batch, 3)) for i, region in enumerate(REGIONS)}

    @property
    def needs_source_aus(self) -> bool:
        """True when the TG reads the AU change (``tg.condition: change``): then pass the source's AUs."""
        return self.tg is not None and self.config.tg.condition == "change"

    def forward(self, image: Tensor, target_aus: Tensor, source_aus: Tensor | None = None) -> GeneratorOutput:
        if source_aus is None and self.needs_source_aus:
            raise LsganError("this generator edits by AU change (tg.condition: change): pass the source's AUs too")
        masks = self.region_masks(image)
        if self.encoder_decoder is not None:
            return GeneratorOutput(self.encoder_decoder(image, target_aus, masks), masks, {})
        if self.stargan is not None:  # the target AUs' nearest emotion: StarGAN's domains
            return GeneratorOutput(self.stargan(image, emotion_domain(target_aus)), masks, {})
        if self.ganimation is not None:
            out = self.ganimation(image, target_aus)
            return GeneratorOutput(out.image, masks, {}, attention=out.attention)
        edit = self.tg(self.encode_regions(image, masks), target_aus, masks, image, source_aus)
        return GeneratorOutput(edit.image, masks, edit.branches, edit.flow, edit.colour)

    def edit(self, image: Tensor, target_aus: Tensor, source_aus: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Plain-tensor form of ``forward``: (image, masks)."""
        out = self.forward(image, target_aus, source_aus)
        return out.image, out.masks

    def edit_field(self, image: Tensor, target_aus: Tensor, source_aus: Tensor | None = None
                   ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """The edit as a resolution-free field, what full-resolution editing and the ONNX graph use:
        (edited [B,3,S,S], masks [B,3,S,S], flow [B,2,S,S], colour [B,3,S,S]).

        ``flow`` is the displacement (grid units: fractions of the half-side) at which to sample the source and
        ``colour`` the change to add (image units, [-1, 1] images); ``lsgan.editing.fields`` applies both to any
        resolution of the same aligned face. Warping TGs draw both; every other generator (the paper's image
        output, residual, the encoder-decoder ablation, the rivals) gives no displacement and its whole change as ``colour``
        (edited - image), so only what it changed is carried to the photo."""
        out = self.forward(image, target_aus, source_aus)
        if out.flow is None or out.colour is None:
            return out.image, out.masks, torch.zeros_like(image[:, :2]), out.image - image
        return out.image, out.masks, out.flow, out.colour


@dataclass
class ModelBundle:
    config: LSGANConfig
    generator: LSGANGenerator
    au_regressor: AURegressor


def save_bundle(
    directory: str | Path,
    config: LSGANConfig,
    generator: LSGANGenerator,
    au_regressor: AURegressor,
    extra: dict[str, nn.Module] | None = None,
) -> Path:
    """Write ``config.yaml``, ``generator.safetensors``, ``au_regressor.safetensors`` and ``<name>.safetensors``
    for each extra network (e.g. the discriminator) into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_config(config, directory / CONFIG_FILE)
    for name, module in {"generator": generator, "au_regressor": au_regressor, **(extra or {})}.items():
        save_weights(module, directory / f"{name}.safetensors")
    return directory


def load_bundle(directory: str | Path, device: str | torch.device = "cpu") -> ModelBundle:
    """Rebuild the generator and G_exp from ``config.yaml`` and load their weights (eval mode, on ``device``).
    Extra networks load with ``load_weights(module, directory / "<name>.safetensors")``."""
    directory = Path(directory)
    if not (directory / CONFIG_FILE).is_file():
        raise CheckpointError(f"not a model bundle: {directory} has no {CONFIG_FILE}")
    try:
        config = load_config(LSGANConfig, directory / CONFIG_FILE)
    except ConfigError as err:
        raise CheckpointError(f"model bundle {directory}: {err}") from None
    with torch.device("meta"):  # shapes only, no memory: a config with huge widths must not allocate first
        check_weight_shapes(LSGANGenerator(config).state_dict(), directory / GENERATOR_FILE)
        check_weight_shapes(AURegressor(replace(config.aux, init="none")).state_dict(), directory / AU_REGRESSOR_FILE)
    generator = LSGANGenerator(config)
    au_regressor = AURegressor(replace(config.aux, init="none"))  # the bundle holds its weights
    load_weights(generator, directory / GENERATOR_FILE)
    load_weights(au_regressor, directory / AU_REGRESSOR_FILE)
    return ModelBundle(config, generator.to(device).eval(), au_regressor.to(device).eval())
