"""Helpers shared by the training tests: a tiny SynthFACS set rendered by ``lsgan data synth`` (once per session),
the tiny config, and readers for run-dir files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from lsgan.cli import app
from lsgan.training.checkpoint import CHECKPOINT_NAME, read_checkpoint
from lsgan.training.config import TrainConfig
from lsgan.training.loop import Budget
from lsgan.training.pipeline import load_train_config, train

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / "configs" / "tiny.yaml"
SYNTH_ARGS = ["--identities", "6", "--per-identity", "8", "--size", "32", "--seed", "0", "--test-fraction", "0.34"]


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-identity (2 test), 48-image, 32×32 SynthFACS set, written by the real CLI."""
    root = tmp_path_factory.getbasetemp() / "synthfacs-tiny"
    if not (root / "annotations.csv").is_file():
        result = CliRunner().invoke(app, ["data", "synth", "--out", str(root), *SYNTH_ARGS])
        assert result.exit_code == 0, result.output
    return root


def tiny_config(data_dir: Path, *overrides: str) -> TrainConfig:
    return load_train_config(TINY_CONFIG, [f"data.root={data_dir}", *overrides])


def loss_log(stage_dir: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (stage_dir / "losses.jsonl").read_text().splitlines()]


def checkpoint_tensors(stage_dir: Path) -> dict[str, torch.Tensor]:
    """Every network and optimizer tensor of a stage's checkpoint (RNG states left out)."""
    checkpoint, _ = read_checkpoint(stage_dir / CHECKPOINT_NAME)
    return {k: v for k, v in checkpoint.tensors.items() if not k.startswith("rng/")}


def stopped_and_resumed(pretrained: Path, config: TrainConfig, out: Path, stage: str = "lsgan", stop_at: int = 3
                        ) -> tuple[Path, Path]:
    """Stage ``stage`` trained on two copies of the run dir ``pretrained`` (earlier stages done): straight through,
    and stopped by the budget after ``stop_at`` steps then resumed. Returns (uninterrupted, interrupted)."""
    uninterrupted, interrupted = out / "uninterrupted", out / "interrupted"
    for run_dir in (uninterrupted, interrupted):
        shutil.copytree(pretrained, run_dir)
    assert train(stage, config, uninterrupted).finished
    assert not train(stage, config, interrupted, budget=Budget(max_steps=stop_at)).finished
    assert train(stage, config, interrupted, resume=True).finished
    return uninterrupted, interrupted
