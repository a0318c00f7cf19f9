"""Photometric randomisation (``lsgan.data.augment``): colours and sharpness change, geometry does not."""

from __future__ import annotations

import torch

from lsgan.data.augment import photometric


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
