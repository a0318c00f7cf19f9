"""torch.distributed set-up for ``torchrun`` (gloo on CPU, NCCL on GPU) that also runs as a plain single process,
plus a ``DistributedSampler`` that can start mid-epoch (the data-order position of an exact resume).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset, DistributedSampler


@dataclass(frozen=True)
class DistContext:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` → the local GPU when there is one, else CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        return torch.device("cuda", local_rank)
    return torch.device(name)


def init_distributed(device_name: str = "auto") -> DistContext:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE`` > 1); otherwise a single process."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_name, local_rank)
    if world_size > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistContext(rank=rank, world_size=world_size, local_rank=local_rank, device=device)


def shutdown_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: DistContext) -> None:
    if ctx.distributed:
        dist.barrier()


def wrap_for_training(module: nn.Module, ctx: DistContext, *, sync_batchnorm: bool) -> nn.Module:
    """DDP-wrap a trainable network when distributed; unchanged otherwise. With ``sync_batchnorm`` on GPU the
    BatchNorm layers first become SyncBatchNorm (torch has no CPU SyncBatchNorm: on gloo/CPU each rank keeps
    its own batch statistics)."""
    if not ctx.distributed or not any(p.requires_grad for p in module.parameters()):
        return module
    if sync_batchnorm and ctx.device.type == "cuda":
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def unwrap(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, DistributedDataParallel) else module


def all_reduce_mean(values: dict[str, float], ctx: DistContext) -> dict[str, float]:
    """Average scalar metrics over ranks (identity on a single process)."""
    if not ctx.distributed or not values:
        return values
    keys = sorted(values)
    stacked = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(stacked)
    stacked /= ctx.world_size
    return dict(zip(keys, stacked.tolist()))


class ResumableDistributedSampler(DistributedSampler):
    """``DistributedSampler`` (shuffled per epoch from a seed, sharded by rank) that can skip the first batches
    of an epoch, so a resumed run sees exactly the samples an uninterrupted run would have seen next."""

    def __init__(self, dataset: Dataset, ctx: DistContext, *, seed: int, shuffle: bool = True) -> None:
        super().__init__(
            dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=shuffle, seed=seed, drop_last=True
        )
        self.start_index = 0

    def set_position(self, epoch: int, samples_done: int) -> None:
        self.set_epoch(epoch)
        self.start_index = samples_done

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(super().__iter__(), self.start_index, None)

    def __len__(self) -> int:
        return self.num_samples - self.start_index
