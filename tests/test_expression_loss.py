"""L_exp (``losses.expression``): face-api's reading of edits whose targets are emotion prototypes."""

from __future__ import annotations

import torch

from lsgan import losses
from lsgan.facs import emotion_vector
from lsgan.nets.expression import EXPRESSIONS, HELD_OUT_CLASSIFIER, LOSS_CLASSIFIER, emotion_labels


def test_prototypes_at_any_strength_are_labelled_and_mixes_are_not():
    targets = torch.stack([
        torch.from_numpy(emotion_vector("happy", 0.7)),
        torch.from_numpy(emotion_vector("angry", 1.0)),
        torch.zeros(16),
        torch.from_numpy(emotion_vector("sad", 0.3)),  # too faint to count
        torch.from_numpy(emotion_vector("happy") + emotion_vector("sad")) / 2,  # a mix
    ])
    labels, valid = emotion_labels(targets)
    assert valid.tolist() == [True, True, True, False, False]
    assert [EXPRESSIONS[i] for i in labels[:3].tolist()] == ["happy", "angry", "neutral"]


def test_expression_loss_is_the_cross_entropy_of_the_labelled_samples():
    probabilities = torch.tensor([[0.5, 0.5, 0, 0, 0, 0, 0], [0.1, 0.9, 0, 0, 0, 0, 0], [1.0, 0, 0, 0, 0, 0, 0]])
    labels, valid = torch.tensor([1, 1, 2]), torch.tensor([True, True, False])
    expected = -(torch.log(torch.tensor(0.5)) + torch.log(torch.tensor(0.9))) / 2
    torch.testing.assert_close(losses.expression_loss(probabilities, labels, valid), expected)
    none = losses.expression_loss(probabilities.requires_grad_(), labels, torch.zeros(3, dtype=torch.bool))
    assert none.item() == 0.0 and none.requires_grad


def test_the_loss_classifier_is_never_the_held_out_judge():
    assert LOSS_CLASSIFIER != HELD_OUT_CLASSIFIER


def test_face_api_reads_an_aligned_crop_of_a_smiling_photo_as_happy(astronaut):
    from lsgan.data.faces import FaceAligner
    from lsgan.data.images import to_tensor
    from lsgan.nets.expression import load_classifier, read_aligned

    with FaceAligner(size=64) as aligner:
        crop = aligner.align(astronaut).crop
    image = to_tensor(crop)[None].requires_grad_()
    probabilities = read_aligned(load_classifier(LOSS_CLASSIFIER), image)
    assert EXPRESSIONS[int(probabilities.argmax())] == "happy" and probabilities.max() > 0.9
    probabilities[0, EXPRESSIONS.index("sad")].backward()
    assert image.grad is not None and image.grad.abs().sum() > 0  # differentiable: a loss can train through it
