from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from lsgan.config import ConfigError, load_config, save_config


@dataclass
class Inner:
    width: int = 8
    aus: tuple[int, ...] = (1, 2)


@dataclass
class Outer:
    name: str = "x"
    lr: float = 1e-4
    mode: Literal["arm", "se"] = "arm"
    inner: Inner = field(default_factory=Inner)
    out: Path | None = None


def test_yaml_round_trip(tmp_path):
    cfg = Outer(name="y", lr=2e-4, mode="se", inner=Inner(width=4, aus=(4, 5)), out=Path("runs/a"))
    save_config(cfg, tmp_path / "c.yaml")
    assert load_config(Outer, tmp_path / "c.yaml") == cfg


def test_overrides_and_int_to_float(tmp_path):
    (tmp_path / "c.yaml").write_text("lr: 1\ninner:\n  width: 2\n")
    cfg = load_config(Outer, tmp_path / "c.yaml", ["inner.aus=[12, 25]", "mode=se"])
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float)
    assert cfg.inner == Inner(width=2, aus=(12, 25))
    assert cfg.mode == "se"


@pytest.mark.parametrize(
    "text, message",
    [("widht: 3\n", "unknown setting"), ("mode: cbam\n", "not one of"), ("lr: fast\n", "expected float"),
     ("- 1\n", "mapping"), ("inner: {width: 1.5}\n", "expected int")],
)
def test_bad_config_names_the_problem(tmp_path, text, message):
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(Outer, tmp_path / "c.yaml")


def test_an_lr_decay_longer_than_the_stage_is_refused():
    from lsgan.training.config import StageSettings

    with pytest.raises(ConfigError, match="lr_decay_steps"):
        StageSettings(steps=10, lr_decay_steps=11)
    assert StageSettings(steps=10).lr_at(9) == StageSettings(steps=10).lr  # no decay by default


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(Outer, tmp_path / "nope.yaml")


def test_extends_loads_the_other_file_first_and_deep_merges_this_one_over_it(tmp_path):
    (tmp_path / "base.yaml").write_text("name: base\nlr: 0.5\ninner: {width: 2, aus: [4, 5]}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mid.yaml").write_text("extends: ../base.yaml\nmode: se\ninner: {width: 3}\n")
    (tmp_path / "sub" / "top.yaml").write_text("extends: mid.yaml\nname: top\n")  # relative to its own folder
    cfg = load_config(Outer, tmp_path / "sub" / "top.yaml", ["lr=0.25"])  # overrides come last
    assert cfg == Outer(name="top", lr=0.25, mode="se", inner=Inner(width=3, aus=(4, 5)))
    save_config(cfg, tmp_path / "saved.yaml")  # saved fully resolved: no extends, every setting written
    saved = (tmp_path / "saved.yaml").read_text()
    assert "extends" not in saved and "aus:" in saved
    assert load_config(Outer, tmp_path / "saved.yaml") == cfg


def test_an_extends_cycle_or_a_missing_parent_is_a_one_line_config_error(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nlr: 1\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="circle") as err:
        load_config(Outer, tmp_path / "a.yaml")
    assert "\n" not in str(err.value) and "a.yaml -> " in str(err.value)
    (tmp_path / "self.yaml").write_text("extends: self.yaml\n")
    with pytest.raises(ConfigError, match="circle"):
        load_config(Outer, tmp_path / "self.yaml")
    (tmp_path / "orphan.yaml").write_text("extends: gone.yaml\n")
    with pytest.raises(ConfigError, match=r"not found: .*gone\.yaml \(extends of .*orphan\.yaml\)"):
        load_config(Outer, tmp_path / "orphan.yaml")
    (tmp_path / "bad.yaml").write_text("extends: [a.yaml]\n")
    with pytest.raises(ConfigError, match="extends must be the path"):
        load_config(Outer, tmp_path / "bad.yaml")
SHIPPED_CONFIGS = sorted(Path(__file__).resolve().parents[1].glob("configs/*.yaml"))


@pytest.mark.parametrize("path", SHIPPED_CONFIGS, ids=lambda p: p.name)
def test_every_shipped_training_config_loads_its_data_section_into_the_data_package_schema(path):
    from lsgan.data.datasets import DataSection
    from lsgan.data.synthfacs import SynthConfig, SynthSettings
    from lsgan.training.config import TrainConfig

    cfg = load_config(TrainConfig, path)
    assert type(cfg.data) is DataSection and type(cfg.data.synth) is SynthSettings
    # what training renders when data.root is missing: the same set as `lsgan data synth` with these settings
    synth = SynthConfig(**vars(cfg.data.synth), out=cfg.data.root, size=cfg.model.image_size)
    assert isinstance(synth, SynthSettings) and synth.test_fraction == cfg.data.synth.test_fraction


def test_data_section_keys_stay_strict(tmp_path):
    from lsgan.training.config import TrainConfig

    for text, message in [("data: {synth: {size: 64}}\n", "data.synth: unknown setting.*size"),
                          ("data: {image_size: 64}\n", "data: unknown setting.*image_size"),
                          ("data: {synth: {per_identity: 0}}\n", "data.synth.per_identity must be at least 1")]:
        (tmp_path / "c.yaml").write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_config(TrainConfig, tmp_path / "c.yaml")


def test_synthfacs_settings_have_one_set_of_defaults():
    from lsgan.data.synthfacs import SynthConfig, SynthSettings
    from lsgan.training.config import TrainConfig

    shared = vars(SynthSettings())
    assert {key: getattr(SynthConfig(), key) for key in shared} == shared == vars(TrainConfig().data.synth)
