"""Typed training configuration (``configs/*.yaml``): model, loss weights, data, runtime and per-stage settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lsgan.config import ConfigError, check_min, check_positive
from lsgan.data.datasets import DataSection
from lsgan.losses import LossWeights
from lsgan.nets.lsgan import LSGANConfig

STAGE_NAMES: tuple[str, ...] = ("smg", "aae", "aux", "lsgan")


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

    def __post_init__(self) -> None:
        check_min(self, 1, "steps", "batch_size")
        check_positive(self, "lr")
        check_min(self, 0, "checkpoint_every", "eval_every", "eval_batches")
        if not all(0 <= beta < 1 for beta in self.betas):
            raise ConfigError(f"betas must both be in [0, 1), got {list(self.betas)}")


@dataclass
class LsganStageOptions:
    """Settings of the final adversarial stage beyond ``StageSettings``."""

    adversarial: Literal["bce", "hinge", "wgan-gp"] = "bce"  # Eq. 5 as in the paper, or a stable variant
    cls_weight: float = 1.0  # D_cls's AU regression: on real faces for the AUD, on fakes inside L_au for G
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

    def __post_init__(self) -> None:
        check_min(self, 0, "photometric")


def _stage(steps: int, lr: float, **kw: object) -> StageSettings:
    return StageSettings(steps=steps, lr=lr, **kw)  # type: ignore[arg-type]


@dataclass
class StagesConfig:
    smg: StageSettings = field(default_factory=lambda: _stage(2000, 1e-3, betas=(0.9, 0.999)))
    aae: StageSettings = field(default_factory=lambda: _stage(2000, 1e-4))
    aux: StageSettings = field(default_factory=lambda: _stage(2000, 2e-4, betas=(0.9, 0.999)))  # G_exp: 2e-4
    lsgan: StageSettings = field(default_factory=lambda: _stage(10000, 1e-4))                  # E, G, D_z, D: 1e-4
    lsgan_options: LsganStageOptions = field(default_factory=LsganStageOptions)
    aux_options: AuxStageOptions = field(default_factory=AuxStageOptions)
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
