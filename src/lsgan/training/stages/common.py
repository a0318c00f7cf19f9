"""Small helpers the stages share: loading earlier stages, optimizers, freezing, and region images."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import torch
from torch import Tensor, nn

from lsgan.errors import CheckpointError
from lsgan.training.checkpoint import CHECKPOINT_NAME, load_networks
from lsgan.training.config import StageSettings


def load_earlier_stage(run_dir: Path, stage: str, networks: dict[str, nn.Module]) -> None:
    """Load ``networks`` from an earlier stage's checkpoint in the run dir; CheckpointError saying which stage to
    train first when it is not there."""
    path = run_dir / stage / CHECKPOINT_NAME
    if not path.is_file():
        raise CheckpointError(f"stage lsgan needs the {stage} stage's weights at {path}: run `lsgan train {stage}` first")
    load_networks(path, networks)


def adam(modules: Iterable[nn.Module], settings: StageSettings) -> torch.optim.Adam:
    params = [p for module in modules for p in module.parameters() if p.requires_grad]
    return torch.optim.Adam(params, lr=settings.lr, betas=settings.betas)


def freeze(module: nn.Module) -> nn.Module:
    """Permanently frozen: eval mode (fixed BatchNorm statistics) and no gradients."""
    module.eval()
    module.requires_grad_(False)
    return module


@contextlib.contextmanager
def no_grad_for(*modules: nn.Module) -> Iterator[None]:
    """Let gradients flow *through* ``modules`` (e.g. a critic in the generator step) without computing
    gradients *for* their weights; restores each parameter's previous flag afterwards."""
    params = [p for m in modules for p in m.parameters()]
    previous = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, previous):
            p.requires_grad_(flag)


def region_images(image: Tensor, masks: Tensor) -> Tensor:
    """The whole face and its three region images stacked on the batch axis: [4B,3,H,W] = (I, I·M_e, I·M_m, I·M_p)."""
    regions = [image * masks[:, i : i + 1] for i in range(masks.shape[1])]
    return torch.cat([image, *regions], dim=0)
