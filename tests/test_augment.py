"""Photometric randomisation (``lsgan.data.augment``): colours and sharpness change, geometry does not; and faces cut
as tight photos cut them (``cut_tight``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lsgan.data.augment import TIGHT_DEPTH, cut_tight, photometric
from training_support import synth_dir, tiny_config  # noqa: F401 (fixture)


def edge_image(batch: int = 4, side: int = 32) -> torch.Tensor:
    """Dark left half, light right half: one vertical edge at the middle."""
    image = torch.full((batch, 3, side, side), -0.6)
    image[..., side // 2:] = 0.6
    return image


def test_strength_zero_returns_the_images_unchanged():
    image = edge_image()
    (same,) = photometric(image, strength=0.0)
    assert same is image


def test_each_sample_changes_differently_within_range():
    torch.manual_seed(0)
    (changed,) = photometric(edge_image(), strength=1.0)
    assert changed.min() >= -1 and changed.max() <= 1
    per_sample = changed.mean(dim=(1, 2, 3))
    assert per_sample.std() > 1e-3  # one draw per sample
    assert not torch.allclose(changed, edge_image())


def test_paired_batches_get_the_same_change():
    torch.manual_seed(1)
    a = edge_image()
    b = edge_image()
    b[:, :, :4] = 0.0  # the "true target" differs from the source in one place
    changed_a, changed_b = photometric(a, b, strength=1.0)
    same = torch.ones_like(a, dtype=torch.bool)
    same[:, :, :5] = False  # rows the difference reaches through the blur
    assert torch.allclose(changed_a[same], changed_b[same], atol=1e-6)
    assert not torch.allclose(changed_a, changed_b)


def test_geometry_is_kept_the_edge_stays_where_it_was():
    torch.manual_seed(2)
    (changed,) = photometric(edge_image(batch=16), strength=1.0)
    columns = changed.mean(dim=(1, 2))  # [B, W] mean over channels and rows
    steps = (columns[:, 1:] - columns[:, :-1]).abs()
    assert torch.all(steps.argmax(dim=1) >= 14) and torch.all(steps.argmax(dim=1) <= 16)


def test_a_tight_cut_mirrors_what_lies_beyond_it_and_keeps_the_rest():
    torch.manual_seed(0)
    rows = torch.arange(64.0)[None, None, :, None].expand(32, 3, 64, 64)  # each pixel's value: its row
    cut = cut_tight(rows, share=1.0)
    assert not torch.equal(cut, rows)  # most faces cut somewhere
    for image in cut[:, 0]:  # every column alike: the cut is of whole rows
        column = image[:, 0]
        first = int(torch.argmax((column == torch.arange(64.0)).float()))  # the first row read as it is
        last = 63 - int(torch.argmax((column.flip(0) == torch.arange(64.0).flip(0)).float()))
        assert first <= round(TIGHT_DEPTH * 64) and last >= 63 - round(TIGHT_DEPTH * 64)
        np.testing.assert_array_equal(column[first:last + 1], np.arange(first, last + 1))  # kept between the cuts
        np.testing.assert_array_equal(column[:first], 2 * first - np.arange(first))  # mirrored about the cut line
        np.testing.assert_array_equal(column[last + 1:], 2 * last - np.arange(last + 1, 64))


def test_no_share_cuts_nothing_and_a_share_cuts_about_that_many():
    images = torch.rand(400, 3, 32, 32)
    assert cut_tight(images, share=0.0) is images
    torch.manual_seed(1)
    changed = (cut_tight(images, share=0.5) != images).flatten(1).any(1).float().mean()
    assert 0.35 < float(changed) < 0.55  # half chosen, about nine in ten of those cut on some side


def test_stage_aux_reads_faces_cut_tight_when_asked(synth_dir, tmp_path, monkeypatch):
    from lsgan.config import ConfigError
    from lsgan.training.pipeline import train
    from lsgan.training.stages import aux

    shares = []
    monkeypatch.setattr(aux, "cut_tight", lambda images, share: shares.append(share) or cut_tight(images, share))
    train("aux", tiny_config(synth_dir, "stages.aux_options.tight_crops=0.5", "stages.aux.steps=2",
                             "stages.aux.eval_every=0"), tmp_path / "run")
    assert shares == [0.5, 0.5]  # every training step, none in evaluation
    with pytest.raises(ConfigError, match="tight_crops"):
        tiny_config(synth_dir, "stages.aux_options.tight_crops=1.5")
