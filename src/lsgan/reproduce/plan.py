"""What ``lsgan reproduce`` trains and compares: the methods of the paper's Tables 1-3 in both settings, the ablations
of Tables 4-7, and the shared earlier stages, each a named YAML config under ``configs/`` with a budget overlay
(``configs/budgets/<budget>.yaml``: resolution, widths, steps, data) merged over it.

Settings (issue 12): ``unpaired`` is the paper's training (no true targets); ``paired`` adds the same L_pair against
SynthFACS's rendered true targets to every method (``losses.paired``), so that no method wins or loses for want of
supervision alone. The ablations are run in the paper's (unpaired) setting against ``unpaired/lsgan``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lsgan.errors import LsganError

BUDGETS: tuple[str, ...] = ("cpu-small", "cpu", "gpu")
SETTINGS: dict[str, list[str]] = {
    "unpaired": [],
    "paired": ["losses.paired=100.0"],  # the shipped model's λ_pair, for every method alike
}
METHODS: dict[str, str] = {  # report label -> config under configs/methods
    "lsgan": "lsgan.yaml",            # the paper's design (TG reads z codes and AUs only)
    "lsgan-warp": "lsgan_warp.yaml",  # the shipped design (TG warps the source; docs/architecture.md)
    "stargan": "stargan.yaml",
    "ganimation": "ganimation.yaml",
}
ABLATIONS: tuple[str, ...] = (  # configs/ablations/<name>.yaml; paper Tables 4-7
    "no_identity", "no_reconstruction", "no_cycle", "se_attention", "no_smg", "encoder_decoder", "ce_au_loss",
)
BASE = "base"  # the run dir of the shared earlier stages (smg, aae, aux) and the independent AU judge
ABLATION_REFERENCE = "unpaired/lsgan"


@dataclass(frozen=True)
class Experiment:
    """One generator to train: ``name`` is its run dir (under the runs folder) and its label in the report."""

    name: str
    config: Path
    overrides: tuple[str, ...] = ()

    @property
    def group(self) -> str:
        return self.name.split("/")[0]

    @property
    def label(self) -> str:
        return self.name.split("/", 1)[1]


def budget_file(configs: Path, budget: str) -> Path:
    """``configs/budgets/<budget>.yaml``, or ``budget`` itself when it is a YAML file (tests, own budgets)."""
    path = Path(budget)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise LsganError(f"budget file not found: {path}")
        return path
    if budget not in BUDGETS:
        raise LsganError(f"unknown budget {budget!r}: choose one of {', '.join(BUDGETS)}, or give a YAML file")
    return configs / "budgets" / f"{budget}.yaml"


def base_config(configs: Path) -> Path:
    return configs / "methods" / METHODS["lsgan"]


def experiments(configs: Path) -> list[Experiment]:
    """Every generator of the report, methods first (both settings), then the ablations."""
    runs = [
        Experiment(f"{setting}/{method}", configs / "methods" / file, tuple(overrides))
        for setting, overrides in SETTINGS.items()
        for method, file in METHODS.items()
    ]
    runs += [Experiment(f"ablations/{name}", configs / "ablations" / f"{name}.yaml") for name in ABLATIONS]
    missing = [str(run.config) for run in runs if not run.config.is_file()]
    if missing:
        raise LsganError(f"reproduce needs these configs, missing: {', '.join(missing)}")
    return runs
