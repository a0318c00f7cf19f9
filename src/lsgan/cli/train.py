"""``lsgan train smg|aae|aux|lsgan|all|judge``: the training stages (owned by the training package).

Run as a plain process, or under ``torchrun --nproc_per_node N $(which lsgan) train ...`` for DDP.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import typer

if TYPE_CHECKING:
    from lsgan.training.pipeline import RunResult

app = typer.Typer(no_args_is_help=True)

STAGE_HELP = {
    "smg": "Train the semantic mask generator on the label maps (reports mIoU on test identities).",
    "aae": "Pretrain the adversarial autoencoder (E + decoder + D_z, Eq. 4) on faces and region images.",
    "aux": "Train G_exp (AU regressor) and C_id (identity classifier) for the generator losses.",
    "lsgan": "Train E + TG against the AUD with the full objective (Eq. 10); writes RUN_DIR/bundle.",
    "all": "Run smg, aae, aux and lsgan in order in one run dir; writes RUN_DIR/bundle and RUN_DIR/metrics.json.",
    "judge": "Train the evaluation's independent AU judge (not part of all; training identities only, its own seed "
             "model.judge.seed); writes RUN_DIR/judge/judge.safetensors for `lsgan eval --judge RUN_DIR`.",
}


def _make_command(stage: str) -> Callable[..., None]:
    def command(
        config: Optional[Path] = typer.Option(None, "--config", "-c", help="Training YAML, e.g. configs/cpu64.yaml."),
        data: Optional[Path] = typer.Option(None, "--data", help="Data folder (overrides data.root)."),
        out: Optional[Path] = typer.Option(None, "--out", help="Run dir (default: runs/<config file name>)."),
        resume: bool = typer.Option(False, "--resume", help="Continue from the run dir's checkpoints."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Delete the run dir's earlier results of these stages first."),
        allow_config_change: bool = typer.Option(
            False, "--allow-config-change", help="With --resume: continue although the config differs from the run's."
        ),
        max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Stop (and checkpoint) each stage at this step."),
        max_minutes: Optional[float] = typer.Option(None, "--max-minutes", help="Stop (and checkpoint) after this many minutes."),
        overrides: list[str] = typer.Option([], "--set", help="Config override key.path=value (repeatable)."),
    ) -> None:
        from lsgan.training.loop import Budget
        from lsgan.training.pipeline import load_train_config, train

        settings = list(overrides) + ([f"data.root={data}"] if data is not None else [])
        train_config = load_train_config(config, settings)
        run_dir = out or Path("runs") / (config.stem if config else "default")
        result = train(stage, train_config, run_dir, resume=resume, budget=Budget(max_steps, max_minutes),
                       overwrite=overwrite, allow_config_change=allow_config_change)
        _report(result, run_dir)

    command.__doc__ = STAGE_HELP[stage]
    return command


def _report(result: RunResult, run_dir: Path) -> None:
    for name, state in result.states.items():
        status = "done" if state.finished else "stopped (resume with --resume)"
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in state.metrics.items())
        typer.echo(f"{name}: step {state.step}, {status}" + (f"; {metrics}" if metrics else ""))
    if result.bundle is not None:
        typer.echo(f"model bundle: {result.bundle}")
    if result.judge is not None:
        typer.echo(f"AU judge: {result.judge}")
    typer.echo(f"run dir: {run_dir}")


for _stage in STAGE_HELP:
    app.command(_stage, help=STAGE_HELP[_stage])(_make_command(_stage))
