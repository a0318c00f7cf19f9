"""ONNX export of the editing graph (SMG + E + TG): ``edit(image [B,3,S,S] in [-1,1], target_aus [B,16],
source_aus [B,16]) -> (edited [B,3,S,S], masks [B,3,S,S], flow [B,2,S,S], colour [B,3,S,S])``, verified against
PyTorch with onnxruntime before the file is kept. ``source_aus`` (the image's own AUs) is an input only of models
with ``tg.condition: change``.

``edited`` is the edit at the model's size. To edit a photo at its own resolution, as ``lsgan edit`` does, align
the face to the model's crop with a 2×3 similarity ``matrix`` (photo -> crop), run the graph on the crop, and apply
``flow`` and ``colour`` to the photo with ``lsgan.editing.fields.apply_field(photo, matrix, flow[i], colour[i],
mask)`` (numpy and OpenCV only; ``mask`` is where to blend, e.g. the feathered face hull): one resampling of the
photo, pixels outside the mask untouched."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lsgan.atomic import atomic_file
from lsgan.errors import LsganError
from lsgan.facs import NUM_AUS

INPUT_NAMES = ("image", "target_aus", "source_aus")  # source_aus is read by tg.condition: change models only
OUTPUT_NAMES = ("edited", "masks", "flow", "colour")
SUPPORTED_OPSETS = "11-21"  # what the TorchScript exporter handles for this graph


class ExportError(LsganError):
    """The exported graph does not match PyTorch, or cannot be written."""


@dataclass
class ExportConfig:
    opset: int = 17
    verify_batch: int = 2  # batch of the random example used to trace and to compare outputs
    tolerance: float = 1e-3  # largest |onnxruntime - torch| accepted, on [-1, 1] images and 0-1 masks
    seed: int = 0


@dataclass
class ExportReport:
    path: Path
    max_abs_diff: float
    opset: int


class EditGraph(nn.Module):
    """The generator's ``edit_field`` as a module's ``forward``, which is what the exporter traces."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, image: torch.Tensor, target_aus: torch.Tensor, source_aus: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.generator.edit_field(image, target_aus, source_aus)


def export_onnx(generator: nn.Module, image_size: int, out: str | Path, config: ExportConfig | None = None) -> ExportReport:
    """Write ``out`` (atomically) and return the largest output difference between onnxruntime and PyTorch."""
    config = config or ExportConfig()
    graph = EditGraph(generator).cpu().eval()
    example = example_inputs(image_size, config.verify_batch, config.seed)
    with atomic_file(out) as tmp:
        _trace_to_onnx(graph, example, tmp, config.opset)
        diff = max_abs_diff(graph, tmp, example)
        if not diff <= config.tolerance:
            raise ExportError(f"{out}: onnxruntime differs from PyTorch by {diff:.2e} (> {config.tolerance:g}); not kept")
    return ExportReport(Path(out), diff, config.opset)


def example_inputs(image_size: int, batch: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(image, target_aus, source_aus), random."""
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(batch, 3, image_size, image_size, generator=generator) * 2 - 1
    target_aus = torch.rand(batch, NUM_AUS, generator=generator)
    return image, target_aus, torch.rand(batch, NUM_AUS, generator=generator)


def _trace_to_onnx(graph: nn.Module, example: tuple[torch.Tensor, ...], path: Path, opset: int) -> None:
    # The TorchScript exporter: seconds instead of minutes for the torch.export-based one, no onnxscript needed,
    # and it writes opsets below 18. The image size is fixed by the model config; only the batch axis varies.
    batch_axis = {0: "batch"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation notices: the parity check below is what counts
        try:
            torch.onnx.export(
                graph, example, str(path), dynamo=False, opset_version=opset,
                input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES),
                dynamic_axes={name: batch_axis for name in INPUT_NAMES + OUTPUT_NAMES},
            )
        except RuntimeError as err:  # unsupported opset or operator (OnnxExporterError is a RuntimeError)
            reason = str(err).strip().splitlines()[0]
            raise ExportError(f"cannot export with opset {opset}: {reason} (opsets {SUPPORTED_OPSETS} work)") from None


def onnx_session(path: str | Path, threads: int | None = None):
    """An onnxruntime CPU session for an exported file (``threads``: intra-op threads, default: all cores)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: the exporter's harmless shape warnings are noise to users
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_onnx(session, image: np.ndarray, target_aus: np.ndarray, source_aus: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run an exported graph: float32 ``[B,3,S,S]`` in [-1,1], target and source AUs ``[B,16]`` -> (edited, masks,
    flow, colour). Graphs of models that read only the target AUs have no ``source_aus`` input; it is then not fed."""
    arrays = {"image": image, "target_aus": target_aus, "source_aus": source_aus}
    wanted = {graph_input.name for graph_input in session.get_inputs()}
    feeds = {name: array.astype(np.float32) for name, array in arrays.items() if name in wanted}
    edited, masks, flow, colour = session.run(list(OUTPUT_NAMES), feeds)
    return edited, masks, flow, colour


def max_abs_diff(graph: nn.Module, path: Path, example: tuple[torch.Tensor, ...]) -> float:
    with torch.no_grad():
        expected = [tensor.numpy() for tensor in graph(*example)]
    got = run_onnx(onnx_session(path), *(tensor.numpy() for tensor in example))
    return float(max(np.abs(e - g).max() for e, g in zip(expected, got)))
