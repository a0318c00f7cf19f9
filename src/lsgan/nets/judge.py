"""The independent AU judge of the model evaluation (issue 12; the paper's Table 1 reads AU MSE and ICC of the
edits): an AU-intensity regressor that shares nothing with G_exp (``nets.auxiliary``) but the task.

G_exp is a VGG-style conv stack with BatchNorm and ImageNet input statistics, trained in stage ``aux`` with the
run's seed, and the generator trains against it, so an edit may have learnt what fools it. The judge is a small
ResNet (basic blocks with GroupNorm, a strided stem, global average pooling), trained in its own stage ``judge``
(``training.stages.judge``, not part of ``train all``) on the training identities only, with its own seed
(``JudgeConfig.seed``) and its own photometric augmentation. No generator ever sees it. Its own error on true renders
of the test identities is the *floor* printed beside every AU table: an edit read within the floor is as good as
the judge can tell.

``AUJudge.forward(image [B,3,H,W] in [-1,1]) -> AU intensities [B,16] in [0,1]`` (sigmoid), order ``facs.AU_IDS``.
The trained judge is one safetensors file (``JUDGE_FILE``) whose header holds its config, the image size it was
trained at and the data it was trained on (``save_judge`` / ``load_judge``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from torch import Tensor, nn

from lsgan import facs
from lsgan.config import ConfigError, check_min, from_dict, to_dict
from lsgan.errors import CheckpointError
from lsgan.nets.blocks import BasicBlock, conv_norm_act
from lsgan.nets.weights import load_weights, save_weights

JUDGE_FILE = "judge.safetensors"
JUDGE_FORMAT = "lsgan-au-judge"
TRAIN_COMMAND = "lsgan train judge --config CONFIG --out RUN_DIR"


@dataclass
class JudgeConfig:
    """The judge's network and training recipe (YAML section ``model.judge``; its steps: ``stages.judge``)."""

    width: int = 32  # channels after the stem; each stage after the first doubles them
    blocks: tuple[int, ...] = (1, 1, 1, 1)  # basic blocks per stage; every stage after the first halves the side
    seed: int = 1  # its own seed (weights, data order, augmentation), apart from runtime.seed (G_exp's)
    photometric: float = 0.5  # strength of its photometric augmentation (lsgan.data.augment), 0 for none

    def __post_init__(self) -> None:
        check_min(self, 1, "width")
        check_min(self, 0, "seed", "photometric")
        if not self.blocks or min(self.blocks) < 1:
            raise ConfigError(f"blocks must list at least one stage of at least one block, got {list(self.blocks)}")


class AUJudge(nn.Module):
    """Stem (3x3 conv, stride 2, GroupNorm, ReLU) -> ResNet stages of basic blocks (GroupNorm; stride 2 at each
    stage after the first) -> global average pool -> linear -> sigmoid: ``[B,3,H,W] -> [B,16]``."""

    def __init__(self, config: JudgeConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or JudgeConfig()
        layers: list[nn.Module] = [conv_norm_act(3, config.width, 3, 2, norm="group", act="relu")]
        channels = config.width
        for stage, count in enumerate(config.blocks):
            out_channels = config.width * 2**stage
            for block in range(count):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(BasicBlock(channels, out_channels, stride, norm="group"))
                channels = out_channels
        self.features = nn.Sequential(*layers)
        self.out = nn.Linear(channels, facs.NUM_AUS)

    def forward(self, image: Tensor) -> Tensor:
        return torch.sigmoid(self.out(self.features(image).mean(dim=(2, 3))))


@dataclass(frozen=True)
class JudgeInfo:
    """What a judge file says about itself."""

    path: Path
    config: JudgeConfig
    image_size: int  # the side of the images it was trained on
    data: str  # the data folder it was trained on
    train_identities: tuple[str, ...]  # the identities it saw (the test identities must not be among them)
    steps: int


@dataclass
class LoadedJudge:
    net: AUJudge
    info: JudgeInfo


def save_judge(path: str | Path, net: AUJudge, *, image_size: int, data: str | Path,
               train_identities: list[str] | tuple[str, ...], steps: int) -> Path:
    """Write the judge's weights and what it was trained on into one safetensors file."""
    metadata = {"format": JUDGE_FORMAT, "config": json.dumps(to_dict(net.config)), "image_size": str(image_size),
                "data": str(data), "train_identities": json.dumps([str(i) for i in train_identities]),
                "steps": str(steps)}
    save_weights(net, path, metadata=metadata)
    return Path(path)


def find_judge_file(path: str | Path) -> Path:
    """A judge file, or the run dir (or its ``judge`` stage folder) of a ``lsgan train judge`` run."""
    path = Path(path)
    if path.is_file():
        return path
    for candidate in (path / JUDGE_FILE, path / "judge" / JUDGE_FILE):
        if candidate.is_file():
            return candidate
    if not path.exists():
        raise CheckpointError(f"no such judge file or run dir: {path}")
    raise CheckpointError(f"no AU judge in {path} (looked for {JUDGE_FILE} and judge/{JUDGE_FILE}): train one "
                          f"with `{TRAIN_COMMAND}`")


def load_judge(path: str | Path, device: str | torch.device = "cpu") -> LoadedJudge:
    """The judge of a file or run dir (``find_judge_file``), in eval mode on ``device``."""
    file = find_judge_file(path)
    try:
        with safe_open(str(file), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{file}: not a readable safetensors file ({err})") from None
    if metadata.get("format") != JUDGE_FORMAT:
        raise CheckpointError(f"{file} is not an AU judge file (no '{JUDGE_FORMAT}' header); train one with "
                              f"`{TRAIN_COMMAND}`")
    try:
        config = from_dict(JudgeConfig, json.loads(metadata["config"]), where=f"{file} judge config")
        info = JudgeInfo(file, config, int(metadata["image_size"]), metadata["data"],
                         tuple(json.loads(metadata["train_identities"])), int(metadata["steps"]))
    except (KeyError, ValueError) as err:
        raise CheckpointError(f"{file}: damaged judge header ({err})") from None
    net = AUJudge(config)
    load_weights(net, file)
    return LoadedJudge(net.to(device).eval(), info)
