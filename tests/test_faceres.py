"""HSE FaceRes (npm @vladmandic/human's face descriptor) in PyTorch: parity with the original tfjs graph model, the
weight conversion, and the second identity judge built on it (``metrics.photo.FaceResDescriber``).

The reference descriptors (``tests/data/faceres_reference.json``) were recorded with Human 3.3.6's
``models/faceres`` on tfjs 4.22 (CPU) by ``scripts/reference_faceres.mjs``. Tests that need the converted weights
make them on first use (``npm pack`` of the pinned package, about 30 MB).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from skimage import data

from lsgan.metrics.photo import FACERES_SAME_PERSON_THRESHOLD, FaceResDescriber, cosine_distance, faceres_crop
from lsgan.nets import pretrained, weight_conversion
from lsgan.nets.faceres import BLOCKS, DESCRIPTOR_SIZE, INPUT_SIZE, FaceResNet
from lsgan.nets.weight_conversion import ConversionError, faceres_pattern_input, faceres_state_dict

FIXTURE = Path(__file__).parent / "data" / "faceres_reference.json"
# Observed: within 5e-6 of tfjs (float32 rounding of float16 weights); the bound leaves room for other CPUs.
DESCRIPTOR_TOLERANCE = 1e-4
ASTRONAUT_BOX = (173.7, 67.8, 277.6, 171.7)  # mediapipe's box of the astronaut's face


@pytest.fixture(scope="module")
def net() -> FaceResNet:
    return pretrained.load_faceres()


@pytest.fixture(scope="module")
def describer() -> FaceResDescriber:
    return FaceResDescriber()


@pytest.mark.parametrize("name", ["grey", "pattern"])
def test_descriptors_match_the_original_tfjs_model(net: FaceResNet, name: str) -> None:
    reference = json.loads(FIXTURE.read_text())
    faces = torch.full((1, 3, INPUT_SIZE, INPUT_SIZE), 128.0) if name == "grey" else faceres_pattern_input()
    with torch.no_grad():
        ours = net(faces)[0].numpy()
    expected = np.asarray(reference["inputs"][name], np.float32)
    assert ours.shape == expected.shape == (DESCRIPTOR_SIZE,)
    assert np.abs(ours - expected).max() < DESCRIPTOR_TOLERANCE
    assert (expected > 0).sum() >= 8  # the fixture is not all zeros: the comparison means something


def _graph_weights(model: FaceResNet, depthwise_scale: float) -> dict[str, np.ndarray]:
    """``model``'s weights laid out and named as in Human's graph (the inverse of the conversion), each depthwise
    kernel divided by ``depthwise_scale`` and that scale given as its batch norm's ``mul``."""
    state = {name: tensor.numpy() for name, tensor in model.state_dict().items()}
    weights = {"conv1/convolution/merged_input": state["conv1.weight"].transpose(2, 3, 1, 0),
               "conv1_bn/batchnorm_1/sub": state["conv1.bias"],
               "global_pooling/Mean/reduction_indices": np.array([1, 2], np.int32),
               "age_pred/kernel": np.zeros((256, 100), np.float32)}
    layers = ["conv1"]
    for index in range(1, len(BLOCKS) + 1):
        block = f"blocks.{index - 1}"
        kernel = state[f"{block}.depthwise.weight"]  # [C, 1, 3, 3]
        weights[f"conv_dw_{index}/depthwise_kernel"] = kernel.transpose(2, 3, 0, 1) / depthwise_scale
        weights[f"conv_dw_{index}_bn/batchnorm_1/mul"] = np.full(kernel.shape[0], depthwise_scale, np.float32)
        weights[f"conv_dw_{index}_bn/batchnorm_1/sub"] = state[f"{block}.depthwise.bias"]
        weights[f"conv_pw_{index}/convolution/merged_input"] = state[f"{block}.pointwise.weight"].transpose(2, 3, 1, 0)
        weights[f"conv_pw_{index}_bn/batchnorm_1/sub"] = state[f"{block}.pointwise.bias"]
        layers += [f"conv_dw_{index}", f"conv_pw_{index}"]
    for layer in layers:
        weights[f"{layer}_relu/Cast"] = np.array(6.0, np.float32)
        weights[f"{layer}_relu/Const_1"] = np.array(0.0, np.float32)
    return weights


def test_conversion_lays_out_the_graph_weights_and_folds_the_depthwise_scale() -> None:
    torch.manual_seed(0)
    model = FaceResNet()
    state = faceres_state_dict(_graph_weights(model, depthwise_scale=4.0))
    for name, tensor in model.state_dict().items():
        assert torch.allclose(state[name], tensor, atol=1e-6), name


def test_conversion_refuses_weights_that_are_not_this_net() -> None:
    weights = _graph_weights(FaceResNet(), depthwise_scale=1.0)
    missing = dict(weights)
    del missing["conv_pw_13/convolution/merged_input"]
    with pytest.raises(ConversionError, match="no tensor conv_pw_13"):
        faceres_state_dict(missing)
    relu = dict(weights, **{"conv_dw_3_relu/Cast": np.array(1.0, np.float32)})
    with pytest.raises(ConversionError, match="conv_dw_3's activation is not ReLU6"):
        faceres_state_dict(relu)
    extra = dict(weights, **{"conv_pw_14/convolution/merged_input": np.zeros((1, 1, 2, 2), np.float32)})
    with pytest.raises(ConversionError, match="unexpected tensors"):
        faceres_state_dict(extra)


def test_graph_constants_in_int32_are_read_beside_float16_weights() -> None:
    half = np.array([0.5, -2.0], np.float16)
    axes = np.array([1, 2], np.int32)
    manifest = [{"paths": ["w.bin"], "weights": [
        {"name": "k", "shape": [2], "dtype": "float32", "quantization": {"dtype": "float16"}},
        {"name": "axes", "shape": [2], "dtype": "int32"}]}]
    weights = weight_conversion.read_tfjs_weights(manifest, {"w.bin": half.tobytes() + axes.tobytes()})
    assert weights["k"].dtype == np.float32 and weights["k"].tolist() == [0.5, -2.0]
    assert weights["axes"].tolist() == [1, 2]
    with pytest.raises(ConversionError, match="bytes early"):
        weight_conversion.read_tfjs_weights(manifest, {"w.bin": half.tobytes() + axes.tobytes()[:4]})


def test_parity_check_catches_a_wrongly_converted_net(net: FaceResNet) -> None:
    broken = FaceResNet().eval()
    state = net.state_dict()
    state["conv1.weight"] = state["conv1.weight"].flip(-1)  # a kernel read the wrong way round
    broken.load_state_dict(state)
    with pytest.raises(ConversionError, match="differs from Human's recorded output"):
        weight_conversion.check_faceres_parity(broken)


def test_crop_is_the_square_around_the_box() -> None:
    photo = np.zeros((100, 200, 3), np.uint8)
    photo[40:60, 90:110] = 255  # a white square: the "face"
    crop = faceres_crop(photo, (90.0, 40.0, 110.0, 60.0))
    assert crop.shape == (INPUT_SIZE, INPUT_SIZE, 3)
    white = np.argwhere(crop[:, :, 0] > 127)
    side = INPUT_SIZE / 1.2  # the box fills 1 / FACERES_BOX_SCALE of the crop, centred
    assert abs(white.min(axis=0) - (INPUT_SIZE - side) / 2).max() <= 2
    assert abs(white.max(axis=0) - (INPUT_SIZE + side) / 2).max() <= 2


def test_the_same_face_stays_close_and_other_people_are_far(describer: FaceResDescriber) -> None:
    astronaut = data.astronaut()
    assert describer.distance(astronaut, astronaut.copy(), ASTRONAUT_BOX) == pytest.approx(0.0, abs=1e-9)
    ok, encoded = cv2.imencode(".jpg", astronaut[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    jpeg = np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[:, :, ::-1])
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    x0, y0, x1, y1 = ASTRONAUT_BOX
    own = describer.describe(astronaut, ASTRONAUT_BOX)
    assert describer.distance(astronaut, jpeg, ASTRONAUT_BOX) < 0.1
    assert cosine_distance(own, describer.describe(mirrored, (512 - x1, y0, 512 - x0, y1))) < 0.1
    # LFW's faces (skimage's subset: other people, 25 px grey, pixels repeated 8×) are all another person
    for face in data.lfw_subset()[:6]:
        grey = np.repeat(np.repeat((face * 255).round().astype(np.uint8), 8, 0), 8, 1)
        other = describer.describe(np.repeat(grey[:, :, None], 3, 2), (25.0, 25.0, 175.0, 175.0))
        assert cosine_distance(own, other) >= FACERES_SAME_PERSON_THRESHOLD
