"""``lsgan reproduce``: train every generator of the report (skipping what is trained, resuming what is not), reuse
the shared earlier stages where a generator's config does not touch them, then evaluate and write the report.

Layout: RUNS/base (smg, aae, aux, judge), RUNS/<setting>/<method>, RUNS/ablations/<name> (each a normal run dir,
``lsgan train ... --resume`` works on it); OUT/report.md with every table, OUT/methods/ and OUT/ablations/ (the
evaluation's CSVs and figures), OUT/runs/<name>/ (each run's config and training records, not its weights).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsgan.atomic import atomic_folder, write_bytes, write_text
from lsgan.config import to_dict
from lsgan.errors import LsganError
from lsgan.evaluation.tables import Column, Table, markdown
from lsgan.reproduce.plan import ABLATION_REFERENCE, BASE, Experiment, base_config, budget_file, experiments
from lsgan.training.config import TrainConfig
from lsgan.training.loop import Budget
from lsgan.training.pipeline import RUN_CONFIG, config_changes, load_train_config, stages_to_run, train

EARLIER_STAGES: tuple[str, ...] = ("smg", "aae", "aux")
JUDGE_SECTIONS: tuple[str, ...] = ("model.judge", "stages.judge")  # trained only in base: no generator reads them
# The config values each earlier stage's result depends on: a generator whose config agrees with the base run's on
# all of them reuses that stage's weights instead of training it again (dotted paths into the config).
STAGE_INPUTS: dict[str, tuple[str, ...]] = {
    "smg": ("model.image_size", "model.smg", "stages.smg"),
    "aae": ("model.image_size", "model.aae", "model.smg.mask_dilation", "model.smg.mask_blur", "stages.aae",
            "stages.latent_weight"),
    "aux": ("model.image_size", "model.aux", "stages.aux", "stages.aux_options"),
    "judge": ("model.image_size", *JUDGE_SECTIONS),
}
SHARED_INPUTS: tuple[str, ...] = ("data.kind", "data.root", "data.csv", "data.synth", "runtime.seed",
                                  "runtime.device", "runtime.precision")
RECORD_FILES: tuple[str, ...] = ("metrics.json", "losses.jsonl")
RECORD = "reproduce.json"  # per run dir: minutes spent per request, the stages reused from base, the code's commits
REPORT = "report.md"
PHOTOS_NOT_FETCHED = "left out: photos not fetched — run `lsgan data fetch photos`"
PHOTOS_NOT_ASKED = "left out (--no-photos)"
log = logging.getLogger(__name__)


@dataclass
class ReproduceResult:
    finished: bool
    report: Path | None = None
    written: bool = False  # False: training is done and the report was already there (no --overwrite)


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
    ``run_dir``; stages already there are left alone (each is linked into a temporary folder beside it and renamed
    into place, so a crash never leaves half a stage). Returns the stage names reused."""
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
        with atomic_folder(target) as partial:
            shutil.copytree(source, partial, copy_function=_link_or_copy, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("tensorboard"))
    return reused


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def read_record(run_dir: Path) -> dict[str, Any]:
    path = run_dir / RECORD
    record = json.loads(path.read_text()) if path.is_file() else {}
    return {"minutes": {}, "reused": [], "commits": [], **record}


def _update_record(run_dir: Path, minutes: dict[str, float] | None = None, reused: list[str] | None = None,
                   commit: str | None = None) -> None:
    """Add ``minutes`` (per request), set ``reused``, and add ``commit`` (the code a training call ran) to
    ``run_dir``'s record."""
    record = read_record(run_dir)
    for key, value in (minutes or {}).items():
        record["minutes"][key] = round(record["minutes"].get(key, 0.0) + value, 2)
    if reused is not None:
        record["reused"] = reused
    if commit is not None and commit not in record["commits"]:
        record["commits"].append(commit)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text(run_dir / RECORD, json.dumps(record, indent=2))


def _train_timed(name: str, requested: str, config: TrainConfig, run_dir: Path, clock: Budget,
                 allow_config_change: bool = False) -> bool:
    started = time.monotonic()
    result = train(requested, config, run_dir, resume=True, budget=clock, allow_config_change=allow_config_change)
    minutes = (time.monotonic() - started) / 60
    _update_record(run_dir, minutes={requested: minutes}, commit=code_version())
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
    judge_changed = check_same_config(run_dir, config)
    run_dir.mkdir(parents=True, exist_ok=True)
    _update_record(run_dir, reused=link_earlier_stages(config, base, runs / BASE, run_dir))
    return _train_timed(run.name, "all", config, run_dir, clock, allow_config_change=judge_changed)


def check_same_config(run_dir: Path, config: TrainConfig) -> bool:
    """A generator's run dir trained under another budget or config is refused (train's own check, with
    reproduce's advice). The judge's settings (``JUDGE_SECTIONS``) are not compared: the judge is trained only in
    base, so changing it retrains no generator. Returns whether they differ (train must then accept the change)."""
    saved = run_dir / RUN_CONFIG
    changes = config_changes(saved, config, ignore=JUDGE_SECTIONS)
    if changes:
        raise LsganError(f"{run_dir} was trained with another config ({'; '.join(changes[:3])}): give reproduce "
                         "another --runs folder, or delete that run dir")
    return bool(config_changes(saved, config))


def photo_folder(photos: Path | None, no_photos: bool) -> tuple[Path | None, str | None]:
    """The real-photo folder the report's photo table is measured on (``photos``, else the fetched photos' cache),
    or None and why the table is left out."""
    from lsgan.data.photos import default_photos_dir

    if no_photos:
        return None, PHOTOS_NOT_ASKED
    if photos is not None:
        if not Path(photos).is_dir():
            raise LsganError(f"no such photo folder: {photos}")
        return Path(photos), None
    found = default_photos_dir()
    return (found, None) if (found / "portraits").is_dir() else (None, PHOTOS_NOT_FETCHED)


def reproduce(budget: str, out: Path, runs: Path, *, configs: Path = Path("configs"), max_minutes: float | None = None,
              photos: Path | None = None, no_photos: bool = False, limit: int | None = None, device: str = "cpu",
              command: str | None = None, overwrite: bool = False) -> ReproduceResult:
    """Train what is missing (within ``max_minutes``), then evaluate everything and write OUT/report.md. A report
    already in ``out`` is left as it is (``written`` False) unless ``overwrite``. ``photos``: the real-photo folder
    (default: the fetched photos, if any; ``no_photos``: none)."""
    photos, photos_left_out = photo_folder(photos, no_photos)
    if photos_left_out == PHOTOS_NOT_FETCHED:
        log.warning(f"real-photo table {photos_left_out} (or give --photos DIR; --no-photos silences this)")
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
    result.report = out / REPORT
    if result.report.is_file() and not overwrite:
        return result
    write_report(budget, out, runs, [run for run, _ in plan], photos=photos, photos_left_out=photos_left_out,
                 limit=limit, device=device, command=command, overwrite=overwrite)
    result.written = True
    return result


# --- the report ---------------------------------------------------------------------------------------------

def write_report(budget: str, out: Path, runs: Path, plan: list[Experiment], *, photos: Path | None,
                 photos_left_out: str | None = None, limit: int | None, device: str, command: str | None,
                 overwrite: bool = False) -> Path:
    """Evaluate the methods and the ablations into ``out``/methods and ``out``/ablations (refused over an earlier
    evaluation unless ``overwrite``), copy the training records, and write ``out``/report.md."""
    from lsgan.evaluation.models import evaluate_models

    base = load_train_config(runs / BASE / RUN_CONFIG)
    data = Path(base.data.root)
    methods = {run.name: runs / run.name / "bundle" for run in plan if run.group != "ablations"}
    ablations = {"ablations/lsgan": runs / ABLATION_REFERENCE / "bundle"}  # the reference: every term on
    ablations |= {run.name: runs / run.name / "bundle" for run in plan if run.group == "ablations"}
    parts = {
        "methods": evaluate_models(methods, data, out / "methods", judge=runs / BASE, photos=photos, limit=limit,
                                   device=device, overwrite=overwrite),
        "ablations": evaluate_models(ablations, data, out / "ablations", judge=runs / BASE, photos=None, limit=limit,
                                     device=device, overwrite=overwrite),
    }
    copy_records(runs, [BASE, *(run.name for run in plan)], out / "runs")
    lines = _report_header(budget, runs, plan, command, photos_left_out)
    for title, files in parts.items():
        lines += [f"## {title.capitalize()}", "", _read_report(files).strip(), ""]
    report = out / REPORT
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
                write_bytes(target / name / path.relative_to(run_dir), path.read_bytes())


def _report_header(budget: str, runs: Path, plan: list[Experiment], command: str | None,
                   photos_left_out: str | None = None) -> list[str]:
    code = code_version()
    lines = [
        f"# lsgan reproduce: budget `{budget}`", "",
        f"Command: `{command or 'lsgan reproduce --budget ' + budget}`  ",
        f"Code: `{code}`; Python {sys.version.split()[0]}", "",
        "Every number below was produced by that command on this budget; the training records (config, losses, "
        "stage metrics, minutes) of each run are in `runs/`.", "",
    ]
    if photos_left_out is not None:
        lines += [f"Real-photo table {photos_left_out}.", ""]
    return lines + [markdown(training_table(runs, plan, code), heading="##")]


def training_table(runs: Path, plan: list[Experiment], code: str) -> Table:
    """Per run: its stages, those reused from base, the minutes trained; and the code's commits of its training
    calls (a column only where some differ from ``code``, the report's)."""
    rows = []
    for name in [BASE, *(run.name for run in plan)]:
        record = read_record(runs / name)
        config = load_train_config(runs / name / RUN_CONFIG)
        stages = [*stages_to_run(config, "all"), *(["judge"] if name == BASE else [])]
        if name == BASE:
            stages.remove("lsgan")
        rows.append([name, ", ".join(stages), ", ".join(record["reused"]) or None,
                     float(sum(record["minutes"].values())), ", ".join(record["commits"]) or None])
    columns = [Column("run", None), Column("stages", None), Column("reused from base", None), Column("minutes", 1),
               Column("trained by code", None)]
    if all(row[-1] in (None, code) for row in rows):
        columns, rows = columns[:-1], [row[:-1] for row in rows]
    return Table("training", "Training", columns, rows)


def code_version() -> str:
    """``git describe --always --dirty`` of the lsgan source tree (``src/lsgan`` of a checkout); "unknown" for an
    installed copy or outside git."""
    package = Path(__file__).resolve().parents[1]
    if package.parent.name != "src":  # an installed copy: any git tree around it is not its source
        return "unknown"
    try:
        found = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True,
                               check=False, cwd=package)
    except OSError:
        return "unknown"
    return found.stdout.strip() or "unknown"
