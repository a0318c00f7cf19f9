"""Fixtures and helpers shared by the editing tests (test_editor, test_cli_edit, test_export, test_web).

The model is a random-init tiny bundle (configs/tiny.yaml, 32×32): enough for plumbing, not for quality.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model bundle folder with random weights (the tiny test config)."""
    import torch

    from lsgan.config import from_dict
    from lsgan.nets.auxiliary import AURegressor
    from lsgan.nets.lsgan import LSGANConfig, LSGANGenerator, save_bundle

    model = yaml.safe_load((REPO / "configs" / "tiny.yaml").read_text())["model"]
    config = from_dict(LSGANConfig, model)
    torch.manual_seed(0)
    return save_bundle(tmp_path_factory.mktemp("bundle"), config, LSGANGenerator(config), AURegressor(config.aux))


@pytest.fixture(scope="session")
def synth_faces() -> list[np.ndarray]:
    """Three neutral SynthFACS faces, uint8 40×40×3 (already-cropped faces, for --no-align)."""
    from lsgan.data.synthfacs import render, sample_identity

    return [render(sample_identity(identity), np.zeros(16), size=40).image for identity in range(3)]


@pytest.fixture
def tiny_editor(tiny_bundle: Path):
    from lsgan.editing.editor import Editor

    return Editor.from_pretrained(tiny_bundle, align=False, batch_size=2)


@dataclass
class CliRun:
    code: int
    out: str
    err: str


def run_lsgan(args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliRun:
    """Run the real ``lsgan`` entry point (``lsgan.cli.main``, which maps LsganError to exit 2) in-process."""
    from lsgan.cli import main

    monkeypatch.setattr(sys, "argv", ["lsgan", *map(str, args)])
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    captured = capsys.readouterr()
    return CliRun(code, captured.out, captured.err)


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


@pytest.fixture
def lsgan(capsys, monkeypatch, tiny_bundle):
    """``lsgan(*args)`` runs the CLI with the tiny model (``--model`` added unless given)."""

    def run(*args: object, model: bool = True):
        return run_lsgan([*args, *(["--model", tiny_bundle] if model else [])], capsys, monkeypatch)

    return run


@pytest.fixture
def face_files(save_png, synth_faces) -> list[Path]:
    return [save_png(f"faces/face{index}.png", face) for index, face in enumerate(synth_faces)]
