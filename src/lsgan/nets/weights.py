"""The one safetensors weight writer and reader of a network (model bundles, the AU judge, shipped models):
``save_weights`` (optionally stored in half precision), ``load_weights`` (shape, name and NaN checks, one-line
``CheckpointError`` naming the file) and ``check_weight_shapes`` (the file's header against a state dict, without
loading any data). Training checkpoints (optimizers and all) are ``training.checkpoint``'s."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save
from torch import Tensor, nn

from lsgan.atomic import write_bytes
from lsgan.errors import CheckpointError

FULL_PRECISION_BUFFERS = ("running_mean", "running_var")  # BatchNorm statistics can underflow fp16


def save_weights(module: nn.Module, path: str | Path, storage_dtype: torch.dtype = torch.float32,
                 metadata: dict[str, str] | None = None) -> None:
    """A module's state dict as one safetensors file (tensors made contiguous and unshared). With a
    ``storage_dtype`` such as float16, fp32 parameters are stored in it (half the file); ``load_weights`` casts
    them back to the module's dtype. ``metadata`` goes into the file's header (read it with ``safe_open``)."""
    state = {}
    for name, tensor in module.state_dict().items():
        tensor = tensor.detach().cpu()
        if tensor.dtype == torch.float32 and not name.endswith(FULL_PRECISION_BUFFERS):
            tensor = tensor.to(storage_dtype)
        state[name] = tensor.contiguous().clone()
    write_bytes(path, save(state, metadata), durable=True)


def load_weights(module: nn.Module, path: str | Path) -> None:
    """Load a safetensors file into ``module``; CheckpointError naming the file and what does not fit, or the
    tensors holding NaN or infinite values (a diverged or damaged model would edit faces into black patches)."""
    path = Path(path)
    check_weight_shapes(module.state_dict(), path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{path}: not a readable safetensors file ({err})") from None
    non_finite = [name for name, tensor in state.items()
                  if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
    if non_finite:
        shown = ", ".join(non_finite[:3]) + (" ..." if len(non_finite) > 3 else "")
        raise CheckpointError(f"{path}: {len(non_finite)} weight tensor(s) hold NaN or infinite values ({shown})")
    module.load_state_dict(state)


def check_weight_shapes(expected: dict[str, Tensor], path: Path) -> None:
    """CheckpointError unless the tensors named in ``path``'s header (read without loading any data) are exactly
    those of ``expected``, with the same shapes."""
    if not path.is_file():
        raise CheckpointError(f"missing weights file: {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            found = {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{path}: not a readable safetensors file ({err})") from None
    problems = _state_mismatches({name: tuple(tensor.shape) for name, tensor in expected.items()}, found)
    if problems:
        raise CheckpointError(f"{path} does not fit the configured network: {'; '.join(problems)}")


def _state_mismatches(expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]], limit: int = 5
                      ) -> list[str]:
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    shapes = [
        f"{name} has shape {found[name]}, expected {shape}"
        for name, shape in expected.items()
        if name in found and found[name] != shape
    ]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing[:limit])}{' ...' if len(missing) > limit else ''}")
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected[:limit])}{' ...' if len(unexpected) > limit else ''}")
    return problems + shapes[:limit]
