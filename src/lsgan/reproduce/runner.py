"""``lsgan reproduce``: train every generator of the report (skipping what is trained, resuming what is not), reuse
the shared earlier stages where a generator's config does not touch them, then evaluate and write the report.

Layout: RUNS/base (smg, aae, aux, judge), RUNS/<setting>/<method>, RUNS/ablations/<name> (each a normal run dir,
``lsgan train ... --resume`` works on it); OUT/report.md with every table, OUT/methods/ and OUT/ablations/ (the
evaluation's CSVs and figures), OUT/runs/<name>/ (each run's config and training records, not its weights).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsgan.atomic import write_text
from lsgan.config import to_dict
from lsgan.errors import LsganError
from lsgan.reproduce.plan import ABLATION_REFERENCE, BASE, Experiment, base_config, budget_file, experiments
from lsgan.training.config import TrainConfig
from lsgan.training.loop import Budget
from lsgan.training.pipeline import RUN_CONFIG, config_changes, load_train_config, stages_to_run, train

EARLIER_STAGES: tuple[str, ...] = ("smg", "aae", "aux")
# The config values each earlier stage's result depends on: a generator whose config agrees with the base run's on
# all of them reuses that stage's weights instead of training it again (dotted paths into the config).
STAGE_INPUTS: dict[str, tuple[str, ...]] = {
    "smg": ("model.image_size", "model.smg", "stages.smg"),
    "aae": ("model.image_size", "model.aae", "model.smg.mask_dilation", "model.smg.mask_blur", "stages.aae",
            "stages.latent_weight"),
    "aux": ("model.image_size", "model.aux", "stages.aux", "stages.aux_options"),
    "judge": ("model.image_size", "model.judge", "stages.judge"),
}
SHARED_INPUTS: tuple[str, ...] = ("data.kind", "data.root", "data.csv", "data.synth", "runtime.seed",
                                  "runtime.device", "runtime.precision")
RECORD_FILES: tuple[str, ...] = ("metrics.json", "losses.jsonl")
RECORD = "reproduce.json"  # per run dir: minutes spent per request, and the stages reused from base


@dataclass
class ReproduceResult:
    finished: bool
    trained: dict[str, float] = field(default_factory=dict)  # run name -> minutes spent in this invocation
    report: Path | None = None


def _value(config: dict[str, Any], dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def reusable(stage: str, config: TrainConfig, base: TrainConfig) -> bool:
    """True when ``stage`` trained under ``base`` gives what ``config`` would train."""
    mine, theirs = to_dict(config), to_dict(base)
    return all(_value(mine, key) == _value(theirs, key) for key in (*SHARED_INPUTS, *STAGE_INPUTS[stage]))


def link_earlier_stages(config: TrainConfig, base: TrainConfig, base_dir: Path, run_dir: Path) -> list[str]:
    """Hard-link (copy where links fail) the base run's finished earlier stages that ``config`` can reuse into
    ``run_dir``; stages already there are left alone. Returns the stage names reused."""
    reused = []
    for stage in (s for s in stages_to_run(config, "all") if s in EARLIER_STAGES):
        if not reusable(stage, config, base):
            continue
        reused.append(stage)
        target = run_dir / stage
        if target.exists():
            continue
        source = base_dir / stage
        if not (source / "checkpoint.safetensors").is_file():
            raise LsganError(f"base stage {stage} is not trained yet ({source}); run reproduce again")
        shutil.copytree(source, target, copy_function=_link_or_copy, ignore=shutil.ignore_patterns("tensorboard"))
    return reused


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def read_record(run_dir: Path) -> dict[str, Any]:
    path = run_dir / RECORD
    return json.loads(path.read_text()) if path.is_file() else {"minutes": {}, "reused": []}


def _update_record(run_dir: Path, minutes: dict[str, float] | None = None, reused: list[str] | None = None) -> None:
    record = read_record(run_dir)
    for key, value in (minutes or {}).items():
        record["minutes"][key] = round(record["minutes"].get(key, 0.0) + value, 2)
    if reused is not None:
        record["reused"] = reused
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text(run_dir / RECORD, json.dumps(record, indent=2))


def _train_timed(name: str, requested: str, config: TrainConfig, run_dir: Path, clock: Budget,
                 allow_config_change: bool = False) -> bool:
    started = time.monotonic()
    result = train(requested, config, run_dir, resume=True, budget=clock, allow_config_change=allow_config_change)
    minutes = (time.monotonic() - started) / 60
    _update_record(run_dir, minutes={requested: minutes})
    print(f"reproduce: {name} {requested}: {'done' if result.finished else 'stopped'} ({minutes:.1f} min)", flush=True)
    return result.finished


def train_base(config: TrainConfig, base_dir: Path, clock: Budget) -> bool:
    """The shared earlier stages and the independent AU judge, in the base run dir. A base trained under a config
    that differs only in what these stages do not read (say a setting added to stage lsgan since) is continued."""
    saved = base_dir / RUN_CONFIG
    if saved.is_file():
        old = load_train_config(saved)
        changed = [stage for stage in STAGE_INPUTS if (base_dir / stage).is_dir() and not reusable(stage, config, old)]
        if changed:
            raise LsganError(f"{base_dir} holds stages {', '.join(changed)} trained under another config: give "
                             "reproduce another --runs folder, or delete that run dir")
    for stage in (*EARLIER_STAGES, "judge"):
        if not _train_timed(BASE, stage, config, base_dir, clock, allow_config_change=True):
            return False
    return True


def train_experiment(run: Experiment, config: TrainConfig, base: TrainConfig, runs: Path, clock: Budget) -> bool:
    run_dir = runs / run.name
    _check_same_config(run_dir, config)
    run_dir.mkdir(parents=True, exist_ok=True)
    _update_record(run_dir, reused=link_earlier_stages(config, base, runs / BASE, run_dir))
    return _train_timed(run.name, "all", config, run_dir, clock)


def _check_same_config(run_dir: Path, config: TrainConfig) -> None:
    """A run dir trained under another budget or config is refused (train's own check, with reproduce's advice)."""
    changes = config_changes(run_dir / RUN_CONFIG, config)
    if changes:
        raise LsganError(f"{run_dir} was trained with another config ({'; '.join(changes[:3])}): give reproduce "
                         "another --runs folder, or delete that run dir")


def reproduce(budget: str, out: Path, runs: Path, *, configs: Path = Path("configs"), max_minutes: float | None = None,
              photos: Path | None = None, limit: int | None = None, device: str = "cpu",
              command: str | None = None) -> ReproduceResult:
    """Train what is missing (within ``max_minutes``), then evaluate everything and write OUT/report.md."""
    overlay = [budget_file(configs, budget)]
    clock = Budget(max_minutes=max_minutes)
    base = load_train_config(base_config(configs), overlays=overlay)
    plan = [(run, load_train_config(run.config, list(run.overrides), overlay)) for run in experiments(configs)]
    result = ReproduceResult(finished=False)
    if not train_base(base, runs / BASE, clock):
        return result
    for run, config in plan:
        if not train_experiment(run, config, base, runs, clock):
            return result
    result.finished = True
    result.report = write_report(budget, out, runs, [run for run, _ in plan], photos=photos, limit=limit,
                                 device=device, command=command)
    return result


# --- the report ---------------------------------------------------------------------------------------------

def write_report(budget: str, out: Path, runs: Path, plan: list[Experiment], *, photos: Path | None,
                 limit: int | None, device: str, command: str | None) -> Path:
    from lsgan.evaluation.models import evaluate_models

    base = load_train_config(runs / BASE / RUN_CONFIG)
    data = Path(base.data.root)
    methods = {run.name: runs / run.name / "bundle" for run in plan if run.group != "ablations"}
    ablations = {"ablations/lsgan": runs / ABLATION_REFERENCE / "bundle"}  # the reference: every term on
    ablations |= {run.name: runs / run.name / "bundle" for run in plan if run.group == "ablations"}
    parts = {
        "methods": evaluate_models(methods, data, out / "methods", judge=runs / BASE, photos=photos, limit=limit,
                                   device=device),
        "ablations": evaluate_models(ablations, data, out / "ablations", judge=runs / BASE, photos=None, limit=limit,
                                     device=device),
    }
    copy_records(runs, [BASE, *(run.name for run in plan)], out / "runs")
    lines = _report_header(budget, runs, plan, command)
    for title, files in parts.items():
        lines += [f"## {title.capitalize()}", "", _read_report(files).strip(), ""]
    report = out / "report.md"
    write_text(report, "\n".join(lines) + "\n")
    return report


def _read_report(files: Any) -> str:
    path = getattr(files, "report", files)
    return Path(path).read_text()


def copy_records(runs: Path, names: list[str], target: Path) -> None:
    """Each run's config.yaml, minutes, and per-stage metrics.json / losses.jsonl (no weights) into ``target``."""
    for name in names:
        run_dir = runs / name
        for path in [run_dir / RUN_CONFIG, run_dir / RECORD, *(run_dir / s / f for s in
                     (*EARLIER_STAGES, "judge", "lsgan") for f in RECORD_FILES)]:
            if path.is_file():
                dest = target / name / path.relative_to(run_dir)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)


def _report_header(budget: str, runs: Path, plan: list[Experiment], command: str | None) -> list[str]:
    lines = [
        f"# lsgan reproduce: budget `{budget}`", "",
        f"Command: `{command or 'lsgan reproduce --budget ' + budget}`  ",
        f"Code: `{_git_commit()}`; Python {sys.version.split()[0]}", "",
        "Every number below was produced by that command on this budget; the training records (config, losses, "
        "stage metrics, minutes) of each run are in `runs/`.", "",
        "## Training", "",
        "| run | stages | reused from base | minutes |",
        "|---|---|---|---|",
    ]
    for name in [BASE, *(run.name for run in plan)]:
        record = read_record(runs / name)
        config = load_train_config(runs / name / RUN_CONFIG)
        stages = [*stages_to_run(config, "all"), *(["judge"] if name == BASE else [])]
        if name == BASE:
            stages.remove("lsgan")
        reused = ", ".join(record["reused"]) or "–"
        lines.append(f"| {name} | {', '.join(stages)} | {reused} | {sum(record['minutes'].values()):.1f} |")
    return lines + [""]


def _git_commit() -> str:
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    except OSError:
        return "unknown"
    return found.stdout.strip() or "unknown"
