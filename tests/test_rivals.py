"""The paper's rivals, StarGAN and GANimation (docs/rivals.md): their networks on tiny sizes, the emotion domains,
their own loss terms on known inputs, their place in ``LSGANGenerator``, and ``train all`` on the tiny config
giving a bundle that the Editor and the ONNX export take like lsgan's."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from lsgan import facs, losses
from lsgan.config import ConfigError
from lsgan.nets.lsgan import LSGANConfig, LSGANGenerator, load_bundle
from lsgan.nets.rivals.ganimation import GANimationConfig, GANimationCritic, GANimationGenerator, compose
from lsgan.nets.rivals.stargan import (
    NEUTRAL, NUM_DOMAINS, StarGANConfig, StarGANDiscriminator, StarGANGenerator, emotion_domain,
)
from lsgan.training.pipeline import stages_to_run, train
from training_support import (  # noqa: F401 (fixture)
    checkpoint_tensors, loss_log, stopped_and_resumed, synth_dir, tiny_config,
)

TINY = {"width": 4, "residual_blocks": 1, "d_width": 4, "d_layers": 5, "d_max_channels": 16}
RIVALS = ("stargan", "ganimation")


def prototypes(intensity: float = 1.0) -> torch.Tensor:
    """The eight emotion prototypes [8, 16], order ``facs.EMOTIONS``."""
    return torch.stack([torch.from_numpy(facs.emotion_vector(e, intensity)) for e in facs.EMOTIONS])


def images(batch: int = 2, size: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# --- networks ---------------------------------------------------------------------------------------------------

def test_stargan_networks_shapes_and_ranges():
    torch.manual_seed(0)
    config = StarGANConfig(**TINY)
    image = images()
    edited = StarGANGenerator(config)(image, emotion_domain(prototypes()[[1, 3]]))
    assert edited.shape == image.shape and edited.abs().max() <= 1.0
    scores, logits = StarGANDiscriminator(config, 32)(image)
    assert scores.shape == (2, 1, 1, 1) and logits.shape == (2, NUM_DOMAINS)
    assert StarGANDiscriminator(StarGANConfig(**{**TINY, "d_layers": 3}), 32)(image)[0].shape == (2, 1, 4, 4)


def test_ganimation_output_is_attention_times_input_plus_the_rest_colour():
    torch.manual_seed(0)
    config = GANimationConfig(**TINY)
    image = images()
    out = GANimationGenerator(config)(image, torch.rand(2, facs.NUM_AUS))
    assert out.colour.shape == image.shape and out.attention.shape == (2, 1, 32, 32)
    assert out.colour.abs().max() <= 1.0 and 0.0 <= out.attention.min() and out.attention.max() <= 1.0
    torch.testing.assert_close(out.image, out.attention * image + (1 - out.attention) * out.colour)
    ones, zeros = torch.ones(2, 1, 32, 32), torch.zeros(2, 1, 32, 32)
    assert torch.equal(compose(image, out.colour, ones), image)
    assert torch.equal(compose(image, out.colour, zeros), out.colour)
    scores, aus = GANimationCritic(config, 32)(image)
    assert scores.shape == (2, 1, 1, 1) and aus.shape == (2, facs.NUM_AUS)


def test_a_critic_that_halves_the_image_below_one_pixel_is_refused():
    with pytest.raises(ConfigError, match="d_layers=6 .* at most 5"):
        StarGANDiscriminator(StarGANConfig(**{**TINY, "d_layers": 6}), 32)


def test_emotion_domain_of_each_prototype_is_that_emotion():
    expected = torch.eye(NUM_DOMAINS)
    for intensity in (1.0, 0.5, 0.3):
        assert torch.equal(emotion_domain(prototypes(intensity)), expected), intensity
    nearly_still = torch.full((1, facs.NUM_AUS), 0.03)  # every AU about 0
    assert emotion_domain(nearly_still).argmax(1).item() == NEUTRAL
    # A happy face with a little brow raise is still happy: the nearest prototype by direction.
    mixed = torch.from_numpy(facs.au_vector({6: 0.7, 12: 0.9, 25: 0.4, 1: 0.2}))[None]
    assert facs.EMOTIONS[emotion_domain(mixed).argmax(1).item()] == "happy"


# --- the rivals' own losses -------------------------------------------------------------------------------------

def test_domain_classification_loss_is_the_cross_entropy_of_the_domain():
    uniform = torch.zeros(3, NUM_DOMAINS)
    domains = torch.eye(NUM_DOMAINS)[[0, 4, 7]]
    assert losses.domain_classification_loss(uniform, domains).item() == pytest.approx(math.log(NUM_DOMAINS))
    sure = 20.0 * domains
    assert losses.domain_classification_loss(sure, domains).item() < 1e-6


def test_attention_losses_on_known_masks():
    stripes = torch.tensor([[0.0, 1.0, 0.0, 1.0]]).expand(4, 4)[None, None]  # [1,1,4,4] vertical stripes
    assert losses.attention_loss(stripes).item() == pytest.approx(0.5)
    assert losses.attention_smoothness_loss(stripes).item() == pytest.approx(1.0)  # every horizontal step is 1
    assert losses.attention_smoothness_loss(stripes.transpose(-1, -2)).item() == pytest.approx(1.0)
    flat = torch.full((2, 1, 5, 5), 0.7)
    assert losses.attention_smoothness_loss(flat).item() == 0.0
    assert losses.attention_loss(flat).item() == pytest.approx(0.7)


# --- inside LSGANGenerator --------------------------------------------------------------------------------------

def rival_config(generator: str, use_smg: bool = True) -> LSGANConfig:
    return LSGANConfig(image_size=32, generator=generator, use_smg=use_smg,
                       stargan=StarGANConfig(**TINY), ganimation=GANimationConfig(**TINY))


@pytest.mark.parametrize("generator", RIVALS)
def test_a_rival_runs_inside_lsgan_generator_without_an_smg(generator):
    torch.manual_seed(0)
    model = LSGANGenerator(rival_config(generator)).eval()
    assert model.smg is None and not model.config.has_smg and not model.needs_source_aus
    image, target = images(), torch.rand(2, facs.NUM_AUS)
    with torch.no_grad():
        out = model(image, target)
        edited, masks, flow, colour = model.edit_field(image, target)
    assert torch.equal(out.masks, torch.tensor([0.0, 0.0, 1.0])[None, :, None, None].expand(2, 3, 32, 32))
    assert (out.attention is not None) == (generator == "ganimation")
    assert torch.equal(flow, torch.zeros(2, 2, 32, 32))  # full-resolution editing's generic path
    torch.testing.assert_close(colour, edited - image)


def test_stargan_makes_one_edit_per_emotion_whatever_the_au_mix():
    """StarGAN's design: the target AUs only choose one of eight domains."""
    torch.manual_seed(0)
    model = LSGANGenerator(rival_config("stargan")).eval()
    image = images(1)
    happy = prototypes()[1:2]
    with torch.no_grad():
        full, half = model(image, happy).image, model(image, 0.5 * happy).image
        sad = model(image, prototypes()[2:3]).image
    assert torch.equal(full, half)
    assert not torch.equal(full, sad)


# --- training ---------------------------------------------------------------------------------------------------

def rival_train_config(data_dir: Path, generator: str, *overrides: str):
    return tiny_config(data_dir, f"model.generator={generator}", "runtime.image_every=4", *overrides)


@pytest.mark.parametrize("generator,paired", [("stargan", 0.0), ("ganimation", 10.0)])
def test_train_all_gives_a_bundle_the_editor_edits_with(generator, paired, synth_dir, tmp_path, synth_face):
    from lsgan.editing.editor import Editor

    config = rival_train_config(synth_dir, generator, f"losses.paired={paired}", "losses.colour=1")  # colour: ignored
    assert stages_to_run(config, "all") == ["aux", "lsgan"]
    result = train("all", config, tmp_path)
    assert result.finished and result.bundle == tmp_path / "bundle"
    records = loss_log(tmp_path / "lsgan")
    assert len(records) == config.stages.lsgan.steps and all(math.isfinite(r["g_total"]) for r in records)
    assert all(("g_paired" in r) == bool(paired) for r in records)
    metrics = load_metrics(tmp_path)
    assert 0.0 <= metrics["au_mse"] < 1.0 and metrics["psnr"] > 0 and -1 <= metrics["self_rec_ssim"] <= 1
    assert (tmp_path / "bundle" / "discriminator.safetensors").is_file()
    bundle = load_bundle(tmp_path / "bundle")
    assert bundle.config.generator == generator and bundle.generator.smg is None
    editor = Editor.from_pretrained(tmp_path / "bundle", align=False, batch_size=2)
    edited = editor.edit(synth_face, emotion="surprised")
    assert edited.image.shape == synth_face.shape and edited.image.dtype == np.uint8
    assert np.any(edited.image != synth_face)


def load_metrics(run_dir: Path) -> dict[str, float]:
    return json.loads((run_dir / "metrics.json").read_text())["lsgan"]


@pytest.fixture(scope="module")
def synth_face() -> np.ndarray:
    from lsgan.data.synthfacs import render, sample_identity

    return render(sample_identity(0), np.zeros(facs.NUM_AUS), size=40).image


@pytest.mark.parametrize("generator", RIVALS)
def test_rival_step_edits_towards_the_target_and_cycles_back_to_the_source(generator, synth_dir, tmp_path,
                                                                           monkeypatch):
    """One step: the critic's fake G(I, u_t); then G's edit G(I, u_t) and its cycle G(I~, u_s)."""
    from torch.utils.data import DataLoader

    from lsgan.training.distributed import DistContext
    from lsgan.training.pipeline import stage_class, stage_data
    from lsgan.training.stages.rival import RivalStage

    config = rival_train_config(synth_dir, generator)
    monkeypatch.setattr(RivalStage, "_load_au_regressor", lambda self: None)
    stage_cls = stage_class("lsgan", config)
    stage = stage_cls(DistContext(0, 1, 0, torch.device("cpu")), config, stage_data(stage_cls, config), tmp_path)
    calls = []
    original = LSGANGenerator.forward

    def spy(self, image, target_aus, source_aus=None):
        out = original(self, image, target_aus, source_aus)
        calls.append((image.detach(), target_aus.detach(), out.image.detach()))
        return out

    monkeypatch.setattr(LSGANGenerator, "forward", spy)
    batch = stage.to_device(next(iter(DataLoader(stage.data.train, batch_size=4))))
    image, source, target = batch["source"]["image"], batch["source"]["aus"], batch["target"]["aus"]
    report = stage.train_step(batch)
    critic_fake, edit, cycle = calls
    assert torch.equal(critic_fake[0], image) and torch.equal(critic_fake[1], target)
    assert torch.equal(edit[0], image) and torch.equal(edit[1], target)
    assert torch.equal(cycle[0], edit[2]) and torch.equal(cycle[1], source)
    assert {"d_adv", "d_gp", "g_adv", "g_total"} <= set(report)


def test_a_rival_stage_resumes_exactly_and_updates_g_every_n_critic_steps(synth_dir, tmp_path):
    config = rival_train_config(synth_dir, "ganimation", "stages.lsgan.steps=5", "stages.lsgan.checkpoint_every=2",
                                "stages.ganimation_options.n_critic=2")
    pretrained = tmp_path / "pretrained"
    assert train("aux", config, pretrained).finished
    uninterrupted, interrupted = stopped_and_resumed(pretrained, config, tmp_path)
    expected, actual = checkpoint_tensors(uninterrupted / "lsgan"), checkpoint_tensors(interrupted / "lsgan")
    assert expected.keys() == actual.keys()
    assert all(torch.equal(expected[k], actual[k]) for k in expected)
    generator_steps = [r["step"] for r in loss_log(interrupted / "lsgan") if "g_total" in r]
    assert generator_steps == [2, 4]


def test_a_rival_bundle_exports_to_onnx(tmp_path):
    pytest.importorskip("onnxruntime")
    from lsgan.editing.export import export_onnx

    torch.manual_seed(0)
    report = export_onnx(LSGANGenerator(rival_config("ganimation")).eval(), 32, tmp_path / "ganimation.onnx")
    assert report.path.is_file() and report.max_abs_diff < 1e-4
