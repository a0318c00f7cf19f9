"""The stage runner shared by every stage: data order, budget, logging, evaluation and checkpoint cadence, resume.

A stage (smg, aae, aux, lsgan) only says what one step does (``TrainingStage``); this file does the rest the
same way for all of them, which is what makes ``--resume`` exact: the checkpoint holds every network and
optimizer state, the RNG states and the data position (epoch, batches done), each step draws from a stream
seeded by (seed, rank, step), data loaders get their own generators, and evaluation/previews run under
``torch.random.fork_rng``, so nothing outside a step moves the training random stream.
"""

from __future__ import annotations

import abc
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset

from lsgan.atomic import write_text
from lsgan.config import to_dict
from lsgan.errors import DataError
from lsgan.training.checkpoint import (
    CHECKPOINT_NAME, TrainState, atomic_write_bytes, load_latest_checkpoint, previous_path, save_checkpoint,
)
from lsgan.training.config import TrainConfig
from lsgan.training.distributed import (
    DistContext, ResumableDistributedSampler, all_reduce_mean, barrier, wrap_for_training,
)
from lsgan.training.logging import RunLogger
from lsgan.training.precision import MixedPrecision
from lsgan.training.seeding import seed_for_step

Batch = dict[str, Any]
METRICS_NAME = "metrics.json"
LOSSES_NAME = "losses.jsonl"
PREVIEW_ROWS = 4
PREFLIGHT_BATCHES = 4  # training batches a stage's ``preflight`` reads before its first step


@dataclass(frozen=True)
class Budget:
    """``--max-steps`` (the step each stage stops at) and ``--max-minutes`` (wall clock of the whole invocation,
    counted from when the budget is made)."""

    max_steps: int | None = None
    max_minutes: float | None = None
    started: float = field(default_factory=time.monotonic)

    def time_is_up(self) -> bool:
        return self.max_minutes is not None and time.monotonic() - self.started > self.max_minutes * 60


@dataclass
class StageData:
    train: Dataset
    test: Dataset | None


@dataclass(frozen=True)
class Preflight:
    """A stage's checks before its first step: figures for TensorBoard, and one line per thing found wrong."""

    figures: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class TrainingStage(abc.ABC):
    """What one stage trains and how one step goes. The runner owns everything else."""

    name: str
    needs_labels: bool = False  # items need label maps (ground-truth region masks)
    paired: bool = False        # items are (source, target) pairs

    def __init__(self, ctx: DistContext, config: TrainConfig, data: StageData, run_dir: Path) -> None:
        self.ctx = ctx
        self.config = config
        self.data = data
        self.run_dir = Path(run_dir)
        self.runtime = config.runtime
        self.settings = config.stage(self.name)
        self.amp = MixedPrecision(config.runtime.precision, ctx.device, channels_last=config.runtime.channels_last)

    @abc.abstractmethod
    def networks(self) -> dict[str, nn.Module]:
        """Unwrapped networks whose weights go into the checkpoint (trained ones and what later stages need)."""

    @abc.abstractmethod
    def optimizers(self) -> dict[str, torch.optim.Optimizer]: ...

    @abc.abstractmethod
    def train_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One optimisation step on a batch (already on the device); returns detached scalar losses."""

    @abc.abstractmethod
    def evaluate(self, batches: Iterator[Batch]) -> dict[str, float]:
        """Metrics on held-out batches (test identities), averaged over samples."""

    def wrap(self, objective: nn.Module) -> nn.Module:
        """DDP-wrap a loss module (its registered submodules are what that optimizer trains)."""
        return wrap_for_training(objective, self.ctx, sync_batchnorm=self.runtime.sync_batchnorm)

    def preview(self, batch: Batch) -> list[torch.Tensor]:
        """Image columns [N,3,H,W] for the TensorBoard grid; none by default."""
        return []

    def preflight(self, batches: Iterator[Batch]) -> Preflight:
        """What the stage starts from, read on a few training batches before its first step (frozen helpers that
        a later loss leans on); nothing to check by default."""
        return Preflight()

    def train_mode(self, training: bool) -> None:
        for module in self.networks().values():
            module.train(training)

    def to_device(self, batch: Batch) -> Batch:
        moved = {}
        for key, value in batch.items():
            if isinstance(value, torch.Tensor):
                is_image = value.dim() == 4 and value.shape[1] == 3
                moved[key] = self.amp.prepare_images(value) if is_image else value.to(self.ctx.device)
            elif isinstance(value, dict):
                moved[key] = self.to_device(value)
            else:
                moved[key] = value
        return moved


class StageRunner:
    """Runs one stage from its start (or its checkpoint) to its configured step count or the budget."""

    def __init__(self, stage: TrainingStage, stage_dir: Path) -> None:
        self.stage = stage
        self.data = stage.data
        self.stage_dir = Path(stage_dir)
        self.ctx = stage.ctx
        self.settings = stage.settings
        self.runtime = stage.runtime

    @property
    def checkpoint_path(self) -> Path:
        return self.stage_dir / CHECKPOINT_NAME

    def run(self, *, resume: bool, budget: Budget | None = None) -> TrainState:
        budget = budget or Budget()
        state = self._initial_state(resume)
        if state.finished and state.step >= self.settings.steps:
            return state
        state.finished = False  # a finished stage resumed with more steps trains on to the new count
        logger = RunLogger(
            self.stage_dir / "tensorboard", self.stage.name, total_steps=self.settings.steps,
            start_step=state.step, enabled=self.ctx.is_main,
        )
        try:
            if state.step == 0:
                self._preflight(logger)
            self._train(state, logger, budget)
            if state.step >= self.settings.steps:
                self._finish(state, logger)
            else:
                self._save(state)
                logger.message(f"{self.stage.name}: stopped at step {state.step} (budget); resume with --resume")
        finally:
            logger.close()
        return state

    # --- state --------------------------------------------------------------------------------------------------

    def _initial_state(self, resume: bool) -> TrainState:
        if resume and (self.checkpoint_path.is_file() or previous_path(self.checkpoint_path).is_file()):
            state = load_latest_checkpoint(self.checkpoint_path, self.stage.networks(), self.stage.optimizers())
            self.stage.amp.load_state_dict(state.extra.get("grad_scalers", {}))
            self._trim_loss_log(keep_until=state.step)
            return state
        self._trim_loss_log(keep_until=0)
        return TrainState(stage=self.stage.name, config=to_dict(self.stage.config))

    def _trim_loss_log(self, keep_until: int) -> None:
        """Drop loss records past the checkpoint (logged by a run that was killed after it). The file is written
        only when something is dropped, and then atomically (a new file: a stage hard-linked from another run dir,
        as ``lsgan reproduce`` reuses them, never writes through to the other's file)."""
        path = self.stage_dir / LOSSES_NAME
        if not self.ctx.is_main or not path.is_file():
            return
        lines = path.read_text().splitlines()
        kept = [line for line in lines if json.loads(line)["step"] <= keep_until]
        if len(kept) < len(lines):
            write_text(path, "".join(line + "\n" for line in kept))

    def _save(self, state: TrainState) -> None:
        if self.ctx.is_main:
            state.extra["grad_scalers"] = self.stage.amp.state_dict()
            save_checkpoint(self.checkpoint_path, state, self.stage.networks(), self.stage.optimizers())
        barrier(self.ctx)

    # --- training -----------------------------------------------------------------------------------------------

    def _loader(self, dataset: Dataset, sampler: ResumableDistributedSampler, epoch: int) -> DataLoader:
        # A dedicated generator: creating a loader iterator must not draw from the global RNG (exact resume).
        generator = torch.Generator().manual_seed(self.runtime.seed * 100_003 + epoch)
        return DataLoader(
            dataset, batch_size=self.settings.batch_size, sampler=sampler, drop_last=True,
            num_workers=self.runtime.num_workers, generator=generator,
            pin_memory=self.ctx.device.type == "cuda", persistent_workers=False,
        )

    def _train(self, state: TrainState, logger: RunLogger, budget: Budget) -> None:
        sampler = ResumableDistributedSampler(self.data.train, self.ctx, seed=self.runtime.seed)
        batches_per_epoch = sampler.num_samples // self.settings.batch_size
        if batches_per_epoch == 0:
            raise DataError(
                f"{self.stage.name}: {len(self.data.train)} training items are fewer than one batch of "
                f"{self.settings.batch_size} per process ({self.ctx.world_size} processes)"
            )
        target = min(self.settings.steps, budget.max_steps or self.settings.steps)
        self.stage.train_mode(True)
        while state.step < target and not self._out_of_time(budget):
            sampler.set_position(state.epoch, state.batch_in_epoch * self.settings.batch_size)
            if hasattr(self.data.train, "set_epoch"):  # UnpairedPairs draws fresh targets per epoch
                self.data.train.set_epoch(state.epoch)
            for batch in self._loader(self.data.train, sampler, state.epoch):
                seed_for_step(self.runtime.seed, self.ctx.rank, state.step)
                self._set_lr(state.step)
                losses = self.stage.train_step(self.stage.to_device(batch))
                self._advance(state, batches_per_epoch)
                self._after_step(state, losses, logger, batch)
                if state.step >= target or self._out_of_time(budget):
                    break

    def _set_lr(self, step: int) -> None:
        """Every optimizer of the stage at the step's learning rate (a function of the step: a resumed run goes
        on exactly)."""
        lr = self.settings.lr_at(step)
        for optimizer in self.stage.optimizers().values():
            for group in optimizer.param_groups:
                group["lr"] = lr

    @staticmethod
    def _advance(state: TrainState, batches_per_epoch: int) -> None:
        state.step += 1
        state.batch_in_epoch += 1
        if state.batch_in_epoch == batches_per_epoch:
            state.epoch += 1
            state.batch_in_epoch = 0

    def _out_of_time(self, budget: Budget) -> bool:
        if budget.max_minutes is None:
            return False
        out = torch.tensor(float(budget.time_is_up()), device=self.ctx.device)
        if self.ctx.distributed:  # every rank must stop at the same step
            dist.all_reduce(out, op=dist.ReduceOp.MAX)
        return bool(out.item())

    def _after_step(self, state: TrainState, losses: dict[str, torch.Tensor], logger: RunLogger, batch: Batch) -> None:
        step = state.step
        log_now = step % self.runtime.log_every == 0 or step == 1
        values = all_reduce_mean({k: float(v) for k, v in losses.items()}, self.ctx) if log_now else {}
        logger.step(step, values, self.settings.batch_size * self.ctx.world_size, write_scalars=log_now)
        if log_now and self.ctx.is_main:
            self._append_losses(step, values)
        if self.runtime.image_every and step % self.runtime.image_every == 0:
            self._log_preview(batch, logger, step)
        if self.settings.eval_every and step % self.settings.eval_every == 0 and step < self.settings.steps:
            logger.scalars("test", self._evaluate(), step)
        if self.settings.checkpoint_every and step % self.settings.checkpoint_every == 0:
            self._save(state)

    def _append_losses(self, step: int, values: dict[str, float]) -> None:
        self.stage_dir.mkdir(parents=True, exist_ok=True)
        with open(self.stage_dir / LOSSES_NAME, "a") as handle:
            handle.write(json.dumps({"step": step, **values}) + "\n")

    # --- evaluation ---------------------------------------------------------------------------------------------

    def _evaluate(self) -> dict[str, float]:
        """Rank 0 scores the test split (bounded by ``eval_batches``); RNG-neutral, so resume stays exact."""
        metrics: dict[str, float] = {}
        if self.ctx.is_main and self.data.test is not None and len(self.data.test) > 0:
            loader = DataLoader(self.data.test, batch_size=self.settings.batch_size, shuffle=False)
            batches = (self.stage.to_device(b) for b in islice(loader, self.settings.eval_batches or None))
            with self._outside_training():
                metrics = self.stage.evaluate(batches)
        barrier(self.ctx)
        return metrics

    def _preflight(self, logger: RunLogger) -> None:
        """Rank 0 runs the stage's checks on the first training batches (in order), RNG-neutral."""
        if self.ctx.is_main:
            loader = DataLoader(self.data.train, batch_size=self.settings.batch_size, shuffle=False)
            with self._outside_training():
                checks = self.stage.preflight(self.stage.to_device(b) for b in islice(loader, PREFLIGHT_BATCHES))
            logger.scalars("preflight", checks.figures, 0)
            for warning in checks.warnings:
                logger.message(f"{self.stage.name}: warning: {warning}")
        barrier(self.ctx)

    def _log_preview(self, batch: Batch, logger: RunLogger, step: int) -> None:
        if not self.ctx.is_main:
            return
        with self._outside_training():
            columns = self.stage.preview(self.stage.to_device(_first_items(batch, PREVIEW_ROWS)))
        logger.image_grid("preview", columns, step)

    @contextmanager
    def _outside_training(self) -> Iterator[None]:
        """Evaluation, previews, checks: no gradients, the networks in eval mode, and the training random stream
        left where it was (so resume stays exact)."""
        with torch.random.fork_rng(devices=self._rng_devices()), torch.no_grad():
            self.stage.train_mode(False)
            try:
                yield
            finally:
                self.stage.train_mode(True)

    def _rng_devices(self) -> list[int]:
        return [self.ctx.device.index or 0] if self.ctx.device.type == "cuda" else []

    def _finish(self, state: TrainState, logger: RunLogger) -> None:
        state.metrics = self._evaluate()
        state.finished = True
        logger.scalars("test", state.metrics, state.step)
        logger.message(f"{self.stage.name}: done at step {state.step}; " + _format_metrics(state.metrics))
        self._save(state)
        if self.ctx.is_main:
            payload = {"stage": self.stage.name, "step": state.step, "metrics": state.metrics}
            atomic_write_bytes(self.stage_dir / METRICS_NAME, json.dumps(payload, indent=2).encode())


def _first_items(batch: Batch, count: int) -> Batch:
    """The first ``count`` samples of a (possibly nested) batch."""
    return {
        key: _first_items(value, count) if isinstance(value, dict) else value[:count]
        for key, value in batch.items()
    }


def _format_metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()) or "no test data"
