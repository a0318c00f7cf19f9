"""The model shipped inside the package (src/lsgan/assets/default): the README's first command runs on it, and it
edits unseen SynthFACS faces where the target AUs say, read back by its own G_exp."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from edit_support import run_lsgan
from lsgan.data.images import to_tensor, to_uint8
from lsgan.data.synthfacs import render, sample_identity
from lsgan.editing import Editor
from lsgan.editing.demo import LABEL_HEIGHT, DemoConfig, demo_columns, neutral_faces, true_row
from lsgan.editing.editor import DEFAULT_MODEL_DIR
from lsgan.editing.fields import apply_field, resize_matrix
from lsgan.facs import AU_IDS, au_index, edit_vector, emotion_vector
from lsgan.metrics.image import change_along_truth
from lsgan.parsing import CLASS_INDEX

UNSEEN_IDENTITIES = (2_000_001, 2_000_002, 2_000_003, 2_000_004)
# the shipped editor (mesh motion): 0.25 on these faces (0.29 with the posed prototypes); the model before warps: ~0.004
ALONG_FLOOR = 0.2


@pytest.fixture(scope="module")
def editor() -> Editor:
    return Editor.from_pretrained(align=False)


@pytest.fixture(scope="module")
def faces(editor: Editor) -> list:
    size = editor.image_size
    return [render(sample_identity(i), np.zeros(16), size=size) for i in UNSEEN_IDENTITIES]


def test_shipped_model_has_its_training_record():
    """The record belongs to these weights (same model config), finished its lsgan stage, and its figures are
    finite and say the edit beats leaving the face unchanged."""
    record = DEFAULT_MODEL_DIR / "training"
    train_config = yaml.safe_load((record / "train_config.yaml").read_text())
    assert train_config["model"] == yaml.safe_load((DEFAULT_MODEL_DIR / "config.yaml").read_text())
    steps = train_config["stages"]["lsgan"]["steps"]
    losses = [json.loads(line) for line in (record / "lsgan_losses.jsonl").read_text().splitlines()]
    assert losses[-1]["step"] == steps
    assert all(math.isfinite(value) for record_ in losses for value in record_.values())
    assert f"lsgan: step {steps}, done" in (record / "train.log").read_text()
    metrics = json.loads((record / "metrics.json").read_text())
    assert set(metrics) == {"smg", "aae", "aux", "lsgan"}
    assert all(math.isfinite(value) for stage in metrics.values() for value in stage.values())
    assert metrics["lsgan"]["au_mse"] < metrics["lsgan"]["au_mse_identity_baseline"]
    assert metrics["aux"]["au_mse"] < metrics["aux"]["au_mse_zero_baseline"]


def test_readme_demo_command_writes_the_grid(editor, tmp_path, capsys, monkeypatch):
    """The grid's cells are what they say: each identity's neutral render, its edits (the happy one checked against
    the API), the AU12 sweep moving, and under each row the rendered true targets."""
    result = run_lsgan(["demo", "--out", tmp_path], capsys, monkeypatch)
    assert result.code == 0, result.err
    grid = np.asarray(Image.open(tmp_path / "demo_grid.png").convert("RGB"))
    config, size = DemoConfig(), editor.image_size
    columns = [column.label for column in demo_columns(config)]
    assert grid.shape == (LABEL_HEIGHT + 2 * len(config.identities) * size, len(columns) * size, 3)

    def cell(row: int, column: int) -> np.ndarray:
        top = LABEL_HEIGHT + row * size
        return grid[top: top + size, column * size: (column + 1) * size].astype(int)

    sweep = [index for index, label in enumerate(columns) if label.startswith("AU12=")]
    for index, (identity, face) in enumerate(zip(config.identities, neutral_faces(config, size))):
        edits, truth = 2 * index, 2 * index + 1
        np.testing.assert_array_equal(cell(edits, 0), face)
        happy = editor.edit(face, emotion="happy").image.astype(int)
        assert np.abs(cell(edits, columns.index("happy")) - happy).max() <= 2  # batched vs single pass
        assert np.abs(happy - face).mean() > 0.5
        assert np.abs(cell(edits, sweep[-1]) - cell(edits, sweep[0])).mean() > 0.5
        np.testing.assert_array_equal(grid[LABEL_HEIGHT + truth * size: LABEL_HEIGHT + (truth + 1) * size],
                                      true_row(identity, config, size))


def test_happy_edit_changes_the_mouth_more_than_the_background(editor, faces):
    edited = editor.edit([f.image for f in faces], emotion="happy").images
    for face, result in zip(faces, edited):
        change = np.abs(result.astype(float) - face.image.astype(float)).mean(axis=2)
        mouth = np.isin(face.labels, [CLASS_INDEX[c] for c in ("upper_lip", "lower_lip", "mouth_interior", "teeth")])
        background = face.labels == CLASS_INDEX["background"]
        assert change[mouth].mean() > 3 * change[background].mean()


def test_raising_an_au_raises_what_g_exp_reads(editor, faces):
    """Each AU set to 1 alone, read back by the bundle's G_exp (the network the generator was trained against,
    so not an independent judge: this guards against regressions, it does not prove visible edits)."""
    images = [f.image for f in faces]
    before = editor.estimate(images)
    rises = [
        editor.estimate(editor.edit(images, aus={au: 1.0}).images)[:, au_index(au)].mean() - before[:, au_index(au)].mean()
        for au in AU_IDS
    ]
    # Its G_exp was trained to ignore colour changes and its edits' colour is bounded, so only moved faces raise the
    # reading (the model before, whose tints G_exp read as AUs, passed 0.1 from one crop). The G_exp shipped with
    # the training-only photos (docs/real_photos.md) reads the rises smaller than the one the generator trained
    # against: mean 0.052 (0.066 before), 4 AUs above 0.09 (AU4 0.26, AU12 0.26, AU1 0.11, AU17 0.09), AU26 0.056.
    assert np.mean(rises) > 0.045
    assert sum(rise > 0.06 for rise in rises) >= 4


def test_emotion_edits_move_the_aus_towards_what_they_ask_for(editor, faces):
    images = [f.image for f in faces]
    for emotion in ("happy", "surprised", "sad", "angry"):
        target = edit_vector(emotion)
        before = np.abs(editor.estimate(images) - target).mean()
        after = np.abs(editor.estimate(editor.edit(images, emotion=emotion).images) - target).mean()
        assert after < before, emotion


def test_edits_move_unseen_faces_towards_their_rendered_true_targets(editor, faces):
    """Judged without G_exp: for each emotion, the pixels the edit changes against the true change (the same person
    rendered with the emotion's AUs). ``along`` is the share of the true change made, in its direction
    (0: the unchanged source; 1: all of it)."""
    size = editor.image_size
    shares = []
    for emotion in ("happy", "sad", "surprised", "angry", "fearful", "disgusted"):
        edited = editor.edit([f.image for f in faces], emotion=emotion).images
        for identity, face, result in zip(UNSEEN_IDENTITIES, faces, edited):
            truth = render(sample_identity(identity), edit_vector(emotion), size=size).image
            as_batch = [torch.from_numpy(image.astype(np.float64))[None] for image in (result, face.image, truth)]
            shares.append(change_along_truth(*as_batch).item())
    assert np.mean(shares) > ALONG_FLOOR, np.round(shares, 2)


def test_an_edit_starts_from_the_faces_own_aus(editor):
    """A happy face asked for AU4 alone: the change-conditioned generator must get the face's own AUs (G_exp's
    reading) as the source. With a zero source the smile's AUs would count as a change a second time."""
    happy = render(sample_identity(UNSEEN_IDENTITIES[0]), emotion_vector("happy"), size=editor.image_size).image
    source = editor.estimate(happy)  # [1, 16]
    assert source[0, au_index(12)] > 0.3, "the test needs a face that G_exp reads as far from neutral"
    target = source.copy()
    target[0, au_index(4)] = 1.0
    result = editor.edit(happy, aus={4: 1.0})
    np.testing.assert_allclose(result.target_aus, target, atol=1e-6)
    image, target_t = to_tensor(happy)[None], torch.from_numpy(target)

    def applied(source_aus: torch.Tensor) -> np.ndarray:
        """The generator's field for these source AUs, applied as the editor applies it (the whole render)."""
        with torch.no_grad():
            _, _, flow, colour = editor.generator.edit_field(image, target_t, source_aus)
        whole = np.ones(happy.shape[:2], np.float32)
        return apply_field(happy, resize_matrix(happy.shape, editor.image_size), flow[0].numpy(), colour[0].numpy(),
                           whole).astype(int)

    expected, from_zero = applied(torch.from_numpy(source)), applied(torch.zeros_like(target_t))
    assert np.abs(from_zero - expected).mean() > 1.0  # a zero source gives a visibly different face here
    difference = np.abs(result.image.astype(int) - expected)
    assert difference.max() <= 1 and difference.mean() < 0.05


def test_g_exp_reads_a_real_smile_and_no_other_au(astronaut):
    """The shipped G_exp reads real faces (stage aux's real bounds, docs/real_photos.md): the astronaut's broad smile,
    a photo in no training set, as AU6 and AU12 with the lips apart, and every other AU as off."""
    reading = Editor.from_pretrained().estimate(astronaut)[0]
    assert reading[au_index(12)] >= 0.5 and reading[au_index(6)] >= 0.3
    others = [reading[au_index(au)] for au in AU_IDS if au not in (6, 12, 25)]
    assert max(others) <= 0.1  # 0.03 here; the G_exp before LFW's faces joined its bounds read AU1 0.15
