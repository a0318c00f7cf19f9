"""``lsgan reproduce``: budgets, the experiment plan, reuse of earlier stages, and the whole command on a tiny budget."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lsgan.cli import app
from lsgan.errors import LsganError
from lsgan.reproduce.plan import ABLATIONS, BASE, BUDGETS, METHODS, SETTINGS, base_config, budget_file, experiments
from lsgan.reproduce.runner import read_record, reproduce, reusable
from lsgan.training.pipeline import load_train_config
from training_support import REPO, synth_dir  # noqa: F401  (fixture)

CONFIGS = REPO / "configs"


def tiny_budget(tmp_path: Path, data_root: Path) -> Path:
    """configs/tiny.yaml's sizes and steps as a budget overlay, on the session's tiny SynthFACS set."""
    tiny = yaml.safe_load((CONFIGS / "tiny.yaml").read_text())
    tiny.pop("losses")
    tiny["model"]["tg"].pop("preset", None)  # a budget sets sizes, never a method's design
    tiny["data"]["root"] = str(data_root)
    tiny["stages"]["lsgan"]["steps"] = 4
    path = tmp_path / "budget.yaml"
    path.write_text(yaml.safe_dump(tiny))
    return path


def test_budget_overlay_is_merged_over_the_experiment_config(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text("model: {image_size: 32, tg: {width: 8}}\nstages: {lsgan: {betas: [0.5, 0.9]}}\n")
    config = load_train_config(CONFIGS / "methods" / "lsgan_warp.yaml", ["stages.lsgan.steps=3"], [path])
    assert config.model.image_size == 32 and config.model.tg.width == 8 and config.model.tg.preset == "warp"
    assert config.stages.lsgan.betas == (0.5, 0.9) and config.stages.lsgan.steps == 3


def test_budget_names_and_files(tmp_path: Path) -> None:
    assert budget_file(CONFIGS, "cpu") == CONFIGS / "budgets" / "cpu.yaml"
    with pytest.raises(LsganError, match="unknown budget 'fast'"):
        budget_file(CONFIGS, "fast")
    with pytest.raises(LsganError, match="budget file not found"):
        budget_file(CONFIGS, str(tmp_path / "none.yaml"))


@pytest.mark.parametrize("budget", BUDGETS)
def test_every_experiment_config_loads_under_every_budget(budget: str) -> None:
    overlay = [budget_file(CONFIGS, budget)]
    runs = experiments(CONFIGS)
    assert len(runs) == len(SETTINGS) * len(METHODS) + len(ABLATIONS)
    sizes = {load_train_config(run.config, list(run.overrides), overlay).model.image_size for run in runs}
    assert len(sizes) == 1  # one resolution for every method and ablation
    paired = [load_train_config(r.config, list(r.overrides), overlay).losses.paired for r in runs if r.group == "paired"]
    assert paired and all(weight > 0 for weight in paired)


def test_earlier_stages_are_reused_only_where_the_config_agrees() -> None:
    overlay = [budget_file(CONFIGS, "cpu")]
    base = load_train_config(base_config(CONFIGS), overlays=overlay)
    by_name = {run.name: load_train_config(run.config, list(run.overrides), overlay) for run in experiments(CONFIGS)}
    assert all(reusable(stage, by_name["paired/lsgan"], base) for stage in ("smg", "aae", "aux"))
    se = by_name["ablations/se_attention"]
    assert not reusable("smg", se, base) and reusable("aux", se, base)
    other_data = load_train_config(base_config(CONFIGS), ["data.root=elsewhere"], overlay)
    assert not any(reusable(stage, other_data, base) for stage in ("smg", "aae", "aux"))


def test_reproduce_stops_at_its_time_budget_and_says_so(tmp_path: Path, synth_dir: Path) -> None:  # noqa: F811
    result = reproduce(str(tiny_budget(tmp_path, synth_dir)), tmp_path / "report", tmp_path / "runs", configs=CONFIGS,
                       max_minutes=0.0)
    assert not result.finished and result.report is None
    assert not (tmp_path / "report" / "report.md").exists()


def test_reproduce_end_to_end_on_a_tiny_budget(tmp_path: Path, synth_dir: Path) -> None:  # noqa: F811
    budget = tiny_budget(tmp_path, synth_dir)
    out, runs = tmp_path / "report", tmp_path / "runs"
    result = CliRunner().invoke(app, ["reproduce", "--budget", str(budget), "--out", str(out), "--runs", str(runs),
                                      "--configs", str(CONFIGS), "--no-photos", "--limit", "8"])
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text()
    for run in experiments(CONFIGS):
        assert (runs / run.name / "bundle" / "config.yaml").is_file()
        assert run.name in report
        assert (out / "runs" / run.name / "config.yaml").is_file()
    assert "identity" in report.lower()  # the identity baseline row
    se = read_record(runs / "ablations/se_attention")
    assert "smg" not in se["reused"] and "aux" in se["reused"]  # its own SMG, the shared G_exp
    assert read_record(runs / "paired/stargan")["reused"] == ["aux"]
    assert (runs / BASE / "judge").is_dir()
    stamps = {run.name: (runs / run.name / "lsgan" / "checkpoint.safetensors").stat().st_mtime_ns
              for run in experiments(CONFIGS)}
    again = CliRunner().invoke(app, ["reproduce", "--budget", str(budget), "--out", str(tmp_path / "again"),
                                     "--runs", str(runs), "--configs", str(CONFIGS), "--no-photos", "--limit", "8"])
    assert again.exit_code == 0, again.output
    for name, stamp in stamps.items():  # nothing trained again: every generator's checkpoint untouched
        assert (runs / name / "lsgan" / "checkpoint.safetensors").stat().st_mtime_ns == stamp
    assert (tmp_path / "again" / "report.md").read_text().count("|") > 50
