"""Mixed precision (bf16 / fp16 autocast, fp16 loss scaling) and channels-last, as config switches."""

from __future__ import annotations

import contextlib
from typing import Any

import torch
from torch import nn

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class MixedPrecision:
    """One object per stage: ``autocast()`` around forward passes, ``backward_step`` for each optimizer update.

    fp16 keeps one ``GradScaler`` per optimizer because GAN stages update D and G from separate losses.
    """

    def __init__(self, mode: str, device: torch.device, *, channels_last: bool = False) -> None:
        if device.type != "cuda":
            mode = "fp32"  # CPU autocast is slower here than fp32, and exact resume is promised on CPU
        self.mode = mode
        self.device = device
        self.channels_last = channels_last and device.type == "cuda"
        self._scalers: dict[str, torch.amp.GradScaler] = {}

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.mode == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=_DTYPES[self.mode])

    def prepare_module(self, module: nn.Module) -> nn.Module:
        module = module.to(self.device)
        return module.to(memory_format=torch.channels_last) if self.channels_last else module

    def prepare_images(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(self.device, non_blocking=True)
        return images.contiguous(memory_format=torch.channels_last) if self.channels_last else images

    def backward_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, name: str) -> None:
        """zero_grad → backward → step (loss-scaled in fp16)."""
        optimizer.zero_grad(set_to_none=True)
        if self.mode != "fp16":
            loss.backward()
            optimizer.step()
            return
        scaler = self._scalers.setdefault(name, torch.amp.GradScaler(self.device.type))
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    def state_dict(self) -> dict[str, dict[str, Any]]:
        return {name: scaler.state_dict() for name, scaler in self._scalers.items()}

    def load_state_dict(self, state: dict[str, dict[str, Any]]) -> None:
        for name, scaler_state in state.items():
            scaler = self._scalers.setdefault(name, torch.amp.GradScaler(self.device.type))
            scaler.load_state_dict(scaler_state)
