"""Copy a finished training run's model bundle into the package as the shipped default model, with the run's
training config, final test metrics and loss logs beside it (the record of how the shipped weights were made).

    python scripts/ship_model.py runs/cpu64 [--log train.log] [--dest src/lsgan/assets/default] [--full-precision]
    python scripts/ship_model.py --g-exp-from runs/aux [--log aux.log] [--dest ...]

The generator and G_exp are stored in float16 unless ``--full-precision`` (they load back as float32).
``--g-exp-from RUN`` replaces only the shipped G_exp, by RUN's stage aux (retrained after the generator, e.g. with
new ``aux_options`` or other data): its weights, its stage settings in the recorded config, its whole run config as
``training/aux_train_config.yaml`` (its data may differ from the generator's), its aux metrics and losses, its log
appended; the generator's bytes are untouched. The generator was trained against the G_exp it replaces.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

import torch
import yaml

from lsgan.editing.editor import DEFAULT_MODEL_DIR
from lsgan.nets.lsgan import AU_REGRESSOR_FILE, CONFIG_FILE, GENERATOR_FILE, load_bundle
from lsgan.nets.weights import save_weights
from lsgan.training.pipeline import BUNDLE_DIR, RUN_CONFIG, RUN_METRICS
from lsgan.training.config import STAGE_NAMES
from lsgan.training.stages.common import load_earlier_stage

AUX_RUN_CONFIG = "aux_train_config.yaml"  # --g-exp-from: the config of the run the shipped G_exp came from


def clean_log(path: Path) -> str:
    """A console log without progress-bar redraws and mediapipe/glog chatter: the last state of every line. Read as
    bytes: text mode (and ``splitlines``) would turn each redraw's "\r" into a line of its own."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = [line.split("\r")[-1] for line in text.split("\n")]
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
        (staging / "training" / "train.log").write_text(clean_log(log))
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    load_bundle(dest)
    print(f"shipped {bundle} -> {dest}")


def replace_g_exp(aux_run: Path, dest: Path, log: Path | None, storage_dtype: torch.dtype = torch.float16) -> None:
    record = dest / "training"
    config = yaml.safe_load((record / "train_config.yaml").read_text())
    aux_config = yaml.safe_load((aux_run / RUN_CONFIG).read_text())
    if aux_config["model"]["aux"] != config["model"]["aux"] or aux_config["model"]["image_size"] != config["model"][
            "image_size"]:
        raise SystemExit(f"{aux_run}: its G_exp (model.aux, model.image_size) differs from the shipped one's")
    model = load_bundle(dest)
    load_earlier_stage(aux_run, "aux", {"au_regressor": model.au_regressor})
    for key in ("aux", "aux_options"):
        config["stages"][key] = aux_config["stages"][key]
    metrics = json.loads((record / "metrics.json").read_text())
    metrics["aux"] = json.loads((aux_run / RUN_METRICS).read_text())["aux"]
    staging = dest.with_name(dest.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(dest, staging)
    save_weights(model.au_regressor, staging / AU_REGRESSOR_FILE, storage_dtype)
    (staging / "training" / "train_config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (staging / "training" / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    shutil.copy2(aux_run / "aux" / "losses.jsonl", staging / "training" / "aux_losses.jsonl")
    shutil.copy2(aux_run / RUN_CONFIG, staging / "training" / AUX_RUN_CONFIG)
    if log is not None:
        with (staging / "training" / "train.log").open("a") as handle:
            handle.write(clean_log(log))
    shutil.rmtree(dest)
    staging.rename(dest)
    load_bundle(dest)
    print(f"shipped G_exp of {aux_run} -> {dest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, nargs="?", help="the run whose bundle to ship (not with --g-exp-from)")
    parser.add_argument("--g-exp-from", type=Path, help="replace only the shipped G_exp, by this run's stage aux")
    parser.add_argument("--dest", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--log", type=Path, help="the console output of `lsgan train all`")
    parser.add_argument("--full-precision", action="store_true", help="store float32 weights (twice the size)")
    args = parser.parse_args()
    dtype = torch.float32 if args.full_precision else torch.float16
    if (args.run_dir is None) == (args.g_exp_from is None):
        parser.error("give a run dir to ship, or --g-exp-from RUN (not both)")
    if args.g_exp_from is not None:
        replace_g_exp(args.g_exp_from, args.dest, args.log, dtype)
    else:
        ship(args.run_dir, args.dest, args.log, dtype)


if __name__ == "__main__":
    main()
