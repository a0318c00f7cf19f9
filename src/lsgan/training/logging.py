"""Rank-0 training feedback: a tqdm progress bar (losses, images/s) and TensorBoard scalars and image grids."""

from __future__ import annotations

import time
from pathlib import Path

import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from lsgan.facs import NUM_AUS


class RunLogger:
    """Progress bar + TensorBoard writer for one stage. Every method is a no-op on ranks other than 0."""

    def __init__(self, log_dir: Path, stage: str, *, total_steps: int, start_step: int, enabled: bool) -> None:
        self.enabled = enabled
        self.stage = stage
        self._writer = SummaryWriter(log_dir=str(log_dir)) if enabled else None
        self._bar = (
            tqdm(total=total_steps, initial=start_step, desc=f"train {stage}", unit="step", dynamic_ncols=True)
            if enabled
            else None
        )
        self._last_time = time.perf_counter()
        self._images_since = 0

    def step(self, step: int, losses: dict[str, float], images: int, *, write_scalars: bool) -> None:
        """Advance the bar by one step; ``images`` = images this step over all ranks."""
        if not self.enabled:
            return
        self._images_since += images
        self._bar.update(1)
        if not write_scalars:
            return
        now = time.perf_counter()
        images_per_s = self._images_since / max(now - self._last_time, 1e-9)
        self._last_time, self._images_since = now, 0
        self._bar.set_postfix({**{k: f"{v:.3g}" for k, v in losses.items()}, "img/s": f"{images_per_s:.1f}"})
        self.scalars("train", losses, step)
        self._writer.add_scalar(f"{self.stage}/images_per_s", images_per_s, step)

    def scalars(self, group: str, values: dict[str, float], step: int) -> None:
        if self.enabled:
            for name, value in values.items():
                self._writer.add_scalar(f"{self.stage}/{group}/{name}", value, step)

    def image_grid(self, tag: str, columns: list[torch.Tensor], step: int) -> None:
        """Columns of images [N,3,H,W] in [-1,1] (one column per kind: source, target AUs, result, masks)."""
        if self.enabled and columns:
            self._writer.add_image(f"{self.stage}/{tag}", image_grid(columns), step, dataformats="CHW")

    def message(self, text: str) -> None:
        if self.enabled:
            tqdm.write(text)

    def close(self) -> None:
        if self.enabled:
            self._bar.close()
            self._writer.close()


def image_grid(columns: list[torch.Tensor], pad: int = 2) -> torch.Tensor:
    """Tile equally-sized [N,3,H,W] tensors in [-1,1] side by side (row i = sample i) → [3, H', W'] in [0,1]."""
    tiles = [((c.detach().float().cpu().clamp(-1, 1) + 1) / 2) for c in columns]
    tiles = [torch.nn.functional.pad(t, (pad, pad, pad, pad), value=1.0) for t in tiles]
    rows = torch.cat(tiles, dim=3)  # [N, 3, H+2p, k*(W+2p)]
    return torch.cat(list(rows), dim=1)  # [3, N*(H+2p), k*(W+2p)]


def au_bar_images(aus: torch.Tensor, size: int) -> torch.Tensor:
    """AU vectors [N,16] in [0,1] drawn as bar charts [N,3,size,size] in [-1,1] (white bars on black)."""
    n = aus.shape[0]
    rows = torch.arange(size, device=aus.device).flip(0).view(1, size, 1)  # bar grows from the bottom
    heights = (aus.clamp(0, 1) * size).view(n, 1, NUM_AUS)
    bars = (rows < heights).float()  # [N, size, 16]
    bars = torch.nn.functional.interpolate(bars.unsqueeze(1), size=(size, size), mode="nearest")
    return (bars * 2 - 1).expand(n, 3, size, size)


def mask_images(masks: torch.Tensor) -> torch.Tensor:
    """Region masks [N,3,H,W] (eye, mouth, part) shown as RGB = (eye, mouth, part) in [-1,1]."""
    return masks.clamp(0, 1) * 2 - 1
