"""``lsgan reproduce``: budgets, the experiment plan, reuse of earlier stages, and the whole command on a tiny budget."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lsgan.cli import app
from lsgan.config import save_config
from lsgan.errors import LsganError
from lsgan.reproduce import runner
from lsgan.reproduce.plan import (
    ABLATIONS, BASE, BUDGETS, METHODS, SETTINGS, Experiment, base_config, budget_file, experiments,
)
from lsgan.reproduce.runner import (
    PHOTOS_NOT_ASKED, PHOTOS_NOT_FETCHED, ReproduceResult, check_same_config, code_version, link_earlier_stages,
    photo_folder, read_record, reproduce, reusable, training_table,
)
from lsgan.training.pipeline import RUN_CONFIG, load_train_config
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


def cpu_config(*overrides: str):
    return load_train_config(base_config(CONFIGS), list(overrides), [budget_file(CONFIGS, "cpu")])


def test_a_generator_run_dir_ignores_the_judges_settings_but_nothing_else(tmp_path: Path) -> None:
    config = cpu_config()
    save_config(config, tmp_path / RUN_CONFIG)
    assert check_same_config(tmp_path, config) is False
    assert check_same_config(tmp_path, cpu_config("model.judge.seed=7", "stages.judge.steps=9")) is True  # accepted
    for other in ("stages.lsgan.steps=9", "model.aux.width=0.5", "losses.au=1.0"):
        with pytest.raises(LsganError, match="was trained with another config"):
            check_same_config(tmp_path, cpu_config(other, "model.judge.seed=7"))
    assert check_same_config(tmp_path / "new", config) is False  # nothing trained there yet


def _fake_base(base_dir: Path) -> None:
    for stage in ("smg", "aae", "aux"):
        (base_dir / stage / "tensorboard").mkdir(parents=True)
        for name in ("checkpoint.safetensors", "losses.jsonl", "metrics.json", "tensorboard/events"):
            (base_dir / stage / name).write_text(f"{stage} {name}")


def test_earlier_stages_are_linked_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = cpu_config()
    base_dir, run_dir = tmp_path / BASE, tmp_path / "run"
    _fake_base(base_dir)
    run_dir.mkdir()
    real_link, calls = runner._link_or_copy, []

    def crash_on_the_second_file(source: str, target: str) -> None:
        calls.append(source)
        if len(calls) == 2:
            raise OSError("disk full")
        real_link(source, target)

    monkeypatch.setattr(runner, "_link_or_copy", crash_on_the_second_file)
    with pytest.raises(Exception, match="disk full"):
        link_earlier_stages(config, config, base_dir, run_dir)
    assert list(run_dir.iterdir()) == []  # no half stage (nor a temporary folder) left behind
    monkeypatch.setattr(runner, "_link_or_copy", real_link)
    assert link_earlier_stages(config, config, base_dir, run_dir) == ["smg", "aae", "aux"]
    for stage in ("smg", "aae", "aux"):
        assert sorted(path.name for path in (run_dir / stage).iterdir()) == [
            "checkpoint.safetensors", "losses.jsonl", "metrics.json"]  # no tensorboard
        assert os.stat(run_dir / stage / "losses.jsonl").st_ino == os.stat(base_dir / stage / "losses.jsonl").st_ino


def test_the_photo_table_is_left_out_with_a_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LSGAN_DATA", str(tmp_path / "data"))
    assert photo_folder(None, no_photos=True) == (None, PHOTOS_NOT_ASKED)
    assert photo_folder(None, no_photos=False) == (None, PHOTOS_NOT_FETCHED)
    assert "run `lsgan data fetch photos`" in PHOTOS_NOT_FETCHED
    (tmp_path / "data" / "photos" / "portraits").mkdir(parents=True)
    assert photo_folder(None, no_photos=False) == (tmp_path / "data" / "photos", None)
    assert photo_folder(tmp_path, no_photos=False) == (tmp_path, None)
    with pytest.raises(LsganError, match="no such photo folder"):
        photo_folder(tmp_path / "none", no_photos=False)


def test_the_cli_reports_follow_the_budget_and_a_written_report_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake(budget, out, runs, **options):
        calls.append((out, runs, options))
        return ReproduceResult(finished=True, report=out / "report.md", written=options["overwrite"])

    monkeypatch.setattr(runner, "reproduce", fake)
    for budget, name in (("cpu", "cpu"), ("my/budget.yaml", "budget")):
        result = CliRunner().invoke(app, ["reproduce", "--budget", budget])
        assert result.exit_code == 0, result.output
        assert calls[-1][:2] == (Path("reports") / name, Path("runs") / f"reproduce-{name}")
        assert f"report already written: {Path('reports') / name / 'report.md'} (--overwrite to write it again)" \
            in result.output
    result = CliRunner().invoke(app, ["reproduce", "--budget", "cpu", "--out", "x", "--overwrite", "--no-photos"])
    assert result.exit_code == 0 and calls[-1][0] == Path("x") and "report: x/report.md" in result.output
    assert calls[-1][2]["overwrite"] and calls[-1][2]["no_photos"]


def test_the_training_table_shows_the_code_only_where_it_differs(tmp_path: Path) -> None:
    plan = [Experiment("unpaired/lsgan", base_config(CONFIGS))]
    for name, commits in ((BASE, ["abc"]), ("unpaired/lsgan", ["abc", "def-dirty"])):
        save_config(cpu_config(), tmp_path / name / RUN_CONFIG)
        runner._update_record(tmp_path / name, minutes={"all": 1.25}, reused=["aux"] if name != BASE else None)
        for commit in commits:
            runner._update_record(tmp_path / name, commit=commit)
    table = training_table(tmp_path, plan, "abc")
    assert [column.name for column in table.columns] == ["run", "stages", "reused from base", "minutes",
                                                         "trained by code"]
    assert table.rows == [[BASE, "smg, aae, aux, judge", None, 1.25, "abc"],
                          ["unpaired/lsgan", "smg, aae, aux, lsgan", "aux", 1.25, "abc, def-dirty"]]
    runner._update_record(tmp_path / "unpaired/lsgan", commit="abc")  # recorded once
    assert read_record(tmp_path / "unpaired/lsgan")["commits"] == ["abc", "def-dirty"]
    (tmp_path / "unpaired/lsgan" / runner.RECORD).write_text('{"minutes": {}, "reused": []}')  # an older record
    assert [column.name for column in training_table(tmp_path, plan, "abc").columns][-1] == "minutes"


def test_reproduce_stops_at_its_time_budget_and_says_so(tmp_path: Path, synth_dir: Path,  # noqa: F811
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("LSGAN_DATA", str(tmp_path / "no-data"))  # photos not fetched
    with caplog.at_level(logging.WARNING, logger="lsgan"):
        result = reproduce(str(tiny_budget(tmp_path, synth_dir)), tmp_path / "report", tmp_path / "runs",
                           configs=CONFIGS, max_minutes=0.0)
    assert not result.finished and result.report is None
    assert not (tmp_path / "report" / "report.md").exists()
    assert f"real-photo table {PHOTOS_NOT_FETCHED}" in caplog.text


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
    assert read_record(runs / BASE)["commits"] == [code_version()] and f"Code: `{code_version()}`" in report
    assert "trained by code" not in report  # every run trained by the report's code
    assert "Real-photo table left out (--no-photos)." in report
    base_log = (runs / BASE / "aux" / "losses.jsonl").read_bytes()
    assert (runs / "paired/lsgan" / "aux" / "losses.jsonl").stat().st_ino == \
        (runs / BASE / "aux" / "losses.jsonl").stat().st_ino  # reused by a hard link, still shared
    stamps = {run.name: (runs / run.name / "lsgan" / "checkpoint.safetensors").stat().st_mtime_ns
              for run in experiments(CONFIGS)}
    written = (out / "report.md").stat().st_mtime_ns
    args = ["reproduce", "--budget", str(budget), "--out", str(out), "--runs", str(runs), "--configs", str(CONFIGS),
            "--no-photos", "--limit", "8"]
    kept = CliRunner().invoke(app, args)  # finished and reported: nothing evaluated again
    assert kept.exit_code == 0, kept.output
    assert f"report already written: {out / 'report.md'} (--overwrite to write it again)" in kept.output
    assert (out / "report.md").stat().st_mtime_ns == written
    again = CliRunner().invoke(app, [*args, "--overwrite"])
    assert again.exit_code == 0, again.output
    assert (out / "report.md").stat().st_mtime_ns != written and (out / "report.md").read_text().count("|") > 50
    for name, stamp in stamps.items():  # nothing trained again: every generator's checkpoint untouched
        assert (runs / name / "lsgan" / "checkpoint.safetensors").stat().st_mtime_ns == stamp
    assert (runs / BASE / "aux" / "losses.jsonl").read_bytes() == base_log
