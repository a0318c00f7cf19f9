"""Typed training configuration (``configs/*.yaml``): model, loss weights, data, runtime and per-stage settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lsgan.config import ConfigError, check_fraction, check_min, check_positive
from lsgan.data.datasets import DataSection
from lsgan.losses import LossWeights
from lsgan.nets.expression import EXPRESSIONS
from lsgan.nets.lsgan import LSGANConfig

STAGE_NAMES: tuple[str, ...] = ("smg", "aae", "aux", "lsgan")  # the model's stages: what `train all` runs
EVALUATION_STAGE_NAMES: tuple[str, ...] = ("judge",)  # trained only when asked: the evaluation's AU judge


@dataclass
class RuntimeConfig:
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"  # autocast dtype on GPU; CPU always trains in fp32
    channels_last: bool = False                         # GPU only
    seed: int = 0                                       # base seed; rank r trains with seed + r
    num_workers: int = 0                                # data-loader processes (exact resume needs 0 with augment)
    num_threads: int = 0                                # CPU threads per process (0: torch's default)
    sync_batchnorm: bool = True                         # BatchNorm statistics over all DDP ranks (GPU only)
    log_every: int = 10                                 # steps between logged losses (progress bar, TensorBoard)
    image_every: int = 200                              # steps between TensorBoard image grids (0: never)

    def __post_init__(self) -> None:
        check_min(self, 0, "seed", "num_workers", "num_threads", "image_every")
        check_min(self, 1, "log_every")


@dataclass
class StageSettings:
    steps: int = 1000
    batch_size: int = 8                                 # per process
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    checkpoint_every: int = 500
    eval_every: int = 500                               # test-identity metrics during training (0: only at the end)
    eval_batches: int = 8                               # test batches per evaluation (0: the whole test split)
    lr_decay_steps: int = 0                             # the lr falls linearly to 0 over the last this many steps
                                                        # (StarGAN's num_iters_decay; 0: constant)

    def __post_init__(self) -> None:
        check_min(self, 1, "steps", "batch_size")
        check_positive(self, "lr")
        check_min(self, 0, "checkpoint_every", "eval_every", "eval_batches", "lr_decay_steps")
        if not all(0 <= beta < 1 for beta in self.betas):
            raise ConfigError(f"betas must both be in [0, 1), got {list(self.betas)}")
        if self.lr_decay_steps > self.steps:
            raise ConfigError(f"lr_decay_steps ({self.lr_decay_steps}) is more than steps ({self.steps})")

    def lr_at(self, step: int) -> float:
        """The learning rate of step ``step`` (0-based): ``lr``, then falling linearly over the last
        ``lr_decay_steps`` steps to ``lr / lr_decay_steps`` at the last one."""
        left = self.steps - step
        return self.lr if left > self.lr_decay_steps else self.lr * left / self.lr_decay_steps


@dataclass
class LsganStageOptions:
    """Settings of the final adversarial stage beyond ``StageSettings``."""

    adversarial: Literal["bce", "hinge", "wgan-gp"] = "bce"  # Eq. 5 as in the paper, or a stable variant
    # Not in Eq. 10 (docs/architecture.md, departures): D_cls's AU loss, on real faces for the AUD and on fakes
    # inside λ_au's term for G, at this weight (0: Eq. 10 as printed, D_cls untrained)
    cls_weight: float = 1.0
    # Not in Eq. 10: the encoder side of Eq. 4 (weight stages.latent_weight) and D_z's training go on in this stage
    # (false: the AAE's Eq. 4 ends with stage aae, the paper's Eq. 10 alone)
    latent_prior: bool = True
    judge_jitter: float = 0.0  # >0: G_exp reads randomly shifted, blurred, noisy fakes (noise std = this value)
    appearance: float = 0.0  # >0: one random photometric change per pair, same on source and true target (0-1)
    real_batch: int = 4  # real faces per step (data.real, losses.real > 0)
    real_au: float = 1.0  # share of λ_au on real faces' edits (G_exp has only seen SynthFACS: trust it less there)

    def __post_init__(self) -> None:
        check_min(self, 0, "cls_weight", "judge_jitter", "appearance", "real_au")
        check_min(self, 1, "real_batch")


@dataclass
class AuxStageOptions:
    """Settings of stage aux beyond ``StageSettings``."""

    photometric: float = 0.0  # >0: G_exp learns on faces under random colour casts, tints, blur, noise (0-1)
    # Not in the paper (training.real_bounds): >0 also trains G_exp, at this weight, to keep its readings of
    # data.real's faces inside the AU bounds that face-api's confident reads of them give
    real_bounds: float = 0.0
    real_batch: int = 16  # real faces per step
    # >0: this share of the faces G_exp learns on are cut as a tight photo cuts them (``augment.cut_tight``), so that
    # a crop that reaches past a photo's border, read mirrored, reads as the face (docs/real_photos.md)
    tight_crops: float = 0.0
    bound_emotions: tuple[str, ...] = ("neutral", "happy")  # reads that give bounds (the frames' people talk)
    bound_confidence: float = 0.9  # the least probability of a read that gives bounds

    def __post_init__(self) -> None:
        check_min(self, 0, "photometric", "real_bounds")
        check_min(self, 1, "real_batch")
        check_fraction(self, "bound_confidence", "tight_crops", closed=True)
        unknown = [e for e in self.bound_emotions if e not in EXPRESSIONS]
        if unknown:
            raise ConfigError(f"bound_emotions: unknown {', '.join(map(repr, unknown))}; choose from "
                              f"{', '.join(EXPRESSIONS)}")


@dataclass
class StarGANOptions:
    """The generator stage with ``model.generator: stargan``: StarGAN's loss weights (its paper and code) and its
    critic schedule. Of ``losses``, a rival reads only ``paired`` (L_pair, the paired setting)."""

    cls: float = 1.0  # λ_cls: domain classification, on real images for D and on fakes for G
    rec: float = 10.0  # λ_rec: the cycle reconstruction ||x - G(G(x, c), c')||_1
    gradient_penalty: float = 10.0  # λ_gp (WGAN-GP)
    n_critic: int = 1  # D updates per G update; their code: 5 (1 gives every method one G update per step)

    def __post_init__(self) -> None:
        check_min(self, 0, "cls", "rec", "gradient_penalty")
        check_min(self, 1, "n_critic")


@dataclass
class GANimationOptions:
    """The generator stage with ``model.generator: ganimation``: GANimation's loss weights and critic schedule.
    Their code averages its AU error over the batch twice and sums the attention's total variation over the batch
    and pixels; the terms here are means, so the weights are theirs at their setting (batch 25, 128 px)."""

    au: float = 160.0  # λ_y: their 4000 on MSE / batch, at batch 25 (D_y on real images and on fakes)
    attention: float = 0.1  # λ_A: the mean attention (their code's lambda_mask)
    smoothness: float = 4.064  # λ_TV: their 1e-5 on two sums of 25 x 128 x 127 steps each (lambda_mask_smooth)
    cycle: float = 10.0  # λ_idt: ||I - G(G(I, y_f), y_o)||_1 (their identity loss, lambda_cyc)
    gradient_penalty: float = 10.0  # λ_gp (WGAN-GP)
    n_critic: int = 1  # D updates per G update; their code: 5 (1 gives every method one G update per step)

    def __post_init__(self) -> None:
        check_min(self, 0, "au", "attention", "smoothness", "cycle", "gradient_penalty")
        check_min(self, 1, "n_critic")


def _stage(steps: int, lr: float, **kw: object) -> StageSettings:
    return StageSettings(steps=steps, lr=lr, **kw)  # type: ignore[arg-type]


@dataclass
class StagesConfig:
    smg: StageSettings = field(default_factory=lambda: _stage(2000, 1e-3, betas=(0.9, 0.999)))
    aae: StageSettings = field(default_factory=lambda: _stage(2000, 1e-4))
    aux: StageSettings = field(default_factory=lambda: _stage(2000, 2e-4, betas=(0.9, 0.999)))  # G_exp: 2e-4
    lsgan: StageSettings = field(default_factory=lambda: _stage(10000, 1e-4))                  # E, G, D_z, D: 1e-4
    # The evaluation's AU judge (model.judge); its final evaluation (the floor) reads the whole test split.
    judge: StageSettings = field(default_factory=lambda: _stage(2000, 1e-3, betas=(0.9, 0.999), eval_batches=0))
    lsgan_options: LsganStageOptions = field(default_factory=LsganStageOptions)
    aux_options: AuxStageOptions = field(default_factory=AuxStageOptions)
    stargan_options: StarGANOptions = field(default_factory=StarGANOptions)  # model.generator: stargan
    ganimation_options: GANimationOptions = field(default_factory=GANimationOptions)  # model.generator: ganimation
    latent_weight: float = 1.0  # the encoder side of Eq. 4 (codes look like N(0, I)) in stages aae and lsgan

    def __post_init__(self) -> None:
        check_min(self, 0, "latent_weight")


@dataclass
class TrainConfig:
    model: LSGANConfig = field(default_factory=LSGANConfig)
    losses: LossWeights = field(default_factory=LossWeights)
    data: DataSection = field(default_factory=DataSection)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    stages: StagesConfig = field(default_factory=StagesConfig)

    def stage(self, name: str) -> StageSettings:
        return getattr(self.stages, name)
