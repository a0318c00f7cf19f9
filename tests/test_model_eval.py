"""The model evaluation (``lsgan eval --models ... --data ...``): the table writer's format on known rows, the AU
judge's stage (trained apart: its own seed, training identities only, not part of ``all``), and the command end to
end on the tiny SynthFACS set with a random-weight tiny bundle."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from edit_support import run_lsgan, tiny_bundle  # noqa: F401  (pytest fixture)
from training_support import synth_dir, tiny_config  # noqa: F401  (pytest fixture)

from lsgan.errors import OutputError
from lsgan.evaluation.model_report import planned_files, write_report
from lsgan.evaluation.models import (
    IDENTITY,
    Evaluation,
    MethodScores,
    ModelSpec,
    Reference,
    EvalPairs,
    parse_model_option,
)
from lsgan.evaluation.photos import BenchmarkResult, EditRow, summarize
from lsgan.evaluation.tables import Column, Table, csv_text, format_cell, markdown
from lsgan.metrics import AUAgreement, KIDResult
from lsgan.metrics.image import MAX_PSNR_DB
from lsgan.metrics.photo import READINGS
from lsgan.nets import pretrained
from lsgan.nets.judge import JUDGE_FILE, AUJudge, JudgeConfig, JudgeInfo, LoadedJudge, load_judge
from lsgan.training.checkpoint import read_checkpoint
from lsgan.training.loop import Budget
from lsgan.training.pipeline import stages_to_run, train

# ---------------------------------------------------------------- the table writer


def test_format_cell_gives_one_format_per_column_and_dashes_for_missing_values() -> None:
    assert format_cell(0.123456, 4) == "0.1235" and format_cell(2, 4) == "2" and format_cell("x", 2) == "x"
    assert format_cell(float("nan"), 3) == "–" and format_cell(None, 3) == "–"
    assert format_cell(math.inf, 2) == "∞" and format_cell(-math.inf, 2) == "-∞"
    assert format_cell(torch.tensor(0.5).item(), 1) == "0.5"


def test_markdown_and_csv_carry_the_same_formatted_rows() -> None:
    table = Table("table2", "Table 2: image quality", [Column("method", None), Column("PSNR (dB)", 2),
                                                       Column("SSIM", 4)],
                  [["identity | baseline", math.inf, 1.0], ["lsgan", 33.914, float("nan")]],
                  notes=["Against the true target.", "Higher is better."])
    assert markdown(table) == (
        "### Table 2: image quality\n\n"
        "Against the true target. Higher is better.\n\n"
        "| method | PSNR (dB) | SSIM |\n"
        "|---|---:|---:|\n"
        "| identity \\| baseline | ∞ | 1.0000 |\n"
        "| lsgan | 33.91 | – |\n")
    assert csv_text(table) == 'method,PSNR (dB),SSIM\nidentity | baseline,∞,1.0000\nlsgan,33.91,–\n'
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        Table("t", "t", table.columns, [["a", 1.0]])


def test_model_options_are_name_equals_folder() -> None:
    assert parse_model_option("paired/lsgan=runs/x/bundle") == ("paired/lsgan", Path("runs/x/bundle"))
    for bad in ("lsgan", "=dir", "a/b/c=dir", "name with space=dir", "lsgan="):
        with pytest.raises(Exception, match="expected NAME=DIR"):
            parse_model_option(bad)


# ---------------------------------------------------------------- the judge


@pytest.fixture(scope="module")
def judge_run(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("judge-run")
    result = train("judge", tiny_config(synth_dir), run_dir)
    assert result.finished and result.judge == run_dir / "judge" / JUDGE_FILE
    return run_dir


def _judge_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    checkpoint, _ = read_checkpoint(run_dir / "judge" / "checkpoint.safetensors")
    return {k: v for k, v in checkpoint.tensors.items() if k.startswith("model/")}


def test_the_judge_trains_apart_and_records_its_floor(judge_run: Path, synth_dir: Path) -> None:
    metrics = json.loads((judge_run / "judge" / "metrics.json").read_text())["metrics"]
    assert set(metrics) == {"au_mse", "au_icc", "au_mse_zero_baseline", "images"}
    assert metrics["images"] == 16 and 0 < metrics["au_mse"] < 1 and math.isfinite(metrics["au_icc"])
    assert json.loads((judge_run / "metrics.json").read_text())["judge"] == metrics
    loaded = load_judge(judge_run)  # a run dir, its stage folder or the file itself
    assert load_judge(judge_run / "judge").info.path == load_judge(judge_run / "judge" / JUDGE_FILE).info.path
    info = loaded.info
    assert info.image_size == 32 and info.steps == 12 and info.config == tiny_config(synth_dir).model.judge
    assert len(info.train_identities) == 4 and Path(info.data) == synth_dir.resolve()  # the training split only
    assert isinstance(loaded.net, AUJudge) and not loaded.net.training
    assert loaded.net(torch.zeros(2, 3, 32, 32)).shape == (2, 16)
    assert "judge" not in stages_to_run(tiny_config(synth_dir), "all")


def test_the_judge_has_its_own_seed_and_resumes_exactly(judge_run: Path, synth_dir: Path, tmp_path: Path) -> None:
    other_runtime_seed = tmp_path / "runtime-seed"
    train("judge", tiny_config(synth_dir, "runtime.seed=7"), other_runtime_seed)
    expected = _judge_weights(judge_run)
    assert expected and all(torch.equal(expected[k], v) for k, v in _judge_weights(other_runtime_seed).items())
    other_judge_seed = tmp_path / "judge-seed"
    train("judge", tiny_config(synth_dir, "model.judge.seed=2"), other_judge_seed)
    assert any(not torch.equal(expected[k], v) for k, v in _judge_weights(other_judge_seed).items())
    resumed = tmp_path / "resumed"
    assert not train("judge", tiny_config(synth_dir), resumed, budget=Budget(max_steps=6)).finished
    train("judge", tiny_config(synth_dir), resumed, resume=True)
    assert all(torch.equal(expected[k], v) for k, v in _judge_weights(resumed).items())


def test_judge_config_and_files_are_checked(tmp_path: Path) -> None:
    from lsgan.config import ConfigError
    from lsgan.errors import CheckpointError

    with pytest.raises(ConfigError, match="blocks"):
        JudgeConfig(blocks=())
    with pytest.raises(CheckpointError, match="no such judge"):
        load_judge(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="lsgan train judge"):
        load_judge(tmp_path)


# ---------------------------------------------------------------- lsgan eval, end to end


@pytest.fixture(scope="module")
def weights() -> None:
    pretrained.ensure_weights()


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def test_eval_writes_every_table_figure_and_summary(judge_run, synth_dir, tiny_bundle, weights, tmp_path,
                                                    capsys, monkeypatch) -> None:
    out = tmp_path / "report"
    args = ["eval", "--models", f"paired/lsgan={tiny_bundle}", "--models", f"unpaired/lsgan={tiny_bundle}",
            "--data", synth_dir, "--judge", judge_run, "--out", out, "--limit", "3", "--no-progress"]
    run = run_lsgan(args, capsys, monkeypatch)
    assert run.code == 0, run.err
    planned = planned_files(out, ["paired", "unpaired"], judged=True, photos=False)
    written = {path for path in out.iterdir() if path.is_file()}
    assert written == {planned.report, planned.summary, *planned.tables, *planned.figures}
    assert len(planned.tables) == 12 and len(planned.figures) == 4

    summary = json.loads(planned.summary.read_text())
    assert summary["pairs"] == 3 and summary["settings"] == ["paired", "unpaired"] and summary["judge"]["steps"] == 12
    identity = summary["methods"]["identity"]
    assert identity["along"] == 0 and identity["identity_distance"]["to_source"] == 0
    assert identity["self_reconstruction"]["psnr"] == MAX_PSNR_DB and identity["own_critic"] is None  # capped
    lsgan = summary["methods"]["paired/lsgan"]
    assert lsgan["judge"]["per_au"]["AU12"]["mse"] >= 0 and lsgan["own_critic_on_true_targets"] is not None
    assert lsgan["trained_against_own_critic"] is True  # an aae_tg bundle: its L_au read this G_exp
    assert summary["methods"]["unpaired/lsgan"]["fid"] == lsgan["fid"]  # one bundle, the same pairs

    report = planned.report.read_text()
    assert "## Setting: paired" in report and "## Setting: unpaired" in report
    assert report.count("| judge on the true targets (floor) |") == 4  # MSE and ICC, both settings
    assert "read by the model's own critic (G_exp)" in report and "| identity (source unchanged) |" in report
    assert "![per-AU MSE](au_mse_paired.png)" in report and report in run.out
    quality = _csv_rows(out / "table2_image_quality_paired.csv")
    assert [row["method"] for row in quality] == ["identity (source unchanged)", "lsgan"]
    assert quality[0]["along"] == "0.000" and f"| lsgan | {quality[1]['FID']} |" in report
    mse = _csv_rows(out / "table1_au_mse_judge_unpaired.csv")
    assert mse[-1]["method"] == "judge on the true targets (floor)" and len(mse[0]) == 18  # method, 16 AUs, mean
    identity_rows = _csv_rows(out / "table3_reconstruction_identity_paired.csv")
    assert identity_rows[0]["self-rec PSNR (dB)"] == f"{MAX_PSNR_DB:.2f}" and identity_rows[-1]["self-rec SSIM"] == "–"

    again = run_lsgan(args, capsys, monkeypatch)  # refused before anything is loaded
    assert again.code == 2 and "--overwrite" in again.err and again.err.count("\n") == 1


def test_eval_without_a_judge_warns_before_it_loads_anything_heavy(tiny_bundle, tmp_path, capsys, monkeypatch):
    run = run_lsgan(["eval", "--models", f"lsgan={tiny_bundle}", "--data", tmp_path, "--out", tmp_path / "out"],
                    capsys, monkeypatch)  # an empty data folder: refused when the pairs are read
    warning, error = run.err.splitlines()
    assert run.code == 2 and warning.startswith("warning: no --judge: Table 1 will show each model's own G_exp")
    assert error.startswith("error: ") and "annotations.csv" in error


def _fake_evaluation(judged: bool, photo_folder: Path) -> Evaluation:
    """Two methods with known figures on three pairs (no network runs)."""
    pairs = EvalPairs(torch.zeros(3, 3, 32, 32), torch.zeros(3, 16), torch.full((3, 16), 0.5),
                      torch.ones(3, 3, 32, 32), ["4", "4", "5"])
    agreement = AUAgreement(mse=np.full(16, 0.02), icc=np.full(16, 0.5))
    floor = AUAgreement(mse=np.full(16, 0.01), icc=np.full(16, float("nan")))
    kid = KIDResult(0.004, 0.001, 100, 2)

    def scores(name: str, critic: AUAgreement | None, recon: float, trained: bool = False) -> MethodScores:
        return MethodScores(name, 3, agreement if judged else None, critic, critic, critic, 12.5, kid, 30.0, 0.9,
                            0.1, 0.25, recon, 0.99, 0.2, 0.3, 3, torch.zeros(3, 3, 32, 32),
                            trained_against_critic=trained)

    rows = [EditRow("a.png", "happy", identity_distance=0.1, detail_kept=0.9, outside_max_abs=0,
                    outside_changed_share=0.0, seconds=0.5, geometry=dict.fromkeys(READINGS, 0.01))]
    photo_summary = summarize(BenchmarkResult(rows, [], ("happy",), (), 1.0, "m"))
    return Evaluation(Path("data"), [ModelSpec("lsgan", Path("bundle")), ModelSpec("stargan", Path("rival"))], pairs,
                      Reference(np.zeros((3, 8)), [], [], floor if judged else None, 0.3, 3, 2),
                      {IDENTITY: scores(IDENTITY, None, math.inf), "lsgan": scores("lsgan", agreement, 40.0, True),
                       "stargan": scores("stargan", agreement, 35.0)},
                      judge=LoadedJudge(AUJudge(JudgeConfig()), JudgeInfo(Path("j"), JudgeConfig(), 32, "d", ("0",), 12))
                      if judged else None, limit=None,
                      photos={IDENTITY: photo_summary, "lsgan": photo_summary, "stargan": photo_summary},
                      photo_folder=photo_folder)


def test_report_without_a_judge_shows_the_models_own_critic_and_the_photo_table(tmp_path: Path) -> None:
    out = tmp_path / "report"
    files = write_report(_fake_evaluation(False, tmp_path / "photos"), out)
    planned = planned_files(out, [""], judged=False, photos=True)
    assert files == planned and {path for path in out.iterdir()} == {
        planned.report, planned.summary, *planned.tables, *planned.figures}
    report = files.report.read_text()
    assert "No independent AU judge was given" in report and "Setting:" not in report and "Table 1a" not in report
    critic = _csv_rows(out / "table1_au_mse_own_critic.csv")
    assert [row["method"] for row in critic] == [
        "lsgan: edits (trained against it)", "lsgan: source unchanged", "lsgan: true targets (its floor)",
        "stargan: edits (not trained against it)", "stargan: source unchanged", "stargan: true targets (its floor)"]
    assert critic[0]["AU12"] == "0.0200" and critic[0]["mean"] == "0.0200"
    assert "Trained against it (its L_au, Eq. 6, reads this G_exp, so an edit may have learnt to fool it): lsgan; " \
           "not trained against it" in report and "): stargan. This reading therefore favours lsgan" in report
    quality = _csv_rows(out / "table2_image_quality.csv")
    assert quality[0] == {"method": "identity (source unchanged)", "FID": "12.50", "KID ×10³": "4.00",
                          "KID ×10³ std": "1.00", "PSNR (dB)": "30.00", "SSIM": "0.9000", "LPIPS": "0.1000",
                          "along": "0.250"}
    identity = _csv_rows(out / "table3_reconstruction_identity.csv")
    assert identity[0]["self-rec PSNR (dB)"] == "∞" and identity[-1]["method"] == "true target (a perfect edit)"
    photos = _csv_rows(out / "table_photos.csv")
    assert [row["method"] for row in photos] == ["identity (source unchanged)", "lsgan", "stargan"]
    assert photos[1]["photos edited"] == "1/1" and photos[1]["identity distance, mean"] == "0.100"
    summary = json.loads(files.summary.read_text())
    assert summary["judge"] is None and summary["methods"]["identity"]["self_reconstruction"]["psnr"] == "inf"
    assert summary["methods"]["lsgan"]["trained_against_own_critic"] is True
    assert summary["methods"]["stargan"]["trained_against_own_critic"] is False
    with pytest.raises(OutputError, match="--overwrite"):
        write_report(_fake_evaluation(False, tmp_path / "photos"), out)
    judged = write_report(_fake_evaluation(True, tmp_path / "photos"), out, overwrite=True)
    floor = _csv_rows(out / "table1_au_icc_judge.csv")[-1]
    assert floor["method"] == "judge on the true targets (floor)" and floor["AU01"] == "–"
    assert "the judge's Table 1a/1b is the fair comparison" in judged.report.read_text()
    assert judged.tables[0].name == "table1_au_mse_judge.csv"


@pytest.mark.parametrize("args, message", [
    (["--models", "lsgan", "--data", "."], "expected NAME=DIR"),
    (["--models", "lsgan=/no/such/bundle", "--data", "."], "no such model folder"),
    (["--models", "identity=."], "identity baseline"),
    (["--data", "."], "give the models and the data"),
])
def test_eval_input_errors_are_one_line(args, message, tiny_bundle, capsys, monkeypatch, tmp_path) -> None:
    args = [str(a).replace("identity=.", f"identity={tiny_bundle}") for a in args]
    if "--data" not in args:
        args += ["--data", str(tmp_path)]
    run = run_lsgan(["eval", *args, "--out", tmp_path / "out"], capsys, monkeypatch)
    assert run.code == 2 and message in run.err and run.err.count("\n") == 1
    missing_data = run_lsgan(["eval", "--models", f"m={tiny_bundle}", "--data", tmp_path / "none", "--out",
                              tmp_path / "out"], capsys, monkeypatch)
    assert missing_data.code == 2 and "no such data folder" in missing_data.err


def test_the_editor_method_edits_the_pairs_as_a_photo_and_rebuilds_them_unchanged(synth_dir, tiny_bundle) -> None:
    from lsgan.evaluation.models import EditorMethod, load_test_pairs
    from lsgan.nets.lsgan import load_bundle

    bundle = load_bundle(tiny_bundle, torch.device("cpu"))
    pairs = load_test_pairs(synth_dir, bundle.config.image_size, limit=3)
    method = EditorMethod("mesh/lsgan", bundle, "mesh")
    with torch.no_grad():
        edited, rebuilt = method.edits(pairs.source, pairs.target_aus)
    method.editor.close()
    assert edited.shape == rebuilt.shape == pairs.source.shape
    assert method.missed == 0  # the mesh finds every enlarged render
    # towards its own AUs the mesh motion is none (a lip gap G_exp misreads stays as shown), and the round trip
    # through the enlarged photo adds nothing
    assert torch.allclose(rebuilt, pairs.source, atol=1e-5)
    moved = (edited - pairs.source).abs().flatten(1).amax(1)
    assert (moved > 0.05).all()  # every edit changed its face


def test_eval_creases_need_a_motion(tiny_bundle, capsys, monkeypatch, tmp_path) -> None:
    run = run_lsgan(["eval", "--models", f"m={tiny_bundle}", "--data", tmp_path, "--creases", "--out",
                     tmp_path / "out"], capsys, monkeypatch)
    assert run.code == 2 and "--creases needs --motion" in run.err and run.err.count("\n") == 1
    run = run_lsgan(["eval", "--models", f"m={tiny_bundle}", "--data", tmp_path, "--motion", "warp", "--out",
                     tmp_path / "out"], capsys, monkeypatch)
    assert run.code == 2 and "motion must be one of" in run.err
