"""Everything between the CLI and the stage runner: config loading, data preparation, process group, seeds,
running stages in order, and the final model bundle + metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import Dataset

from lsgan.config import load_config, save_config
from lsgan.data.datasets import UnpairedPairs, build_dataset
from lsgan.data.real_faces import align_folder
from lsgan.errors import DataError, LsganError
from lsgan.nets.lsgan import save_bundle
from lsgan.training.checkpoint import TrainState, atomic_write_bytes
from lsgan.training.config import STAGE_NAMES, TrainConfig
from lsgan.training.distributed import DistContext, barrier, init_distributed, shutdown_distributed
from lsgan.training.loop import Budget, StageData, StageRunner, TrainingStage
from lsgan.training.seeding import seed_everything
from lsgan.training.stages.aae import AAEStage
from lsgan.training.stages.aux import AuxStage
from lsgan.training.stages.lsgan import LSGANStage
from lsgan.training.stages.smg import SMGStage
from lsgan.training.synth_targets import with_true_targets

STAGES: dict[str, type[TrainingStage]] = {"smg": SMGStage, "aae": AAEStage, "aux": AuxStage, "lsgan": LSGANStage}
BUNDLE_DIR = "bundle"
RUN_METRICS = "metrics.json"
RUN_CONFIG = "config.yaml"
REAL_FACES = "real_faces.npz"  # data.real's faces, aligned once per run dir


@dataclass
class RunResult:
    states: dict[str, TrainState] = field(default_factory=dict)
    bundle: Path | None = None

    @property
    def finished(self) -> bool:
        return all(state.finished for state in self.states.values())


def load_train_config(path: str | Path | None, overrides: list[str] | None = None) -> TrainConfig:
    return load_config(TrainConfig, path, overrides)


def stages_to_run(config: TrainConfig, requested: str) -> list[str]:
    """``all`` → the stages the model needs, in order (no smg without SMG, no aae for the encoder-decoder)."""
    if requested != "all":
        if requested not in STAGES:
            raise LsganError(f"unknown stage {requested!r}: choose one of {', '.join(STAGE_NAMES)}, all")
        return [requested]
    skipped = set()
    if not config.model.use_smg:
        skipped.add("smg")
    if config.model.generator != "aae_tg":
        skipped.add("aae")
    return [name for name in STAGE_NAMES if name not in skipped]


# --- data ---------------------------------------------------------------------------------------------------

def prepare_data(config: TrainConfig, ctx: DistContext) -> None:
    """Render the SynthFACS set the config describes when its folder does not exist yet (rank 0; others wait).
    An existing folder is never written to; other data kinds must exist."""
    root = Path(config.data.root)
    if config.data.kind == "synthfacs" and not root.exists() and ctx.is_main:
        render_synthfacs(config, root)
    barrier(ctx)
    if not root.exists():
        raise DataError(f"data folder not found: {root} (data.root in the config, or --data)")


def render_synthfacs(config: TrainConfig, root: Path) -> Path:
    from lsgan.data.synthfacs import SynthConfig, write_dataset

    synth = config.data.synth
    print(f"rendering SynthFACS ({synth.identities} identities x {synth.per_identity}) into {root}", flush=True)
    return write_dataset(SynthConfig(
        out=root, identities=synth.identities, per_identity=synth.per_identity, size=config.model.image_size,
        seed=synth.seed, test_fraction=synth.test_fraction, workers=synth.workers,
    ))


def _split(config: TrainConfig, split: str, with_labels: bool) -> Dataset:
    data = config.data
    return build_dataset(
        data.kind, data.root, split, config.model.image_size, csv=data.csv, with_labels=with_labels
    )


def _test_split(config: TrainConfig, with_labels: bool) -> Dataset | None:
    try:
        return _split(config, "test", with_labels)
    except DataError:  # a data set without test identities still trains; it just reports no test metrics
        return None


def _check_paired_loss(config: TrainConfig) -> None:
    if config.losses.paired and config.data.kind != "synthfacs":
        raise LsganError(
            f"losses.paired={config.losses.paired} needs rendered true targets, which only SynthFACS data has "
            f"(data.kind is {config.data.kind!r}): set losses.paired=0"
        )
    warping = config.model.generator == "aae_tg" and config.model.tg.output == "warp"
    if config.losses.colour and not warping:
        raise LsganError(f"losses.colour={config.losses.colour} penalises a warping TG's colour change: it needs "
                         "model.tg.output=warp (and the aae_tg generator); set losses.colour=0")


def prepare_real_faces(config: TrainConfig, run_dir: Path, ctx: DistContext) -> None:
    """Align ``data.real``'s faces once into RUN_DIR/real_faces.npz (rank 0; others wait); a run dir keeps its own
    copy, so a resumed run trains on the same faces."""
    if config.losses.real and config.data.real is None:
        raise LsganError(f"losses.real={config.losses.real} trains on real faces: give their folder as data.real "
                         "(e.g. `lsgan data fetch photos` then data.real=<its video_frames folder>), or set losses.real=0")
    cache = run_dir / REAL_FACES
    if config.losses.real and ctx.is_main and not cache.is_file():
        faces = align_folder(Path(config.data.real).expanduser(), config.model.image_size, limit=config.data.real_limit)
        atomic_write_bytes(cache, faces.to_bytes())
        print(f"real faces: {len(faces.names)} aligned into {cache}, {len(faces.skipped)} images without a face",
              flush=True)
    barrier(ctx)


def stage_data(stage_cls: type[TrainingStage], config: TrainConfig) -> StageData:
    if stage_cls.paired:
        _check_paired_loss(config)
    train = _split(config, "train", stage_cls.needs_labels)
    test = _test_split(config, stage_cls.needs_labels)
    if not stage_cls.paired:
        return StageData(train, test)
    seed = config.runtime.seed
    synthetic = config.data.kind == "synthfacs"
    train_pairs: Dataset = UnpairedPairs(train, seed)
    if config.losses.paired:
        train_pairs = with_true_targets(train_pairs, Path(config.data.root))
    test_pairs = UnpairedPairs(test, seed) if test is not None and len(test) > 1 else None
    if test_pairs is not None and synthetic:
        test_pairs = with_true_targets(test_pairs, Path(config.data.root))
    return StageData(train_pairs, test_pairs)


# --- running ------------------------------------------------------------------------------------------------

def run_stage(name: str, config: TrainConfig, run_dir: Path, ctx: DistContext, *, resume: bool,
              budget: Budget | None) -> tuple[TrainState, TrainingStage]:
    stage_cls = STAGES[name]
    data = stage_data(stage_cls, config)
    seed_everything(config.runtime.seed)  # identical initial weights on every rank
    stage = stage_cls(ctx, config, data, run_dir)
    state = StageRunner(stage, run_dir / name).run(resume=resume, budget=budget)
    return state, stage


def train(requested: str, config: TrainConfig, run_dir: str | Path, *, resume: bool = False,
          budget: Budget | None = None) -> RunResult:
    """Run one stage or ``all`` under the current process group (``torchrun``) or as a single process."""
    run_dir = Path(run_dir)
    ctx = init_distributed(config.runtime.device)
    threads_before = torch.get_num_threads()
    if config.runtime.num_threads:
        torch.set_num_threads(config.runtime.num_threads)
    try:
        prepare_data(config, ctx)
        if ctx.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            save_config(config, run_dir / RUN_CONFIG)
        if "lsgan" in stages_to_run(config, requested):
            prepare_real_faces(config, run_dir, ctx)
        result = RunResult()
        for name in stages_to_run(config, requested):
            state, stage = run_stage(name, config, run_dir, ctx, resume=resume, budget=budget)
            result.states[name] = state
            if not state.finished:
                break  # out of budget: later stages need this one's final weights
            if isinstance(stage, LSGANStage) and ctx.is_main:
                result.bundle = write_bundle(stage, run_dir)
        if ctx.is_main and result.states:
            write_run_metrics(run_dir)
        return result
    finally:
        torch.set_num_threads(threads_before)
        shutdown_distributed()


def write_bundle(stage: LSGANStage, run_dir: Path) -> Path:
    generator, au_regressor, extra = stage.bundle_parts()
    return save_bundle(run_dir / BUNDLE_DIR, stage.config.model, generator, au_regressor, extra)


def write_run_metrics(run_dir: Path) -> dict[str, dict[str, float]]:
    """``RUN_DIR/metrics.json``: the final test metrics of every finished stage in the run dir."""
    metrics = {}
    for name in STAGE_NAMES:
        path = run_dir / name / "metrics.json"
        if path.is_file():
            metrics[name] = json.loads(path.read_text())["metrics"]
    atomic_write_bytes(run_dir / RUN_METRICS, json.dumps(metrics, indent=2).encode())
    return metrics
