import json

import numpy as np
import pytest
from typer.testing import CliRunner

from lsgan.cli import app
from lsgan.data.tables import (
    DISFA_AUS,
    guess_kind,
    parse_rafd_name,
    read_disfa,
    read_openface_csv,
    read_plain_csv,
    read_rafd,
    read_synthfacs,
    split_by_identity,
    summarize,
)
from lsgan.errors import DataError
from lsgan.facs import AU_COLUMNS, AU_IDS, emotion_vector


def au_values(seed: int, scale: float = 1.0) -> list[float]:
    return list(np.round(np.random.default_rng(seed).uniform(0, scale, len(AU_IDS)), 3))


def write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header), *(",".join(map(str, row)) for row in rows)]) + "\n")
    return path


# ---------------------------------------------------------------- SynthFACS

@pytest.mark.parametrize("au_scale", [1, 5])
def test_synthfacs_annotations_honour_au_scale(tmp_path, au_scale):
    header = ["image", "labels", "identity", "split", "emotion", "intensity", *AU_COLUMNS, "yaw", "roll", "extra"]
    rows = [[f"images/{i}.png", f"labels/{i}.png", i // 2, "train" if i < 2 else "test", "happy", 0.5,
             *au_values(i, au_scale), 0, 0, "x"] for i in range(3)]
    write_csv(tmp_path / "annotations.csv", header, rows)
    (tmp_path / "meta.json").write_text(json.dumps({"au_scale": au_scale, "seed": 1}))
    result = read_synthfacs(tmp_path)
    assert not result.skipped and len(result.records) == 3
    first = result.records[0]
    np.testing.assert_allclose(first.aus, np.array(au_values(0, au_scale)) / au_scale, atol=1e-6)
    assert first.image == tmp_path / "images/0.png" and first.labels == tmp_path / "labels/0.png"
    assert [r.split for r in result.records] == ["train", "train", "test"]
    assert first.identity == "0" and first.emotion == "happy" and first.au_mask.all()


def test_synthfacs_missing_column_and_bad_scale(tmp_path):
    write_csv(tmp_path / "annotations.csv", ["image", "identity", "split", *AU_COLUMNS[:-1]], [])
    with pytest.raises(DataError, match=r"annotations.csv: missing AU column\(s\) AU26"):
        read_synthfacs(tmp_path)
    (tmp_path / "meta.json").write_text('{"au_scale": 3}')
    with pytest.raises(DataError, match="meta.json: AU scale must be 1 or 5"):
        read_synthfacs(tmp_path)


# ---------------------------------------------------------------- plain CSV

def test_plain_csv_with_short_au_names_and_0_to_5_scale(tmp_path):
    header = ["file", *(f"AU{a}" for a in AU_IDS), "identity", "emotion"]
    rows = [[f"p{i}.jpg", *au_values(i, 5.0), f"person{i % 2}", "sad"] for i in range(4)]
    csv_path = write_csv(tmp_path / "aus.csv", header, rows)
    result = read_plain_csv(csv_path, scale=5)
    assert len(result.records) == 4 and not result.skipped
    np.testing.assert_allclose(result.records[1].aus, np.array(au_values(1, 5.0)) / 5, atol=1e-6)
    assert result.records[2].image == tmp_path / "p2.jpg" and result.records[2].identity == "person0"
    splits = {r.identity: r.split for r in result.records}
    assert all(r.split == splits[r.identity] for r in result.records)  # split by identity


def test_plain_csv_lowercase_names_split_and_partial_aus(tmp_path):
    header = ["image", "split", *(f"au{a:02d}" for a in AU_IDS[:4])]
    csv_path = write_csv(tmp_path / "aus.csv", header, [["a.png", "test", 0.1, 0.2, 0.3, 0.4]])
    with pytest.raises(DataError, match=r"aus.csv: missing AU column\(s\) AU06, AU07"):
        read_plain_csv(csv_path)
    record = read_plain_csv(csv_path, require_all_aus=False).records[0]
    assert record.split == "test" and record.identity == "a"
    assert record.au_mask.tolist() == [True] * 4 + [False] * 12
    np.testing.assert_allclose(record.aus[:4], [0.1, 0.2, 0.3, 0.4])


def test_plain_csv_without_image_column(tmp_path):
    csv_path = write_csv(tmp_path / "aus.csv", ["name", *AU_COLUMNS], [])
    with pytest.raises(DataError, match="aus.csv: missing image column"):
        read_plain_csv(csv_path)


@pytest.mark.parametrize(("bad", "message"), [
    ("nan", "column AU04 is 'nan'"),
    ("1.5", r"column AU04 = 1.5 is outside \[0, 1\]"),
    ("-0.2", "column AU04 = -0.2 is outside"),
    ("abc", "column AU04: 'abc' is not a number"),
])
def test_bad_au_values_name_file_and_row(tmp_path, bad, message):
    rows = [["ok.png", *au_values(0)], ["bad.png", 0.1, 0.1, bad, *au_values(1)[3:]]]
    csv_path = write_csv(tmp_path / "aus.csv", ["image", *AU_COLUMNS], rows)
    with pytest.raises(DataError, match=f"aus.csv:3: {message}"):
        read_plain_csv(csv_path, strict=True)
    lenient = read_plain_csv(csv_path)
    assert [r.image.name for r in lenient.records] == ["ok.png"]
    assert len(lenient.skipped) == 1 and lenient.skipped[0].file.endswith("aus.csv:3")


# ---------------------------------------------------------------- OpenFace

def test_openface_csv_spaced_headers_and_failed_frames(tmp_path):
    header = ["frame", " face_id", " timestamp", " confidence", " success",
              *(f" {c}_r" for c in AU_COLUMNS), " AU45_r", *(f" {c}_c" for c in AU_COLUMNS)]
    rows = [[i, 0, i * 0.05, 0.98, 0 if i == 2 else 1, *au_values(i, 5.0), 1.0, *([1] * 16)] for i in (1, 2, 3)]
    csv_path = write_csv(tmp_path / "video7.csv", header, rows)
    result = read_openface_csv(csv_path)
    assert [r.image.name for r in result.records] == ["frame_det_00_000001.bmp", "frame_det_00_000003.bmp"]
    assert result.records[0].image.parent == tmp_path / "video7_aligned"
    np.testing.assert_allclose(result.records[1].aus, np.array(au_values(3, 5.0)) / 5, atol=1e-6)
    assert result.records[0].identity == "video7"
    assert len(result.skipped) == 1 and "success=0" in result.skipped[0].reason
    custom = read_openface_csv(csv_path, image_dir=tmp_path, pattern="img_{frame:04d}.png", identity="ann")
    assert custom.records[0].image == tmp_path / "img_0001.png" and custom.records[0].identity == "ann"


def test_openface_csv_without_intensity_columns(tmp_path):
    csv_path = write_csv(tmp_path / "of.csv", ["frame", " success", *(f" {c}_c" for c in AU_COLUMNS)], [])
    with pytest.raises(DataError, match=r"of.csv: missing AU column\(s\) AU01_r"):
        read_openface_csv(csv_path)


# ---------------------------------------------------------------- RaFD

def touch_images(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")
    return folder


RAFD_FILES = [
    "Rafd090_01_Caucasian_female_angry_frontal.jpg",
    "Rafd090_01_Caucasian_female_happy_left.jpg",
    "Rafd045_02_Moroccan_male_surprised_right.jpg",
    "notes_scan.jpg",
]


def test_rafd_names_give_identity_and_emotion():
    name = parse_rafd_name("x/Rafd090_01_Caucasian_female_angry_frontal.jpg")
    assert (name.angle, name.identity, name.gender, name.emotion, name.gaze) == (90, "01", "female", "angry",
                                                                                 "frontal")
    with pytest.raises(DataError, match="Rafd090_01_x_female_bored_frontal.jpg: unknown RaFD emotion"):
        parse_rafd_name("Rafd090_01_x_female_bored_frontal.jpg")


def test_rafd_without_au_table_uses_emotion_prototypes(tmp_path):
    result = read_rafd(touch_images(tmp_path / "rafd", RAFD_FILES))
    assert len(result.records) == 3
    angry = result.records[1]  # sorted by path: Rafd045... first
    assert angry.identity == "rafd01" and angry.emotion == "angry"
    np.testing.assert_array_equal(angry.aus, emotion_vector("angry"))
    assert [s.file.endswith("notes_scan.jpg") for s in result.skipped] == [True]
    assert len(read_rafd(tmp_path / "rafd", angles=[90]).records) == 2


def test_rafd_with_au_table_joins_on_file_name(tmp_path):
    folder = touch_images(tmp_path / "rafd", RAFD_FILES[:3])
    rows = [[RAFD_FILES[0], *au_values(0)], [RAFD_FILES[2], *au_values(2)]]
    table = read_plain_csv(write_csv(tmp_path / "rafd_aus.csv", ["image", *AU_COLUMNS], rows), image_root=folder)
    result = read_rafd(folder, au_table=table)
    by_name = {r.image.name: r for r in result.records}
    np.testing.assert_allclose(by_name[RAFD_FILES[0]].aus, au_values(0), atol=1e-6)
    assert RAFD_FILES[1] not in by_name
    assert any(s.file.endswith(RAFD_FILES[1]) and "no row" in s.reason for s in result.skipped)


# ---------------------------------------------------------------- DISFA

def make_disfa(root, subjects=("SN001", "SN002"), frames=4, skip_au=None):
    for subject in subjects:
        labels = root / "ActionUnit_Labels" / subject
        labels.mkdir(parents=True)
        for au in DISFA_AUS:
            if au != skip_au:
                lines = [f"{f},{(f + au) % 6}" for f in range(1, frames + 1)]
                (labels / f"{subject}_au{au}.txt").write_text("\n".join(lines) + "\n")
        touch_images(root / "Videos_LeftCamera" / f"LeftVideo{subject}_comp",
                     [f"{f:05d}.png" for f in range(1, frames + 2)])  # one frame more than labelled
    return root


def test_disfa_labels_frames_and_mask(tmp_path):
    result = read_disfa(make_disfa(tmp_path))
    assert len(result.records) == 8
    record = result.records[0]
    assert record.identity == "SN001" and record.image.name == "00001.png"
    assert record.au_mask.sum() == 12
    assert [AU_IDS[i] for i in np.flatnonzero(~record.au_mask)] == [7, 10, 14, 23]
    expected = [((1 + au) % 6) / 5 if au in DISFA_AUS else 0.0 for au in AU_IDS]
    np.testing.assert_allclose(record.aus, expected, atol=1e-6)
    assert sum("no DISFA label for frame 5" in s.reason for s in result.skipped) == 2
    assert len(read_disfa(tmp_path, frame_step=2).records) == 4  # frames 1, 3 (5 is unlabelled)


def test_disfa_missing_label_file(tmp_path):
    with pytest.raises(DataError, match=r"SN001: missing label file\(s\) SN001_au12.txt"):
        read_disfa(make_disfa(tmp_path, subjects=("SN001",), skip_au=12))


# ---------------------------------------------------------------- shared helpers and `lsgan data check`

def test_split_by_identity_is_deterministic_and_disjoint():
    names = [f"id{i}" for i in range(200)]
    first, again = split_by_identity(names, 0.2), split_by_identity(reversed(names), 0.2)
    assert first == again
    assert 20 <= sum(v == "test" for v in first.values()) <= 60
    assert split_by_identity(names, 0.0) == dict.fromkeys(names, "train")


def test_guess_kind(tmp_path):
    (tmp_path / "synth").mkdir()
    (tmp_path / "synth" / "annotations.csv").write_text("image\n")
    assert guess_kind(tmp_path / "synth") == "synthfacs"
    assert guess_kind(make_disfa(tmp_path / "disfa", subjects=("SN001",))) == "disfa"
    assert guess_kind(touch_images(tmp_path / "rafd", RAFD_FILES)) == "rafd"
    assert guess_kind(write_csv(tmp_path / "of.csv", ["frame", " AU01_r"], [])) == "openface"
    assert guess_kind(write_csv(tmp_path / "plain.csv", ["image", "AU01"], [])) == "folder"


def test_summary_masks_unlabelled_aus(tmp_path):
    records = read_disfa(make_disfa(tmp_path)).records
    summary = summarize(records)
    assert summary.total == 8 and sum(summary.per_split.values()) == 8
    assert np.isnan(summary.au_mean[AU_IDS.index(7)]) and summary.au_labelled[AU_IDS.index(1)] == 8
    assert summary.au_max[AU_IDS.index(1)] == pytest.approx(1.0)  # (4 + 1) % 6 / 5


def test_check_command_reports_counts_and_bad_files(tmp_path, save_png, rng):
    for i in range(3):
        save_png(f"p{i}.png", rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    save_png("tiny.png", np.zeros((2, 2, 3), np.uint8))
    rows = [[f"p{i}.png", f"person{i}", "happy", *au_values(i)] for i in range(3)]
    rows += [["tiny.png", "person9", "sad", *au_values(9)], ["nan.png", "person8", "sad", "nan", *au_values(8)[1:]]]
    csv_path = write_csv(tmp_path / "aus.csv", ["image", "identity", "emotion", *AU_COLUMNS], rows)
    result = CliRunner().invoke(app, ["data", "check", str(csv_path)])
    assert result.exit_code == 1, result.output  # bad files found: scripts must be able to tell
    assert "(folder): 3 usable images" in result.output and "happy 3" in result.output
    assert "tiny.png" in result.output and "aus.csv:6" in result.output and "2 skipped" in result.output


def test_check_command_finds_openface_frames_beside_the_csv(tmp_path, save_png, rng):
    header = ["frame", " face_id", " success", *(f" {c}_r" for c in AU_COLUMNS)]
    csv_path = write_csv(tmp_path / "clip.csv", header, [[i, 0, 1, *au_values(i, 5.0)] for i in (1, 2)])
    save_png("clip_aligned/frame_det_00_000001.bmp", rng.integers(0, 256, (112, 112, 3), dtype=np.uint8))
    result = CliRunner().invoke(app, ["data", "check", str(csv_path)])
    assert result.exit_code == 1, result.output  # one frame is missing
    assert "(openface): 1 usable images" in result.output
    assert "frame_det_00_000002.bmp: no such image file" in result.output
