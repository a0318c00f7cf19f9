"""Model evaluation on SynthFACS test pairs (issue 12; the paper's Tables 1-3): ``lsgan eval --models ... --data``.

Every method edits the same pairs of the test identities: each test image (source) to the AUs of another test
image (pairs with equal AUs skipped; the draw is seeded), scored against the *rendered true target*, the source's
person, pose and light with the target AUs (``training.synth_targets``). The identity baseline, the source returned
unchanged, is always one of the methods. A model gets its own G_exp's reading of the source as the source's AUs,
as ``Editor`` does.

- Table 1: per-AU MSE and ICC(3,1) of the edits' AUs as read by the independent judge (``nets.judge``) against the
  target AUs, beside the judge's own error on the true targets (the floor); and the same read by each model's own
  G_exp, labelled as the model's own critic (lsgan's generators train against it, so they may fool it; the rivals'
  do not, so this reading favours lsgan by construction).
- Table 2: FID and KID between the edits and the true targets (as sets), PSNR, SSIM, LPIPS and ``along`` (the
  share of the true change made) against each pair's true target.
- Table 3: self-reconstruction (the edit to the source's own AUs) PSNR and SSIM; identity: dlib's 128-d face
  descriptor distance (an embedding no generator trains against) of the edit to the source and to the true target.
- Optional: the real-photo benchmark (``evaluation.photos``) of each model through ``Editor``'s full-resolution path.

``evaluate_models`` is the entry point (``lsgan reproduce`` calls it too); ``evaluation.model_report`` writes the
tables, figures, report.md and summary.json.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader
from tqdm import tqdm

from lsgan.data.datasets import UnpairedPairs, build_dataset
from lsgan.data.images import to_tensor, to_uint8
from lsgan.editing.editor import describe_motion, torch_device
from lsgan.errors import LsganError
from lsgan.evaluation.photos import BenchmarkInputError
from lsgan.facs import EMOTIONS
from lsgan.metrics import LPIPS, AUAgreement, FIDFeatures, KIDResult, au_agreement, psnr, ssim
from lsgan.metrics.fid import frechet_distance_of_features
from lsgan.metrics.image import change_along_truth
from lsgan.metrics.kid import kid_of_features
from lsgan.metrics.photo import FaceDescriber, identity_distance
from lsgan.nets.judge import LoadedJudge, load_judge
from lsgan.nets.lsgan import CONFIG_FILE, ModelBundle, load_bundle
from lsgan.nets.rivals import RIVALS

if TYPE_CHECKING:
    from lsgan.evaluation.model_report import ReportFiles

IDENTITY = "identity"  # the identity baseline's method name
IDENTITY_LABEL = "identity (source unchanged)"
PAIR_SEED = 1  # the seed of the (source, target) draw
GRID_ROWS = 6
EDITOR_UPSCALE = 4  # EditorMethod edits the pairs' sources at this many times their size
log = logging.getLogger(__name__)
NAME_PATTERN = re.compile(r"^(?:[A-Za-z0-9_.+-]+/)?[A-Za-z0-9_.+-]+$")


class ModelEvalError(BenchmarkInputError):
    """A model evaluation that cannot run as asked (bad NAME=DIR, a missing folder, models that do not fit)."""


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class ModelSpec:
    """One ``--models NAME=DIR``: ``setting`` is the part of NAME before a "/" ("" when there is none)."""

    name: str
    bundle_dir: Path

    @property
    def setting(self) -> str:
        return self.name.rpartition("/")[0]

    @property
    def method(self) -> str:
        return self.name.rpartition("/")[2]


def parse_model_option(text: str) -> tuple[str, Path]:
    """``NAME=DIR`` -> (NAME, DIR); NAME is ``method`` or ``setting/method`` (letters, digits, ``_.+-``)."""
    name, sep, folder = text.partition("=")
    name = name.strip()
    if not sep or not folder.strip() or not NAME_PATTERN.match(name):
        raise ModelEvalError(f"bad --models value {text!r}: expected NAME=DIR, NAME a method or setting/method of "
                             "letters, digits and _.+- (e.g. paired/lsgan=runs/cpu64/bundle)")
    return name, Path(folder.strip()).expanduser()


def model_specs(models: Mapping[str, str | Path]) -> list[ModelSpec]:
    """Check names and folders; a run dir stands for its ``bundle`` folder."""
    if not models:
        raise ModelEvalError("no model to evaluate: give at least one --models NAME=DIR")
    specs = []
    for name, folder in models.items():
        if not NAME_PATTERN.match(name):
            raise ModelEvalError(f"bad model name {name!r}: a method or setting/method of letters, digits and _.+-")
        if name.rpartition("/")[2] == IDENTITY:
            raise ModelEvalError(f"model name {name!r}: {IDENTITY!r} is the identity baseline's, choose another")
        specs.append(ModelSpec(name, bundle_folder(Path(folder))))
    return specs


def bundle_folder(folder: Path) -> Path:
    if not folder.is_dir():
        raise ModelEvalError(f"no such model folder: {folder}")
    for candidate in (folder / "bundle", folder):  # a run dir has a config.yaml too: the training config
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    raise ModelEvalError(f"{folder} is not a model bundle (no {CONFIG_FILE}) nor a run dir with a bundle/ folder")


def settings_of(specs: Sequence[ModelSpec]) -> list[str]:
    """The settings in the order their first model was given."""
    return list(dict.fromkeys(spec.setting for spec in specs))


# ---------------------------------------------------------------- test pairs


@dataclass
class EvalPairs:
    """The pairs every method edits; ``N`` of them, images ``[N,3,S,S]`` in [-1,1], AUs ``[N,16]``."""

    source: Tensor
    source_aus: Tensor  # the source's labels (the models read their own; see BundleMethod)
    target_aus: Tensor
    truth: Tensor  # the rendered true target
    identities: list[str]  # the source's identity

    def __len__(self) -> int:
        return len(self.source)

    @property
    def grid_index(self) -> Tensor:
        """The pairs of the image grid: ``GRID_ROWS`` spread evenly over the pairs (so over the identities)."""
        return torch.linspace(0, len(self) - 1, min(GRID_ROWS, len(self))).round().long().unique()

    def grid_rows(self, start: int, count: int) -> Tensor:
        """Of the grid's pairs, those in ``[start, start + count)``, as indices into that batch."""
        index = self.grid_index
        return index[(index >= start) & (index < start + count)] - start


def load_test_pairs(data: Path, image_size: int, limit: int | None = None, seed: int = PAIR_SEED,
                    batch_size: int = 32) -> EvalPairs:
    """The test identities' pairs of the SynthFACS set ``data`` at ``image_size`` (the first ``limit`` pairs with
    different AUs, or all)."""
    from lsgan.training.synth_targets import with_true_targets

    test = build_dataset("synthfacs", data, "test", image_size)
    pairs = with_true_targets(UnpairedPairs(test, seed), data)
    parts: dict[str, list] = {"source": [], "source_aus": [], "target_aus": [], "truth": [], "identities": []}
    kept = 0
    for batch in DataLoader(pairs, batch_size=min(batch_size, limit or batch_size)):  # renders only what it needs
        new = (batch["target"]["aus"] - batch["source"]["aus"]).abs().amax(1) > 1e-6  # skip same-AU pairs
        take = new.nonzero().flatten()[: None if limit is None else limit - kept]
        parts["source"].append(batch["source"]["image"][take])
        parts["source_aus"].append(batch["source"]["aus"][take])
        parts["target_aus"].append(batch["target"]["aus"][take])
        parts["truth"].append(batch["true_target"][take])
        parts["identities"] += [test.identities[int(i)] for i in batch["source"]["identity"][take]]
        kept += len(take)
        if limit is not None and kept >= limit:
            break
    if kept < 2:
        raise ModelEvalError(f"{data}: only {kept} test pair(s) with different AUs; the evaluation needs at least 2")
    return EvalPairs(*(torch.cat(parts[key]) for key in ("source", "source_aus", "target_aus", "truth")),
                     parts["identities"])


# ---------------------------------------------------------------- methods


class Method(Protocol):
    """What a method does to a batch of sources (``[B,3,S,S]``, target AUs ``[B,16]``)."""

    name: str
    trained_against_critic: bool  # whether the generator's loss read ``critic`` (lsgan's L_au reads its G_exp)

    def edits(self, source: Tensor, target_aus: Tensor) -> tuple[Tensor, Tensor]:
        """(the edit to ``target_aus``, the edit to the source's own AUs)."""

    def critic(self, images: Tensor) -> Tensor | None:
        """The method's own AU reading ``[B,16]`` (a model's G_exp), or None."""


class IdentityBaseline:
    """The source returned unchanged."""

    name = IDENTITY
    trained_against_critic = False

    def edits(self, source: Tensor, target_aus: Tensor) -> tuple[Tensor, Tensor]:
        return source, source

    def critic(self, images: Tensor) -> Tensor | None:
        return None


class BundleMethod:
    """A model bundle: the generator edits, given its G_exp's reading of the source as the source's AUs. LSGAN's
    generators (and its ablations) trained against that G_exp (L_au, Eq. 6); the rivals' bundles carry the shared
    G_exp only so that a source's AUs can be read, and no rival loss reads it."""

    def __init__(self, name: str, bundle: ModelBundle) -> None:
        self.name = name
        self.bundle = bundle
        self.trained_against_critic = bundle.config.generator not in RIVALS

    def edits(self, source: Tensor, target_aus: Tensor) -> tuple[Tensor, Tensor]:
        estimate = self.bundle.au_regressor(source).clamp(0, 1)
        edited = self.bundle.generator(source, target_aus, estimate).image
        rebuilt = self.bundle.generator(source, estimate, estimate).image
        return edited, rebuilt

    def critic(self, images: Tensor) -> Tensor | None:
        return self.bundle.au_regressor(images)


class EditorMethod(BundleMethod):
    """A model bundle edited as ``lsgan edit`` edits a photo (``Editor``, its ``motion`` and ``creases``), so that the
    paired figures measure the editing path users get (the mesh motion by default), not only the generator. Each
    source is enlarged ``EDITOR_UPSCALE`` times (bicubic: the face mesh needs more than 64 pixels), aligned and edited
    like a photo, G_exp reading its own AUs, and the change is brought back to the pairs' size:
    ``source + reduce(edited) - reduce(enlarged)`` (area reduction), so the enlargement's round trip adds nothing.
    A source in which no face is found comes back unchanged (counted in ``missed``)."""

    def __init__(self, name: str, bundle: ModelBundle, motion: str, creases: bool = False) -> None:
        from lsgan.editing.editor import Editor, EditorConfig

        super().__init__(name, bundle)
        device = str(next(bundle.generator.parameters()).device)
        self.editor = Editor(bundle, EditorConfig(device=device, motion=motion, creases=creases))
        self.missed = 0

    def edits(self, source: Tensor, target_aus: Tensor) -> tuple[Tensor, Tensor]:
        images = to_uint8(source)  # [B, S, S, 3]
        changes = [self._changes(image, target) for image, target in zip(images, target_aus.cpu().numpy())]
        base = images.astype(np.float32)
        return tuple(torch.stack([to_tensor(image + change[k]) for image, change in zip(base, changes)])
                     .to(source.device) for k in (0, 1))

    def _changes(self, image: np.ndarray, target: np.ndarray) -> np.ndarray:
        """``[2, S, S, 3]`` the changes (float, uint8 units) the editor makes to ``image`` towards ``target`` and
        towards its own AUs, at ``image``'s size; none when it finds no face."""
        side = image.shape[0]
        big = cv2.resize(image, (side * EDITOR_UPSCALE,) * 2, interpolation=cv2.INTER_CUBIC)
        try:
            photo = self.editor.prepare(big, glasses=False)[0]
        except LsganError:
            self.missed += 1
            return np.zeros((2, *image.shape), np.float32)
        photo.faces = photo.faces[:1]  # largest first
        own = self.editor.estimate_faces([photo])
        result = self.editor.render([photo, photo], np.stack([target, own[0]]), np.repeat(own, 2, axis=0))
        reduced = [cv2.resize(array, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
                   for array in (big, *result.images)]
        return np.stack([reduced[1] - reduced[0], reduced[2] - reduced[0]])


# ---------------------------------------------------------------- scores


@dataclass
class Reference:
    """What is measured once on the pairs themselves."""

    truth_features: np.ndarray  # FID pool features of the true targets [N, 2048]
    source_descriptors: list[np.ndarray]  # dlib [128] each
    truth_descriptors: list[np.ndarray]
    floor: AUAgreement | None  # the judge reading the true targets, against the target AUs
    truth_identity: float  # mean dlib distance, true target vs source
    dlib_finds_source: int  # sources in which dlib's own detector finds a face
    dlib_finds_truth: int


@dataclass
class MethodScores:
    name: str  # as given (setting/method), or IDENTITY
    pairs: int
    judge: AUAgreement | None  # the judge reading the edits, against the target AUs
    critic: AUAgreement | None  # the model's own G_exp reading the edits
    critic_source: AUAgreement | None  # ... reading the unchanged sources
    critic_truth: AUAgreement | None  # ... reading the true targets (its own floor)
    fid: float
    kid: KIDResult
    psnr: float
    ssim: float
    lpips: float
    along: float
    recon_psnr: float
    recon_ssim: float
    identity_source: float  # mean dlib distance of the edit to the source
    identity_truth: float  # ... to the true target
    dlib_finds: int  # edits in which dlib's own detector finds a face
    grid: Tensor = field(repr=False)  # the edits of the pairs EvalPairs.grid_index picks
    trained_against_critic: bool = False  # the generator's loss read ``critic``'s G_exp (Method's)


class Scorer:
    """The measuring networks, loaded once: the judge (optional), the FID InceptionV3, LPIPS (AlexNet) and dlib."""

    def __init__(self, judge: LoadedJudge | None, device: torch.device, batch_size: int = 32,
                 progress: bool = True) -> None:
        self.judge = judge
        self.device = device
        self.batch_size = batch_size
        self.progress = progress
        self.fid_features = FIDFeatures().to(device)
        self.lpips = LPIPS("alex").to(device)
        self.describer = FaceDescriber()

    def _batches(self, pairs: EvalPairs, what: str):
        for start in tqdm(range(0, len(pairs), self.batch_size), desc=what, unit="batch", disable=not self.progress):
            part = slice(start, start + self.batch_size)
            yield start, (pairs.source[part].to(self.device), pairs.target_aus[part].to(self.device),
                          pairs.truth[part].to(self.device))

    @torch.no_grad()
    def judge_read(self, images: Tensor) -> np.ndarray:
        """The judge's AUs ``[B,16]``, the images resized to the side it was trained at."""
        side = self.judge.info.image_size
        if images.shape[-1] != side:
            images = F.interpolate(images, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
        return self.judge.net(images).float().cpu().numpy()

    def _describe(self, images: Tensor) -> tuple[list[np.ndarray], int]:
        crops = to_uint8(images)
        return ([self.describer.describe_crop(crop) for crop in crops],
                sum(self.describer.finds_face(crop) for crop in crops))

    @torch.no_grad()
    def reference(self, pairs: EvalPairs) -> Reference:
        features, sources, truths, floor_reads, found_source, found_truth = [], [], [], [], 0, 0
        for _, (source, _, truth) in self._batches(pairs, "true targets"):
            features.append(self.fid_features(truth).double().cpu().numpy())
            described, found = self._describe(source)
            sources += described
            found_source += found
            described, found = self._describe(truth)
            truths += described
            found_truth += found
            if self.judge is not None:
                floor_reads.append(self.judge_read(truth))
        floor = au_agreement(np.concatenate(floor_reads), pairs.target_aus.numpy()) if floor_reads else None
        return Reference(np.concatenate(features), sources, truths, floor, _mean_distance(sources, truths),
                         found_source, found_truth)

    def _image_scores(self, source: Tensor, truth: Tensor, edited: Tensor, rebuilt: Tensor) -> dict[str, Tensor]:
        """Per image ``[B]``: the edit against the true target, the self-reconstruction against the source."""
        return {"psnr": psnr(edited, truth), "ssim": ssim(edited, truth), "lpips": self.lpips(edited, truth),
                "along": change_along_truth(edited, source, truth), "recon_psnr": psnr(rebuilt, source),
                "recon_ssim": ssim(rebuilt, source)}

    @torch.no_grad()
    def score(self, method: Method, pairs: EvalPairs, reference: Reference) -> MethodScores:
        sums: dict[str, float] = defaultdict(float)
        features, judged, critic, critic_source, critic_truth, descriptors, grid = [], [], [], [], [], [], []
        found = 0
        for start, (source, target_aus, truth) in self._batches(pairs, method.name):
            edited, rebuilt = (image.clamp(-1, 1) for image in method.edits(source, target_aus))
            for key, per_image in self._image_scores(source, truth, edited, rebuilt).items():
                sums[key] += float(per_image.double().sum())
            features.append(self.fid_features(edited).double().cpu().numpy())
            if self.judge is not None:
                judged.append(self.judge_read(edited))
            read = method.critic(edited)
            if read is not None:
                critic.append(read.float().cpu().numpy())
                critic_source.append(method.critic(source).float().cpu().numpy())
                critic_truth.append(method.critic(truth).float().cpu().numpy())
            described, batch_found = self._describe(edited)
            descriptors += described
            found += batch_found
            grid.append(edited[pairs.grid_rows(start, len(source))].cpu())
        targets = pairs.target_aus.numpy()
        count = len(pairs)
        fake = np.concatenate(features)
        return MethodScores(
            name=method.name, pairs=count,
            judge=au_agreement(np.concatenate(judged), targets) if judged else None,
            critic=au_agreement(np.concatenate(critic), targets) if critic else None,
            critic_source=au_agreement(np.concatenate(critic_source), targets) if critic else None,
            critic_truth=au_agreement(np.concatenate(critic_truth), targets) if critic else None,
            fid=frechet_distance_of_features(reference.truth_features, fake),
            kid=kid_of_features(reference.truth_features, fake),
            **{key: value / count for key, value in sums.items()},
            identity_source=_mean_distance(descriptors, reference.source_descriptors),
            identity_truth=_mean_distance(descriptors, reference.truth_descriptors),
            dlib_finds=found, grid=torch.cat(grid), trained_against_critic=method.trained_against_critic,
        )


def _mean_distance(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return float(np.mean([identity_distance(x, y) for x, y in zip(a, b, strict=True)]))


# ---------------------------------------------------------------- real photos


class UnchangedEditor:
    """The identity baseline on photos: ``edit`` gives the photo back."""

    @dataclass
    class Result:
        images: list[np.ndarray]

    def edit(self, images: np.ndarray, aus: None = None, *, emotion: str | None = None,
             intensity: float | None = None) -> UnchangedEditor.Result:
        return UnchangedEditor.Result([np.array(images)])


@dataclass
class PhotoOptions:
    folder: Path
    emotions: tuple[str, ...] = EMOTIONS
    classifiers: tuple[str, ...] = ("faceapi", "fer")


def photo_summaries(specs: Sequence[ModelSpec], options: PhotoOptions, device: str,
                    progress: bool) -> dict[str, dict]:
    """The real-photo benchmark's summary (``evaluation.photos.summarize``) for the identity baseline and each
    model, each through ``Editor``'s full-resolution path."""
    from lsgan.data.photos import benchmark_photos
    from lsgan.editing.editor import Editor
    from lsgan.evaluation.photos import load_classifiers, run_photo_benchmark, summarize

    paths = benchmark_photos(options.folder)
    if not paths:
        raise ModelEvalError(f"{options.folder}: no photos (png, jpg, ...) in it")
    classifiers = load_classifiers(options.classifiers, device)
    summaries = {IDENTITY: summarize(run_photo_benchmark(UnchangedEditor(), paths, options.emotions, classifiers,
                                                         model=IDENTITY_LABEL, progress=progress))}
    done: dict[Path, dict] = {}  # a bundle named twice (in two settings) runs once
    for spec in specs:
        folder = spec.bundle_dir.resolve()
        if folder not in done:
            with Editor.from_pretrained(folder, device=device) as editor:
                done[folder] = summarize(run_photo_benchmark(editor, paths, options.emotions, classifiers,
                                                             model=spec.name, progress=progress))
        summaries[spec.name] = done[folder]
    return summaries


# ---------------------------------------------------------------- the whole evaluation


@dataclass
class Evaluation:
    """Everything the report shows."""

    data: Path
    specs: list[ModelSpec]
    pairs: EvalPairs
    reference: Reference
    scores: dict[str, MethodScores]  # IDENTITY and each model's name
    judge: LoadedJudge | None
    limit: int | None
    photos: dict[str, dict] | None = None  # name -> photo benchmark summary
    photo_folder: Path | None = None
    notes: list[str] = field(default_factory=list)


def evaluate_models(models: Mapping[str, str | Path], data: Path, out: Path, judge: Path | None = None,
                    photos: Path | None = None, limit: int | None = None, device: str = "cpu", *,
                    overwrite: bool = False, photo_emotions: Sequence[str] = EMOTIONS,
                    classifiers: Sequence[str] = ("faceapi", "fer"), batch_size: int = 32,
                    pair_seed: int = PAIR_SEED, progress: bool = True, motion: str | None = None,
                    creases: bool = False) -> ReportFiles:
    """Evaluate the named model bundles (``{"paired/lsgan": Path("runs/x/bundle"), ...}``; a run dir stands for
    its bundle) and the identity baseline on the test pairs of the SynthFACS set ``data``, and write the report into
    ``out`` (``evaluation.model_report.write_report``: report.md, one CSV per table, the figures, summary.json).

    ``judge``: a judge file or a ``lsgan train judge`` run dir; without it Table 1 is each model's own critic's
    reading only (the report says so). ``photos``: a photo folder for the real-photo table. ``limit``: the first N
    pairs. ``motion`` (mesh|both|model): edit through the photo editor with that motion (and ``creases``) instead of
    the generator alone (``EditorMethod``). Refuses to write over an earlier report unless ``overwrite``. Returns the
    written ``ReportFiles``."""
    from lsgan.evaluation.model_report import check_outputs, write_report

    specs = model_specs(models)
    data = Path(data)
    if not data.is_dir():
        raise ModelEvalError(f"no such data folder: {data}")
    if photos is not None and not Path(photos).is_dir():
        raise ModelEvalError(f"no such photo folder: {photos}")
    if limit is not None and limit < 2:
        raise ModelEvalError(f"--limit must be at least 2 pairs, got {limit}")
    check_outputs(Path(out), settings_of(specs), judged=judge is not None, photos=photos is not None,
                  overwrite=overwrite)
    if judge is None:
        log.warning("no --judge: Table 1 will show each model's own G_exp reading only (the critic lsgan's "
                    "generators trained against, which favours them); train an independent judge with `lsgan train "
                    "judge`")
    run_on = torch_device(device)
    loaded_judge = load_judge(judge, run_on) if judge is not None else None
    folders = {spec.name: spec.bundle_dir.resolve() for spec in specs}
    bundles = {folder: load_bundle(folder, run_on) for folder in dict.fromkeys(folders.values())}
    image_size = _common_size({name: bundles[folder] for name, folder in folders.items()})
    pairs = load_test_pairs(data, image_size, limit, pair_seed, batch_size)
    notes = _judge_notes(loaded_judge, data, pairs)
    scorer = Scorer(loaded_judge, run_on, batch_size, progress)
    reference = scorer.reference(pairs)
    scores = {IDENTITY: scorer.score(IdentityBaseline(), pairs, reference)}
    scored: dict[Path, MethodScores] = {}  # a bundle named twice (in two settings) is scored once
    for name, folder in folders.items():
        if folder not in scored:
            method = _method(name, bundles[folder], motion, creases)
            scored[folder] = scorer.score(method, pairs, reference)
            if isinstance(method, EditorMethod):
                method.editor.close()
                notes.append(f"{name}: edited as `lsgan edit` edits a photo ({describe_motion(motion, creases)}): "
                             f"each source enlarged {EDITOR_UPSCALE}x, aligned and edited, the change brought back to "
                             f"{image_size} px; {method.missed} of {len(pairs)} sources had no face found and count "
                             "as unchanged")
        scores[name] = replace(scored[folder], name=name)
    evaluation = Evaluation(data, specs, pairs, reference, scores, loaded_judge, limit, notes=notes)
    if photos is not None:
        options = PhotoOptions(Path(photos), tuple(photo_emotions), tuple(classifiers))
        evaluation.photos = photo_summaries(specs, options, device, progress)
        evaluation.photo_folder = Path(photos)
    return write_report(evaluation, Path(out), overwrite=overwrite)


def _method(name: str, bundle: ModelBundle, motion: str | None, creases: bool) -> Method:
    """The generator alone, or with ``motion`` the photo editor."""
    if motion is None:
        return BundleMethod(name, bundle)
    return EditorMethod(name, bundle, motion, creases)


def _common_size(bundles: Mapping[str, ModelBundle]) -> int:
    sizes = {name: bundle.config.image_size for name, bundle in bundles.items()}
    if len(set(sizes.values())) > 1:
        shown = ", ".join(f"{name} {size} px" for name, size in sizes.items())
        raise ModelEvalError(f"the models edit at different image sizes ({shown}); compare models of one size")
    return next(iter(sizes.values()))


def _judge_notes(judge: LoadedJudge | None, data: Path, pairs: EvalPairs) -> list[str]:
    """Checks of the judge against the pairs: it must not have seen a test identity of the same data set."""
    if judge is None:
        return []
    info, notes = judge.info, []
    if Path(info.data).resolve() == data.resolve():
        seen = sorted(set(pairs.identities) & set(info.train_identities))
        if seen:
            raise LsganError(f"the judge {info.path} was trained on test identities of {data} "
                             f"({', '.join(seen[:5])}): train it on the training split (`lsgan train judge`)")
    else:
        notes.append(f"the judge was trained on {info.data}, not on {data}: its identities may overlap this set's "
                     "test identities")
    return notes
