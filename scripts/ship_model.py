"""Copy a finished training run's model bundle into the package as the shipped default model, with the run's
training config, final test metrics and loss logs beside it (the record of how the shipped weights were made).

    python scripts/ship_model.py runs/cpu64 [--log train.log] [--dest src/lsgan/assets/default] [--full-precision]

The generator and G_exp are stored in float16 unless ``--full-precision`` (they load back as float32).
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import torch

from lsgan.editing.editor import DEFAULT_MODEL_DIR
from lsgan.nets.lsgan import AU_REGRESSOR_FILE, CONFIG_FILE, GENERATOR_FILE, load_bundle
from lsgan.nets.weights import save_weights
from lsgan.training.pipeline import BUNDLE_DIR, RUN_CONFIG, RUN_METRICS
from lsgan.training.config import STAGE_NAMES


def clean_log(text: str) -> str:
    """A console log without progress-bar redraws and mediapipe/glog chatter: the last state of every line."""
    lines = [line.split("\r")[-1] for line in text.splitlines()]
    return "\n".join(line for line in lines if line.strip() and not re.match(r"^[WI]\d{4} ", line)) + "\n"


def ship(run_dir: Path, dest: Path, log: Path | None, storage_dtype: torch.dtype = torch.float16) -> None:
    bundle = run_dir / BUNDLE_DIR
    model = load_bundle(bundle)  # refuse a broken bundle before replacing the shipped one
    staging = dest.with_name(dest.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "training").mkdir(parents=True)
    shutil.copy2(bundle / CONFIG_FILE, staging / CONFIG_FILE)
    save_weights(model.generator, staging / GENERATOR_FILE, storage_dtype)
    save_weights(model.au_regressor, staging / AU_REGRESSOR_FILE, storage_dtype)
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
    parser.add_argument("--full-precision", action="store_true", help="store float32 weights (twice the size)")
    args = parser.parse_args()
    ship(args.run_dir, args.dest, args.log, torch.float32 if args.full_precision else torch.float16)


if __name__ == "__main__":
    main()
