"""Bad inputs to ``lsgan data prepare|check`` (docs/reliability.md): duplicate rows, paths leading out of the data
folder, photos the table forgets, and ``data check``'s exit code."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lsgan.cli import app
from lsgan.data.tables import read_plain_csv
from lsgan.facs import AU_COLUMNS


def write_table(path: Path, names: list[str], values: list[float] | None = None) -> Path:
    values = values or [0.1 * (i % 10) for i in range(len(names))]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", *AU_COLUMNS])
        for name, value in zip(names, values):
            writer.writerow([name, *[value] * len(AU_COLUMNS)])
    return path


@pytest.fixture
def photos(tmp_path, save_png, rng) -> Path:
    for name in ("a.png", "b.png", "forgotten.png"):
        save_png(f"photos/{name}", rng.integers(0, 256, (48, 48, 3), dtype=np.uint8))
    save_png("secret.png", rng.integers(0, 256, (48, 48, 3), dtype=np.uint8))  # beside, not inside, the folder
    return tmp_path / "photos"


def test_duplicate_rows_keep_the_first_and_are_reported(photos, tmp_path):
    table = write_table(tmp_path / "aus.csv", ["a.png", "b.png", "a.png"], [0.2, 0.4, 0.9])
    result = read_plain_csv(table, image_root=photos)
    assert [record.image.name for record in result.records] == ["a.png", "b.png"]
    assert float(result.records[0].aus[0]) == pytest.approx(0.2)  # the first row's AUs
    assert len(result.skipped) == 1 and result.skipped[0].file == f"{table}:4"
    assert "a.png is listed again (first on line 2)" in result.skipped[0].reason


@pytest.mark.parametrize("name", ["../secret.png", "{abs}"])
def test_paths_outside_the_data_folder_are_refused(photos, tmp_path, name):
    name = name.replace("{abs}", str(tmp_path / "secret.png"))
    table = write_table(tmp_path / "aus.csv", ["a.png", name])
    result = read_plain_csv(table, image_root=photos)
    assert [record.image.name for record in result.records] == ["a.png"]
    assert "is outside the data folder" in result.skipped[0].reason


def test_photos_missing_from_the_table_are_reported(photos, tmp_path):
    table = write_table(tmp_path / "aus.csv", ["a.png", "b.png"])
    assert [path.name for path in read_plain_csv(table, image_root=photos).unlisted] == ["forgotten.png"]


def test_check_exits_1_on_bad_files_and_0_on_a_clean_set(photos, tmp_path):
    runner = CliRunner()
    clean = write_table(photos / "clean.csv", ["a.png", "b.png", "forgotten.png"])
    result = runner.invoke(app, ["data", "check", str(clean)])
    assert result.exit_code == 0, result.output
    assert "no bad files" in result.output
    bad = write_table(photos / "bad.csv", ["a.png", "b.png", "a.png", "../secret.png"])
    result = runner.invoke(app, ["data", "check", str(bad)])
    assert result.exit_code == 1, result.output
    assert "2 skipped" in result.output and "listed again" in result.output and "outside the data folder" in result.output
    assert "1 image(s) in" in result.output and "forgotten.png" in result.output


def test_prepare_reports_duplicates_outside_paths_and_forgotten_photos(photos, tmp_path):
    table = write_table(tmp_path / "aus.csv", ["a.png", "b.png", "a.png", "../secret.png"])
    out = tmp_path / "prepared"
    args = ["data", "prepare", str(photos), "--out", str(out), "--csv", str(table), "--size", "32", "--no-align",
            "--backend", "mediapipe"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "wrote 2 faces" in result.output
    with open(out / "skipped.csv") as handle:
        reasons = [row["reason"] for row in csv.DictReader(handle)]
    assert any("listed again" in reason for reason in reasons)
    assert any("outside the data folder" in reason for reason in reasons)
    assert "forgotten.png" in result.output and "not in the AU table" in result.output
    with open(out / "annotations.csv") as handle:
        sources = [Path(row["source"]).name for row in csv.DictReader(handle)]
    assert sources == ["a.png", "b.png"]
