"""Copy a finished training run's model bundle into the package as the shipped default model, with the run's
training config, final test metrics and loss logs beside it (the record of how the shipped weights were made).

    python scripts/ship_model.py runs/cpu64 [--log train.log] [--dest src/lsgan/assets/default]
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from lsgan.editing.editor import DEFAULT_MODEL_DIR
from lsgan.nets.lsgan import load_bundle
from lsgan.training.pipeline import BUNDLE_DIR, RUN_CONFIG, RUN_METRICS
from lsgan.training.config import STAGE_NAMES

EDITOR_PARTS = ("config.yaml", "generator.safetensors", "au_regressor.safetensors")


def clean_log(text: str) -> str:
    """A console log without progress-bar redraws and mediapipe/glog chatter: the last state of every line."""
    lines = [line.split("\r")[-1] for line in text.splitlines()]
    return "\n".join(line for line in lines if line.strip() and not re.match(r"^[WI]\d{4} ", line)) + "\n"


def ship(run_dir: Path, dest: Path, log: Path | None) -> None:
    bundle = run_dir / BUNDLE_DIR
    load_bundle(bundle)  # refuse a broken bundle before replacing the shipped one
    staging = dest.with_name(dest.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "training").mkdir(parents=True)
    for name in EDITOR_PARTS:
        shutil.copy2(bundle / name, staging / name)
    shutil.copy2(run_dir / RUN_CONFIG, staging / "training" / "train_config.yaml")
    shutil.copy2(run_dir / RUN_METRICS, staging / "training" / "metrics.json")
    for stage in STAGE_NAMES:
        losses = run_dir / stage / "losses.jsonl"
        if losses.is_file():
            shutil.copy2(losses, staging / "training" / f"{stage}_losses.jsonl")
    if log is not None:
        (staging / "training" / "train.log").write_text(clean_log(log.read_text(errors="replace")))
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    load_bundle(dest)
    print(f"shipped {bundle} -> {dest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--dest", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--log", type=Path, help="the console output of `lsgan train all`")
    args = parser.parse_args()
    ship(args.run_dir, args.dest, args.log)


if __name__ == "__main__":
    main()
