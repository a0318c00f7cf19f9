"""Everything between the CLI and the stage runner: config loading, data preparation, process group, seeds,
running stages in order, and the final model bundle + metrics."""

from __future__ import annotations

import json
from collections.abc import Sequence
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import yaml
from torch.utils.data import Dataset

from lsgan.config import load_config, save_config, to_dict
from lsgan.data.datasets import UnpairedPairs, build_dataset
from lsgan.data.real_faces import REAL_FACES, RealFaces, align_folders, faces_root, made_from, real_folders
from lsgan.errors import DataError, LsganError
from lsgan.nets.expression import LOSS_CLASSIFIER, load_classifier
from lsgan.nets.judge import JUDGE_FILE, save_judge
from lsgan.nets.lsgan import save_bundle
from lsgan.training.checkpoint import TrainState, atomic_write_bytes
from lsgan.training.config import EVALUATION_STAGE_NAMES, STAGE_NAMES, TrainConfig
from lsgan.training.distributed import DistContext, barrier, init_distributed, shutdown_distributed
from lsgan.training.loop import Budget, StageData, StageRunner, TrainingStage
from lsgan.training.real_bounds import REAL_EXPRESSIONS, RealExpressions, read_expressions
from lsgan.training.seeding import seed_everything
from lsgan.training.stages.aae import AAEStage
from lsgan.training.stages.aux import AuxStage
from lsgan.training.stages.ganimation import GANimationStage
from lsgan.training.stages.judge import JudgeStage
from lsgan.training.stages.lsgan import LSGANStage
from lsgan.training.stages.rival import RivalStage
from lsgan.training.stages.smg import SMGStage
from lsgan.training.stages.stargan import StarGANStage
from lsgan.training.synth_targets import with_true_targets

STAGES: dict[str, type[TrainingStage]] = {
    "smg": SMGStage, "aae": AAEStage, "aux": AuxStage, "lsgan": LSGANStage, "judge": JudgeStage,
}
# The generator stage (folder ``lsgan`` for every method: the same settings and budget) by ``model.generator``.
GENERATOR_STAGES: dict[str, type[TrainingStage]] = {
    "aae_tg": LSGANStage, "encoder_decoder": LSGANStage, "stargan": StarGANStage, "ganimation": GANimationStage,
}
BUNDLE_DIR = "bundle"
RUN_METRICS = "metrics.json"
RUN_CONFIG = "config.yaml"


@dataclass
class RunResult:
    states: dict[str, TrainState] = field(default_factory=dict)
    bundle: Path | None = None
    judge: Path | None = None  # the judge file, after stage judge

    @property
    def finished(self) -> bool:
        return all(state.finished for state in self.states.values())


def load_train_config(path: str | Path | None, overrides: list[str] | None = None,
                      overlays: Sequence[str | Path] = ()) -> TrainConfig:
    return load_config(TrainConfig, path, overrides, overlays)


def stages_to_run(config: TrainConfig, requested: str) -> list[str]:
    """``all`` → the stages the model needs, in order (no smg without SMG, no aae for the encoder-decoder; a rival:
    aux, whose G_exp goes into its bundle, and its generator stage; never the evaluation's judge)."""
    if requested != "all":
        if requested not in STAGES:
            raise LsganError(f"unknown stage {requested!r}: choose one of "
                             f"{', '.join(STAGE_NAMES + EVALUATION_STAGE_NAMES)}, all")
        return [requested]
    skipped = set()
    if not config.model.has_smg:
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
    return write_dataset(SynthConfig(**asdict(synth), out=root, size=config.model.image_size))


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


def stage_class(name: str, config: TrainConfig) -> type[TrainingStage]:
    """The class that trains stage ``name``; the generator stage ``lsgan`` by ``model.generator``."""
    return GENERATOR_STAGES[config.model.generator] if name == "lsgan" else STAGES[name]


def _check_paired_loss(config: TrainConfig) -> None:
    if config.losses.paired and config.data.kind != "synthfacs":
        raise LsganError(
            f"losses.paired={config.losses.paired} needs rendered true targets, which only SynthFACS data has "
            f"(data.kind is {config.data.kind!r}): set losses.paired=0"
        )
    warping = config.model.generator == "aae_tg" and config.model.tg.output == "warp"
    if config.losses.colour and not warping and stage_class("lsgan", config) is LSGANStage:  # rivals ignore it
        raise LsganError(f"losses.colour={config.losses.colour} penalises a warping TG's colour change: it needs "
                         "model.tg.output=warp (and the aae_tg generator); set losses.colour=0")


def real_faces_needed(config: TrainConfig, stages: Sequence[str]) -> bool:
    """Whether any of ``stages`` trains on ``data.real``'s faces: stage lsgan with ``losses.real`` (rivals train on
    SynthFACS only), stage aux with ``stages.aux_options.real_bounds``."""
    lsgan = "lsgan" in stages and stage_class("lsgan", config) is LSGANStage and bool(config.losses.real)
    return lsgan or ("aux" in stages and bool(config.stages.aux_options.real_bounds))


def prepare_real_faces(config: TrainConfig, run_dir: Path, ctx: DistContext, stages: Sequence[str] = ("lsgan",)
                       ) -> None:
    """Align ``data.real``'s faces once into RUN_DIR/real_faces.npz (rank 0; others wait) when ``stages`` train on
    them; a run dir keeps its own copy, so a resumed run trains on the same faces, and aligns again when the
    folders, size or limit changed. With stage aux's real bounds, also the training classifier's reads of them
    (``training.real_bounds``, RUN_DIR/real_expressions.npz), read again when the faces are."""
    if not real_faces_needed(config, stages):
        return
    if config.data.real is None:
        what = (f"losses.real={config.losses.real}" if config.losses.real
                else f"stages.aux_options.real_bounds={config.stages.aux_options.real_bounds}")
        raise LsganError(f"{what} trains on real faces: give their folder as data.real, or a list of folders (e.g. "
                         "`lsgan data fetch photos` then data.real=<its video_frames folder>), or set it to 0")
    cache = run_dir / REAL_FACES
    folders = real_folders(config.data.real)
    wanted = made_from(folders, config.model.image_size, config.data.real_limit)
    if ctx.is_main and (not cache.is_file() or RealFaces.read(cache).made_from != wanted):
        faces = align_folders(folders, config.model.image_size, limit=config.data.real_limit)
        atomic_write_bytes(cache, faces.to_bytes())
        print(f"real faces: {len(faces.names)} aligned into {cache}, {len(faces.skipped)} images without a face",
              flush=True)
    if ctx.is_main and "aux" in stages and config.stages.aux_options.real_bounds:
        _read_real_expressions(faces_root(folders), RealFaces.read(cache), run_dir / REAL_EXPRESSIONS, ctx)
    barrier(ctx)


def _read_real_expressions(folder: Path, faces: RealFaces, cache: Path, ctx: DistContext) -> None:
    if cache.is_file():
        known = RealExpressions.read(cache)
        if known.made_from == faces.made_from and known.names == faces.names and known.classifier == LOSS_CLASSIFIER:
            return
    classifier = load_classifier(LOSS_CLASSIFIER, ctx.device)
    probabilities = read_expressions(folder, faces.names, classifier)
    atomic_write_bytes(cache, RealExpressions(probabilities, faces.names, LOSS_CLASSIFIER, faces.made_from).to_bytes())
    print(f"real faces: {LOSS_CLASSIFIER}'s reads of {len(faces.names)} written to {cache}", flush=True)


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
    stage_cls = stage_class(name, config)
    data = stage_data(stage_cls, config)
    seed_everything(config.runtime.seed)  # identical initial weights on every rank
    stage = stage_cls(ctx, config, data, run_dir)
    state = StageRunner(stage, run_dir / name).run(resume=resume, budget=budget)
    return state, stage


def train(requested: str, config: TrainConfig, run_dir: str | Path, *, resume: bool = False,
          budget: Budget | None = None, overwrite: bool = False, allow_config_change: bool = False) -> RunResult:
    """Run one stage or ``all`` under the current process group (``torchrun``) or as a single process.

    A run dir that already holds the requested stages is refused unless ``resume`` (continue them; a config that
    differs from the run's is refused unless ``allow_config_change``) or ``overwrite`` (delete them first)."""
    run_dir = Path(run_dir)
    stages = stages_to_run(config, requested)
    existing = check_run_dir(run_dir, config, requested, resume=resume, overwrite=overwrite,
                             allow_config_change=allow_config_change)
    ctx = init_distributed(config.runtime.device)
    threads_before = torch.get_num_threads()
    if config.runtime.num_threads:
        torch.set_num_threads(config.runtime.num_threads)
    try:
        if ctx.is_main:
            remove_run_parts(existing)  # only with overwrite: otherwise check_run_dir refused them
        prepare_data(config, ctx)
        if ctx.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
            save_config(config, run_dir / RUN_CONFIG)
        prepare_real_faces(config, run_dir, ctx, stages)
        result = RunResult()
        for name in stages:
            state, stage = run_stage(name, config, run_dir, ctx, resume=resume, budget=budget)
            result.states[name] = state
            if not state.finished:
                break  # out of budget: later stages need this one's final weights
            if isinstance(stage, (LSGANStage, RivalStage)) and ctx.is_main:
                result.bundle = write_bundle(stage, run_dir)
            if isinstance(stage, JudgeStage) and ctx.is_main:
                result.judge = write_judge(stage, run_dir, state.step)
        if ctx.is_main and result.states:
            write_run_metrics(run_dir)
        barrier(ctx)  # every rank leaves together: a rank torn down while its peer still writes can abort in gloo
        return result
    finally:
        torch.set_num_threads(threads_before)
        shutdown_distributed()


# --- the run dir: never mix two runs -----------------------------------------------------------------------

# Settings that may differ on --resume without changing what is trained.
RESUME_NEUTRAL_KEYS = frozenset({
    "runtime.num_threads", "runtime.num_workers", "runtime.log_every", "runtime.image_every", "data.synth.workers",
})


def run_parts(run_dir: Path, requested: str) -> list[Path]:
    """What a run of ``requested`` makes in ``run_dir`` (``all``: every stage and the bundle; ``metrics.json``
    gathers whatever stages are there and is rewritten each time)."""
    names = [*STAGE_NAMES, BUNDLE_DIR] if requested == "all" else [requested]
    if requested == "lsgan":
        names.append(BUNDLE_DIR)
    return [run_dir / name for name in names]


def check_run_dir(run_dir: Path, config: TrainConfig, requested: str, *, resume: bool, overwrite: bool,
                  allow_config_change: bool) -> list[Path]:
    """The parts of an earlier run that ``requested`` would write over (to delete: only with ``overwrite``).
    ``LsganError`` for a run dir that would mix two runs, and for ``resume`` with a changed config."""
    if resume and overwrite:
        raise LsganError("--resume continues the run in the run dir and --overwrite deletes it: give one of them")
    existing = [path for path in run_parts(run_dir, requested) if path.is_file() or _has_files(path)]
    if resume:
        changes = config_changes(run_dir / RUN_CONFIG, config)
        if changes and not allow_config_change:
            raise LsganError(
                f"--resume with a config that differs from the run's ({run_dir / RUN_CONFIG}): {'; '.join(changes)}. "
                "Pass --allow-config-change to continue with the new values, or train into a new --out"
            )
        return []
    if existing and not overwrite:
        names = ", ".join(path.name for path in existing)
        raise LsganError(
            f"{run_dir} already holds a run ({names}): continue it with --resume, replace it with --overwrite, "
            "or choose another --out"
        )
    return existing


def config_changes(saved: Path, config: TrainConfig, ignore: tuple[str, ...] = ()) -> list[str]:
    """``key: old -> new`` for each setting of ``config`` that differs from the YAML saved in the run dir, but
    those under the dotted sections in ``ignore`` (e.g. ``model.judge``)."""
    if not saved.is_file():
        return []
    old = _flatten(yaml.safe_load(saved.read_text()) or {})
    new = _flatten(to_dict(config))
    keys = sorted(key for key in (set(old) | set(new)) - RESUME_NEUTRAL_KEYS
                  if not any(key == section or key.startswith(f"{section}.") for section in ignore))
    return [f"{key}: {old.get(key)!r} -> {new.get(key)!r}" for key in keys if old.get(key) != new.get(key)]


def remove_run_parts(paths: list[Path]) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(path.is_file() for path in folder.rglob("*"))


def _flatten(data: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def write_bundle(stage: LSGANStage | RivalStage, run_dir: Path) -> Path:
    generator, au_regressor, extra = stage.bundle_parts()
    return save_bundle(run_dir / BUNDLE_DIR, stage.config.model, generator, au_regressor, extra)


def write_judge(stage: JudgeStage, run_dir: Path, steps: int) -> Path:
    """``RUN_DIR/judge/judge.safetensors``: the judge and what it was trained on (its training identities)."""
    data = stage.config.data
    train_identities = getattr(stage.data.train, "identities", [])
    return save_judge(run_dir / JudgeStage.name / JUDGE_FILE, stage.judge, image_size=stage.config.model.image_size,
                      data=Path(data.root).resolve(), train_identities=train_identities, steps=steps)


def write_run_metrics(run_dir: Path) -> dict[str, dict[str, float]]:
    """``RUN_DIR/metrics.json``: the final test metrics of every finished stage in the run dir."""
    metrics = {}
    for name in STAGE_NAMES + EVALUATION_STAGE_NAMES:
        path = run_dir / name / "metrics.json"
        if path.is_file():
            metrics[name] = json.loads(path.read_text())["metrics"]
    atomic_write_bytes(run_dir / RUN_METRICS, json.dumps(metrics, indent=2).encode())
    return metrics
