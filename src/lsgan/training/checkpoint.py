"""Training checkpoints: one safetensors file per stage holding every network, every optimizer's state
(flattened to named tensors) and a small JSON header (step, data position, RNG states, config).

No pickle anywhere: tensors go through safetensors, everything else through JSON in the safetensors metadata.
Writes are atomic (temporary file + fsync + rename), so a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as save_safetensors_bytes
from torch import nn

from lsgan.atomic import write_bytes
from lsgan.errors import CheckpointError


class DamagedCheckpointError(CheckpointError):
    """A checkpoint file that cannot be read (truncated, overwritten, not safetensors)."""

CHECKPOINT_NAME = "checkpoint.safetensors"
PREVIOUS_SUFFIX = ".previous"  # checkpoint.safetensors.previous: the one before, kept for when the latest is damaged
log = logging.getLogger("lsgan")
FORMAT_VERSION = 1
_META_KEY = "lsgan_training"


@dataclass
class TrainState:
    """Where a stage stands: enough to continue the same run bit-for-bit."""

    stage: str
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0  # batches of ``epoch`` already consumed (the data-order position)
    finished: bool = False
    metrics: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the fp16 grad-scaler state


@dataclass
class Checkpoint:
    state: TrainState
    tensors: dict[str, torch.Tensor]
    json_rng: dict[str, Any]

    def module_state(self, name: str) -> dict[str, torch.Tensor]:
        prefix = f"model/{name}/"
        found = {k[len(prefix):]: v for k, v in self.tensors.items() if k.startswith(prefix)}
        if not found:
            raise CheckpointError(f"checkpoint has no network {name!r}; it holds {', '.join(self.module_names())}")
        return found

    def module_names(self) -> list[str]:
        return sorted({k.split("/")[1] for k in self.tensors if k.startswith("model/")})


# --- atomic file writing -------------------------------------------------------------------------------------

def atomic_write_bytes(path: Path, data: bytes, *, keep_previous: bool = False) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the complete new one (fsynced);
    ``keep_previous`` keeps the old one as ``previous_path(path)``."""
    write_bytes(path, data, durable=True, keep_previous=previous_path(path) if keep_previous else None)


def previous_path(path: Path) -> Path:
    return path.with_name(path.name + PREVIOUS_SUFFIX)


# --- RNG states ----------------------------------------------------------------------------------------------

def capture_rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The torch / CUDA / numpy / python RNG states, split into tensors and JSON-able values."""
    tensors = {"rng/torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        tensors["rng/cuda"] = torch.cuda.get_rng_state()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    tensors["rng/numpy_keys"] = torch.from_numpy(np_keys.astype(np.int64))
    py_version, py_internal, py_gauss = random.getstate()
    json_state = {
        "numpy": [np_name, int(np_pos), int(np_has_gauss), float(np_gauss)],
        "python": [py_version, list(py_internal), py_gauss],
    }
    return tensors, json_state


def restore_rng_state(tensors: dict[str, torch.Tensor], json_state: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["rng/torch"])
    if "rng/cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng/cuda"])
    np_name, np_pos, np_has_gauss, np_gauss = json_state["numpy"]
    np_keys = tensors["rng/numpy_keys"].numpy().astype(np.uint32)
    np.random.set_state((np_name, np_keys, np_pos, np_has_gauss, np_gauss))
    py_version, py_internal, py_gauss = json_state["python"]
    random.setstate((py_version, tuple(py_internal), py_gauss))


# --- optimizer flattening ------------------------------------------------------------------------------------

def flatten_optimizer(name: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Optimizer state as ``optim/<name>/<param index>/<key>`` tensors plus JSON (param groups, scalars)."""
    state_dict = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, param_state in state_dict["state"].items():
        for key, value in param_state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{name}/{index}/{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def unflatten_optimizer(name: str, tensors: dict[str, torch.Tensor], json_part: dict[str, Any]) -> dict[str, Any]:
    prefix = f"optim/{name}/"
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix):
            index, param_key = key[len(prefix):].split("/", 1)
            state.setdefault(int(index), {})[param_key] = value
    for index, values in json_part["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": json_part["param_groups"]}


# --- save / load ---------------------------------------------------------------------------------------------

def _contiguous_cpu(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # safetensors refuses shared or non-contiguous storage (channels-last weights, tied buffers): copy each.
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in state.items()}


def save_checkpoint(
    path: Path,
    state: TrainState,
    models: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
) -> None:
    """Write models, optimizers, RNG states and ``state`` to ``path`` atomically."""
    tensors: dict[str, torch.Tensor] = {}
    for name, module in models.items():
        tensors.update({f"model/{name}/{k}": v for k, v in module.state_dict().items()})
    optim_json: dict[str, Any] = {}
    for name, optimizer in optimizers.items():
        optim_tensors, optim_json[name] = flatten_optimizer(name, optimizer)
        tensors.update(optim_tensors)
    rng_tensors, rng_json = capture_rng_state()
    tensors.update(rng_tensors)
    header = {"version": FORMAT_VERSION, "state": asdict(state), "optimizers": optim_json, "rng": rng_json}
    data = save_safetensors_bytes(_contiguous_cpu(tensors), metadata={_META_KEY: json.dumps(header)})
    atomic_write_bytes(path, data, keep_previous=True)


def read_checkpoint(path: Path) -> tuple[Checkpoint, dict[str, Any]]:
    """Read a checkpoint file; returns it and the optimizers' JSON part. Raises ``CheckpointError``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    raw = path.read_bytes()
    try:
        tensors = load_safetensors_bytes(raw)
        header = json.loads(_safetensors_metadata(raw)[_META_KEY])
    except (SafetensorError, KeyError, ValueError) as err:
        raise DamagedCheckpointError(f"{path} is not an lsgan training checkpoint ({err})") from None
    if header.get("version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {header.get('version')} (expected {FORMAT_VERSION})")
    checkpoint = Checkpoint(state=TrainState(**header["state"]), tensors=tensors, json_rng=header["rng"])
    return checkpoint, header["optimizers"]


def _safetensors_metadata(raw: bytes) -> dict[str, str]:
    header_len = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8 : 8 + header_len]).get("__metadata__", {})


def load_checkpoint(
    path: Path,
    models: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    *,
    restore_rng: bool = True,
) -> TrainState:
    """Restore models, optimizers (and by default the RNG states) from ``path``; return its ``TrainState``."""
    checkpoint, optim_json = read_checkpoint(path)
    for name, module in models.items():
        load_module_state(module, checkpoint.module_state(name), f"{path} [{name}]")
    for name, optimizer in optimizers.items():
        if name not in optim_json:
            raise CheckpointError(f"{path}: no state for optimizer {name!r}")
        optimizer.load_state_dict(unflatten_optimizer(name, checkpoint.tensors, optim_json[name]))
    if restore_rng:
        restore_rng_state(checkpoint.tensors, checkpoint.json_rng)
    return checkpoint.state


def load_latest_checkpoint(
    path: Path,
    models: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
) -> TrainState:
    """``load_checkpoint`` of ``path``; when that file is damaged and the previous one is there, warn and load
    the previous one instead (the run goes back a few steps rather than stopping)."""
    previous = previous_path(path)
    try:
        if not path.is_file() and previous.is_file():  # stopped between the two renames of a save
            raise DamagedCheckpointError(f"{path} is missing")
        return load_checkpoint(path, models, optimizers)
    except DamagedCheckpointError as err:
        if not previous.is_file():
            raise
        state = load_checkpoint(previous, models, optimizers)
        log.warning(f"{err}; resuming from the previous checkpoint {previous} (step {state.step})")
        return state


def load_module_state(module: nn.Module, state: dict[str, torch.Tensor], where: str) -> None:
    """``load_state_dict`` with a ``CheckpointError`` that names the file and the mismatching keys."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first_lines = "; ".join(str(err).splitlines()[:3])
        raise CheckpointError(f"{where}: weights do not fit the configured network: {first_lines}") from None


def load_networks(path: Path, models: dict[str, nn.Module]) -> TrainState:
    """Load only the named networks of an earlier stage's checkpoint (no optimizer, no RNG)."""
    checkpoint, _ = read_checkpoint(path)
    for name, module in models.items():
        load_module_state(module, checkpoint.module_state(name), f"{path} [{name}]")
    return checkpoint.state
