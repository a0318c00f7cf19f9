"""Randomisation of training images that moves no AU: what a photo may do to a face's colours and sharpness
(``photometric``), and how tightly it may cut the face (``cut_tight``).

Three uses (all off by default; see docs/architecture.md, departures):
- G_exp (stage aux) reads faces under random colour casts, smooth local tints, contrast, saturation, blur and
  noise with unchanged AU labels, so that a colour change is worth nothing to it: an edit can only raise what it
  reads by moving the face.
- SynthFACS pairs (stage lsgan) get one random appearance per pair, the same on the source and its true target,
  so that what differs between the two, and what the generator has to learn, is geometry.
- G_exp (stage aux) reads faces cut as a tight photo cuts them, what lies beyond the cut mirrored in, as the editor's
  crops of a photo whose face reaches its edges are (the photo reflected beyond its borders).

Images are ``[B, 3, H, W]`` in [-1, 1]; random numbers come from torch's generator (seeded by the stage runner).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

LUMA = (0.299, 0.587, 0.114)


def photometric(*images: Tensor, strength: float) -> tuple[Tensor, ...]:
    """Each batch of ``images`` (same shape) under one random photometric change per sample, the same change for
    sample i of every batch; ``strength`` in [0, 1] scales every effect (0 returns the images as they are)."""
    if strength <= 0:
        return images
    first = images[0]
    batch, device = first.shape[0], first.device
    params = _draw(batch, first.shape[-2:], strength, device, first.dtype)
    return tuple(_apply(image, params) for image in images)


TIGHT_DEPTH = 0.22  # of the side: the furthest a cut lies in from an image's edge (a portrait's edge above the brows)


def cut_tight(images: Tensor, share: float, depth: float = TIGHT_DEPTH) -> Tensor:
    """``images`` [B, 3, H, W] with about ``share`` of them cut as a tight photo cuts a face: each of their four sides,
    with chance one half, cut up to ``depth`` of the side in, and what lies beyond the cut replaced by its mirror
    image about it (as ``cv2.BORDER_REFLECT_101`` reads beyond a photo's border). The rest are returned as they are."""
    if share <= 0:
        return images
    batch, _, height, width = images.shape
    device = images.device
    chosen = torch.rand(batch, device=device) < share

    def cuts(side: int) -> Tensor:  # [B] pixels in from that edge; 0 for a side left whole
        sided = chosen & (torch.rand(batch, device=device) < 0.5)
        return (torch.rand(batch, device=device) * depth * side).long() * sided

    rows = _mirrored_beyond(height, cuts(height), cuts(height))  # [B, H]
    cols = _mirrored_beyond(width, cuts(width), cuts(width))  # [B, W]
    out = torch.gather(images, 2, rows[:, None, :, None].expand_as(images))
    return torch.gather(out, 3, cols[:, None, None, :].expand_as(images))


def _mirrored_beyond(size: int, start: Tensor, end: Tensor) -> Tensor:
    """``[B, size]`` indices: each line read as it is between ``start`` lines in from the first and ``end`` in from
    the last, beyond them reflected about the cut line (reflect-101: the cut line itself not repeated)."""
    line = torch.arange(size, device=start.device)[None].expand(len(start), size)
    first, last = start[:, None], (size - 1 - end)[:, None]
    line = torch.where(line < first, 2 * first - line, line)
    return torch.where(line > last, 2 * last - line, line).clamp(0, size - 1)


def _uniform(shape: tuple[int, ...], low: float, high: float, device: torch.device, dtype: torch.dtype) -> Tensor:
    return torch.rand(shape, device=device, dtype=dtype) * (high - low) + low


def _draw(batch: int, size: torch.Size, strength: float, device: torch.device, dtype: torch.dtype
          ) -> dict[str, Tensor]:
    """The random parameters of one change per sample."""
    s = strength
    coarse = _uniform((batch, 3, 4, 4), -0.25 * s, 0.25 * s, device, dtype)  # a tint that varies over the face
    return {
        "brightness": _uniform((batch, 1, 1, 1), -0.2 * s, 0.2 * s, device, dtype),
        "contrast": _uniform((batch, 1, 1, 1), 1 - 0.3 * s, 1 + 0.3 * s, device, dtype),
        "saturation": _uniform((batch, 1, 1, 1), 1 - 0.5 * s, 1 + 0.5 * s, device, dtype),
        "cast": _uniform((batch, 3, 1, 1), -0.15 * s, 0.15 * s, device, dtype),
        "tint": F.interpolate(coarse, size=tuple(size), mode="bicubic", align_corners=False),
        "blur": (torch.rand((batch, 1, 1, 1), device=device) < 0.3 * s).to(dtype),
        "noise": _uniform((batch, 1, 1, 1), 0.0, 0.04 * s, device, dtype),
        "noise_seed": torch.randint(0, 2**31 - 1, (1,)),
    }


def _apply(image: Tensor, params: dict[str, Tensor]) -> Tensor:
    luma = torch.tensor(LUMA, device=image.device, dtype=image.dtype).view(1, 3, 1, 1)
    grey = (image * luma).sum(dim=1, keepdim=True)
    out = grey + (image - grey) * params["saturation"]
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    out = (out - mean) * params["contrast"] + mean + params["brightness"] + params["cast"] + params["tint"]
    out = params["blur"] * _blur(out) + (1 - params["blur"]) * out
    noise_rng = torch.Generator(device=image.device).manual_seed(int(params["noise_seed"]))
    noise = torch.randn(image.shape, generator=noise_rng, device=image.device, dtype=image.dtype)
    return (out + params["noise"] * noise).clamp(-1, 1)


def _blur(image: Tensor) -> Tensor:
    """A 3×3 binomial blur (about 0.7 px), edges replicated."""
    kernel = torch.tensor([1.0, 2.0, 1.0], device=image.device, dtype=image.dtype)
    kernel = (kernel[:, None] * kernel[None, :]) / 16
    weight = kernel.expand(image.shape[1], 1, 3, 3)
    return F.conv2d(F.pad(image, (1, 1, 1, 1), mode="replicate"), weight, groups=image.shape[1])
