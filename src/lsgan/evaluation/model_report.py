"""The model evaluation's outputs (``evaluation.models``): per setting, Tables 1-3 (and the real-photo table) as
Markdown in ``report.md`` and one CSV each (``evaluation.tables``), a per-AU bar chart and an image grid (PNG),
and every figure in ``summary.json``. Each file is written atomically; none is written over unless asked.

File names: ``<table>[_<setting>].csv``, ``au_mse[_<setting>].png``, ``grid[_<setting>].png`` (no suffix for models
named without a setting).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lsgan.atomic import write_bytes, write_text
from lsgan.errors import OutputError
from lsgan.evaluation.figures import au_bar_chart, image_grid
from lsgan.evaluation.models import (
    IDENTITY,
    IDENTITY_LABEL,
    Evaluation,
    MethodScores,
    settings_of,
)
from lsgan.evaluation.tables import Column, Table, csv_text, markdown
from lsgan.facs import AU_IDS
from lsgan.metrics import AUAgreement
from lsgan.metrics.image import MAX_PSNR_DB
from lsgan.metrics.photo import CROP_SIDE, FACERES_SAME_PERSON_THRESHOLD, SAME_PERSON_THRESHOLD

REPORT = "report.md"
SUMMARY = "summary.json"
JUDGE_TABLES = ("table1_au_mse_judge", "table1_au_icc_judge")
TABLES = ("table1_au_mse_own_critic", "table1_au_icc_own_critic", "table2_image_quality",
          "table3_reconstruction_identity")
PHOTO_TABLE = "table_photos"
FIGURES = ("au_mse", "grid")
MSE_DIGITS, ICC_DIGITS = 4, 3
KID_SCALE = 1000  # KID is reported ×10³
FLOOR_LABEL = "judge on the true targets (floor)"


@dataclass
class ReportFiles:
    report: Path
    summary: Path
    tables: list[Path]  # one CSV per table
    figures: list[Path]  # PNG


def suffix(setting: str) -> str:
    return f"_{setting}" if setting else ""


def planned_files(out: Path, settings: list[str], *, judged: bool, photos: bool) -> ReportFiles:
    """Every file a report of these settings writes."""
    stems = [*(JUDGE_TABLES if judged else ()), *TABLES, *((PHOTO_TABLE,) if photos else ())]
    return ReportFiles(out / REPORT, out / SUMMARY,
                       [out / f"{stem}{suffix(setting)}.csv" for setting in settings for stem in stems],
                       [out / f"{stem}{suffix(setting)}.png" for setting in settings for stem in FIGURES])


def check_outputs(out: Path, settings: list[str], *, judged: bool, photos: bool, overwrite: bool) -> None:
    """``OutputError`` when ``out`` already holds any file the report would write (unless ``overwrite``)."""
    files = planned_files(out, settings, judged=judged, photos=photos)
    existing = [path.name for path in (files.report, files.summary, *files.tables, *files.figures) if path.exists()]
    if existing and not overwrite:
        shown = ", ".join(existing[:4]) + (" ..." if len(existing) > 4 else "")
        raise OutputError(f"{out} already holds a report ({shown}): pass --overwrite to replace it, or choose "
                          "another --out")


def write_report(evaluation: Evaluation, out: Path, *, overwrite: bool = False) -> ReportFiles:
    settings = settings_of(evaluation.specs)
    judged, photos = evaluation.judge is not None, evaluation.photos is not None
    check_outputs(out, settings, judged=judged, photos=photos, overwrite=overwrite)
    files = planned_files(out, settings, judged=judged, photos=photos)
    sections = [_introduction(evaluation)]
    tables, figures = [], []
    for setting in settings:
        section_tables = setting_tables(evaluation, setting)
        for table in section_tables:
            tables.append(write_text(out / f"{table.name}.csv", csv_text(table)))
        chart, grid = (out / f"{stem}{suffix(setting)}.png" for stem in FIGURES)
        figures += [write_bytes(chart, _chart(evaluation, setting)), write_bytes(grid, _grid(evaluation, setting))]
        sections.append(_section(setting, section_tables, chart.name, grid.name, len(settings) > 1 or bool(setting)))
    write_text(files.summary, json.dumps(summary(evaluation, files), indent=1, allow_nan=False) + "\n")
    write_text(files.report, "\n".join(sections))
    return files


# ---------------------------------------------------------------- tables


def methods_of(evaluation: Evaluation, setting: str) -> list[tuple[str, str]]:
    """(name, label) of the identity baseline and the setting's models, in the order given."""
    models = [(spec.name, spec.method) for spec in evaluation.specs if spec.setting == setting]
    return [(IDENTITY, IDENTITY_LABEL), *models]


def setting_tables(evaluation: Evaluation, setting: str) -> list[Table]:
    tables = []
    if evaluation.judge is not None:
        tables += judge_tables(evaluation, setting)
    tables += [*critic_tables(evaluation, setting), image_table(evaluation, setting),
               identity_table(evaluation, setting)]
    if evaluation.photos is not None:
        tables.append(photo_table(evaluation, setting))
    return tables


def _au_columns(digits: int) -> list[Column]:
    return [Column("method", None), *(Column(f"AU{au:02d}", digits) for au in AU_IDS), Column("mean", digits)]


def _mse_row(label: str, agreement: AUAgreement) -> list:
    return [label, *agreement.mse.tolist(), agreement.mean_mse]


def _icc_row(label: str, agreement: AUAgreement) -> list:
    return [label, *agreement.icc.tolist(), agreement.mean_icc]


def _where(setting: str) -> str:
    return f" ({setting})" if setting else ""


def judge_tables(evaluation: Evaluation, setting: str) -> list[Table]:
    floor = evaluation.reference.floor
    methods = methods_of(evaluation, setting)
    pairs = len(evaluation.pairs)
    common = (f"The independent AU judge (a ResNet trained apart from every model's G_exp, on the training "
              f"identities only) reads each method's edit of {pairs} test pairs; the target AUs are the truth. "
              f"The last row is the judge's own reading of the rendered true targets: the floor, what a perfect "
              "edit would score.")
    mse = Table(f"{JUDGE_TABLES[0]}{suffix(setting)}", f"Table 1a{_where(setting)}: per-AU MSE, read by the judge",
                _au_columns(MSE_DIGITS),
                [*(_mse_row(label, evaluation.scores[name].judge) for name, label in methods),
                 _mse_row(FLOOR_LABEL, floor)], [common, "Lower is better."])
    icc = Table(f"{JUDGE_TABLES[1]}{suffix(setting)}", f"Table 1b{_where(setting)}: per-AU ICC(3,1), read by the judge",
                _au_columns(ICC_DIGITS),
                [*(_icc_row(label, evaluation.scores[name].judge) for name, label in methods),
                 _icc_row(FLOOR_LABEL, floor)], [common, "Higher is better; – where an AU is constant."])
    return [mse, icc]


def critic_tables(evaluation: Evaluation, setting: str) -> list[Table]:
    methods = [(evaluation.scores[name], label) for name, label in methods_of(evaluation, setting)[1:]
               if evaluation.scores[name].critic is not None]
    notes = [_critic_note(methods, judged=evaluation.judge is not None)]
    if evaluation.judge is None:
        notes.append("No independent judge was given (--judge): this is the only AU reading in this report. Train "
                     "one with `lsgan train judge --config CONFIG --out RUN_DIR` and pass --judge RUN_DIR.")
    tables = []
    for letter, (kind, digits, row) in zip("cd", (("MSE", MSE_DIGITS, _mse_row), ("ICC(3,1)", ICC_DIGITS, _icc_row))):
        rows = []
        for scores, label in methods:
            trained = "trained against it" if scores.trained_against_critic else "not trained against it"
            rows += [row(f"{label}: edits ({trained})", scores.critic),
                     row(f"{label}: source unchanged", scores.critic_source),
                     row(f"{label}: true targets (its floor)", scores.critic_truth)]
        stem = TABLES[0] if kind == "MSE" else TABLES[1]
        tables.append(Table(f"{stem}{suffix(setting)}",
                            f"Table 1{letter}{_where(setting)}: per-AU {kind}, read by the model's own critic (G_exp)",
                            _au_columns(digits), rows, notes))
    return tables


def _critic_note(methods: list[tuple[MethodScores, str]], *, judged: bool) -> str:
    trained = [label for scores, label in methods if scores.trained_against_critic]
    not_trained = [label for scores, label in methods if not scores.trained_against_critic]
    fair = "the judge's Table 1a/1b is the fair comparison" if judged else \
        "only an independent judge's reading (--judge) compares them fairly"
    return ("Each model's own critic, the G_exp of its bundle, reads the model's edits, the unchanged sources (the "
            "identity baseline as this critic sees it) and the rendered true targets (this critic's own floor). "
            f"Trained against it (its L_au, Eq. 6, reads this G_exp, so an edit may have learnt to fool it): "
            f"{', '.join(trained) or 'none'}; not trained against it (the rivals: their bundles carry the shared "
            f"G_exp only to read a source's AUs, and no loss of theirs reads it): {', '.join(not_trained) or 'none'}. "
            f"This reading therefore favours lsgan and its ablations by construction; {fair}.")


def image_table(evaluation: Evaluation, setting: str) -> Table:
    kid = next(iter(evaluation.scores.values())).kid
    columns = [Column("method", None), Column("FID", 2), Column("KID ×10³", 2), Column("KID ×10³ std", 2),
               Column("PSNR (dB)", 2), Column("SSIM", 4), Column("LPIPS", 4), Column("along", 3)]
    rows = []
    for name, label in methods_of(evaluation, setting):
        s = evaluation.scores[name]
        rows.append([label, s.fid, s.kid.mean * KID_SCALE, s.kid.std * KID_SCALE, s.psnr, s.ssim, s.lpips, s.along])
    notes = [f"Against the rendered true targets of {len(evaluation.pairs)} test pairs. FID and KID compare the set "
             "of edits with the set of true targets (InceptionV3 pool features; FID is biased upwards on a few "
             "hundred images, so compare only FIDs within this table; KID, the unbiased MMD² with the cubic "
             f"polynomial kernel, is the mean and std over {kid.subsets} subsets of {kid.subset_size}). PSNR, SSIM, "
             "LPIPS (AlexNet) and along (the share of the true change the edit makes, in its direction: 0 for the "
             "unchanged source, 1 for the whole change) are per pair, averaged. Lower FID, KID and LPIPS and "
             "higher PSNR, SSIM and along are better."]
    return Table(f"{TABLES[2]}{suffix(setting)}", f"Table 2{_where(setting)}: image quality against the true target",
                 columns, rows, notes)


def identity_table(evaluation: Evaluation, setting: str) -> Table:
    pairs = len(evaluation.pairs)
    columns = [Column("method", None), Column("self-rec PSNR (dB)", 2), Column("self-rec SSIM", 4),
               Column("identity: edit ↔ source", 3), Column("identity: edit ↔ true target", 3),
               Column(f"dlib detector finds a face (of {pairs})", None)]
    rows = []
    for name, label in methods_of(evaluation, setting):
        s = evaluation.scores[name]
        rows.append([label, s.recon_psnr, s.recon_ssim, s.identity_source, s.identity_truth, str(s.dlib_finds)])
    reference = evaluation.reference
    rows.append(["true target (a perfect edit)", None, None, reference.truth_identity, 0.0,
                 str(reference.dlib_finds_truth)])
    notes = ["Self-reconstruction: each method's edit of the source to the source's own AUs (as its G_exp reads "
             f"them), against the source ({MAX_PSNR_DB:g} dB (the cap): unchanged). Identity: mean Euclidean "
             "distance of dlib's 128-d face descriptors (a ResNet no generator trains against; dlib's threshold for "
             f"another person is {SAME_PERSON_THRESHOLD}); the crops are upsampled to {CROP_SIDE} px and described "
             "in the whole-image box. The last column counts the edits in which dlib's own detector finds a face "
             f"(the sources: {reference.dlib_finds_source} of {pairs}); the descriptors do not depend on it."]
    return Table(f"{TABLES[3]}{suffix(setting)}", f"Table 3{_where(setting)}: self-reconstruction and identity",
                 columns, rows, notes)


def photo_table(evaluation: Evaluation, setting: str) -> Table:
    summaries = evaluation.photos or {}
    classifiers = list(next(iter(summaries.values()))["classifiers"]) if summaries else []
    columns = [Column("method", None), Column("photos edited", None), Column("edits done", None),
               *(Column(f"{name} read as asked", 2) for name in classifiers),
               Column("identity distance, mean", 3), Column("identity distance, max", 3),
               Column("FaceRes identity distance, mean", 3), Column("FaceRes identity distance, max", 3),
               Column("detail kept, median", 3), Column("edits changing outside the face", None),
               Column("geometry moved as FACS expects", None), Column("s per edit, median", 2)]
    rows = []
    for name, label in methods_of(evaluation, setting):
        s = summaries[name]
        agrees = [item["agrees"] for readings in s["geometry"].values() for item in readings.values()
                  if item["agrees"] is not None]
        rows.append([label, f"{s['photos_edited']}/{s['photos']}", f"{s['edits_done']}/{s['edits']}",
                     *(s["classifiers"][name]["overall"]["share"] for name in classifiers),
                     s["identity_distance"]["mean"], s["identity_distance"]["max"],
                     s["identity_distance_faceres"]["mean"], s["identity_distance_faceres"]["max"],
                     s["detail_kept"]["median"],
                     str(s["outside_change"]["edits_changing_outside"]), f"{sum(agrees)}/{len(agrees)}",
                     s["seconds"]["per_edit_median"]])
    first = next(iter(summaries.values()), {})
    notes = [f"The real-photo benchmark (`lsgan eval photos`) on {evaluation.photo_folder}: every photo edited to "
             f"{', '.join(first.get('emotions', []))} at intensity {first.get('intensity', 1.0):g} through the "
             "Editor's full-resolution path. Read as asked: the share of edits whose source the classifier did not "
             "already read as the asked expression that it reads so after the edit (fer is held out of every "
             "loss; name+boxes: its probabilities averaged over nine boxes around the face's, "
             "`evaluation.photos.BOX_JITTERS`). Identity: dlib's descriptor distance "
             f"({SAME_PERSON_THRESHOLD}: another person) and HSE FaceRes's cosine distance "
             f"({FACERES_SAME_PERSON_THRESHOLD}). Geometry: (emotion, mesh reading) pairs whose mean change went "
             "the way FACS expects."]
    return Table(f"{PHOTO_TABLE}{suffix(setting)}", f"Real photos{_where(setting)}", columns, rows, notes)


# ---------------------------------------------------------------- figures


def _chart(evaluation: Evaluation, setting: str) -> bytes:
    methods = methods_of(evaluation, setting)
    if evaluation.judge is not None:
        bars = [(label, evaluation.scores[name].judge.mse) for name, label in methods]
        return au_bar_chart(bars, evaluation.reference.floor.mse,
                            f"Per-AU MSE of the edits, read by the independent judge{_where(setting)}")
    bars = [(label, evaluation.scores[name].critic.mse) for name, label in methods[1:]
            if evaluation.scores[name].critic is not None]
    return au_bar_chart(bars, None, f"Per-AU MSE of the edits, read by each model's own critic (G_exp; no judge "
                                    f"given){_where(setting)}")


def _grid(evaluation: Evaluation, setting: str) -> bytes:
    index = evaluation.pairs.grid_index
    columns = [("source", evaluation.pairs.source[index]), ("true target", evaluation.pairs.truth[index])]
    columns += [(label, evaluation.scores[name].grid) for name, label in methods_of(evaluation, setting)[1:]]
    return image_grid(columns, f"Test pairs: source, rendered true target, each method's edit{_where(setting)}")


# ---------------------------------------------------------------- report.md


def _introduction(evaluation: Evaluation) -> str:
    pairs, judge = evaluation.pairs, evaluation.judge
    limit = f", the first {evaluation.limit}" if evaluation.limit is not None else ""
    lines = ["# Model evaluation on SynthFACS test pairs", "",
             f"Data: `{evaluation.data}`, {len(set(pairs.identities))} test identities; {len(pairs)} pairs{limit} "
             "(each test image edited to the AUs of another test image, pairs with equal AUs skipped), scored "
             "against the rendered true target (the source's person, pose and light with the target AUs). Every "
             "method edits the same pairs; a model is given its own G_exp's reading of the source as the source's "
             f"AUs, as `Editor` does. The identity baseline ({IDENTITY_LABEL}) is in every table.", "",
             "Models:", ""]
    lines += [f"- {spec.name}: `{spec.bundle_dir}`" for spec in evaluation.specs]
    lines.append("")
    if judge is not None:
        info = judge.info
        lines.append(f"AU judge: `{info.path}` (ResNet with GroupNorm, seed {info.config.seed}, {info.steps} steps on "
                     f"{len(info.train_identities)} training identities of `{info.data}`, at {info.image_size} px). "
                     f"Its floor, its own error on the true targets of these pairs: MSE "
                     f"{evaluation.reference.floor.mean_mse:.4f}, ICC {evaluation.reference.floor.mean_icc:.3f}.")
    else:
        lines.append("**No independent AU judge was given (--judge)**: the AU tables show only each model's own "
                     "critic (its G_exp), which lsgan's generators trained against and the rivals' did not, so "
                     "they favour lsgan. Train a judge with `lsgan train judge --config CONFIG --out RUN_DIR` and "
                     "pass `--judge RUN_DIR`.")
    lines += [*(f"Note: {note}." for note in evaluation.notes), ""]
    return "\n".join(lines)


def _section(setting: str, tables: list[Table], chart: str, grid: str, titled: bool) -> str:
    lines = [f"## Setting: {setting or 'all models'}", ""] if titled else []
    for table in tables:
        lines += [markdown(table), f"CSV: `{table.name}.csv`", ""]
    lines += [f"![per-AU MSE]({chart})", "", f"![test pairs]({grid})", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- summary.json


def summary(evaluation: Evaluation, files: ReportFiles) -> dict:
    """Every figure of the report as JSON-able values (NaN: null; ±infinity: "inf" / "-inf"; PSNR is capped at
    ``MAX_PSNR_DB``, so an unchanged image's is 100, not infinite)."""
    reference, judge = evaluation.reference, evaluation.judge
    data = {
        "data": str(evaluation.data), "pairs": len(evaluation.pairs), "limit": evaluation.limit,
        "test_identities": sorted(set(evaluation.pairs.identities)),
        "models": {spec.name: str(spec.bundle_dir) for spec in evaluation.specs},
        "settings": settings_of(evaluation.specs),
        "judge": None if judge is None else {
            "file": str(judge.info.path), "seed": judge.info.config.seed, "steps": judge.info.steps,
            "image_size": judge.info.image_size, "trained_on": judge.info.data,
            "train_identities": len(judge.info.train_identities)},
        "floor": _agreement(reference.floor),
        "true_target_identity_distance": reference.truth_identity,
        "dlib_detector_finds": {"sources": reference.dlib_finds_source, "true_targets": reference.dlib_finds_truth,
                                **{name: s.dlib_finds for name, s in evaluation.scores.items()}},
        "methods": {name: _method(s) for name, s in evaluation.scores.items()},
        "photos": evaluation.photos,
        "notes": evaluation.notes,
        "files": [path.name for path in (files.report, *files.tables, *files.figures)],
    }
    return _json_safe(data)


def _agreement(agreement: AUAgreement | None) -> dict | None:
    if agreement is None:
        return None
    return {"mean_mse": agreement.mean_mse, "mean_icc": agreement.mean_icc,
            "per_au": {f"AU{au:02d}": {"mse": float(m), "icc": float(i)}
                       for au, m, i in zip(AU_IDS, agreement.mse, agreement.icc, strict=True)}}


def _method(s: MethodScores) -> dict:
    return {"judge": _agreement(s.judge), "own_critic": _agreement(s.critic),
            "trained_against_own_critic": s.trained_against_critic,
            "own_critic_on_sources": _agreement(s.critic_source), "own_critic_on_true_targets": _agreement(s.critic_truth),
            "fid": s.fid, "kid": {"mean": s.kid.mean, "std": s.kid.std, "subsets": s.kid.subsets,
                                  "subset_size": s.kid.subset_size},
            "psnr": s.psnr, "ssim": s.ssim, "lpips": s.lpips, "along": s.along,
            "self_reconstruction": {"psnr": s.recon_psnr, "ssim": s.recon_ssim},
            "identity_distance": {"to_source": s.identity_source, "to_true_target": s.identity_truth}}


def _json_safe(value: object) -> object:
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number):
            return None
        return number if math.isfinite(number) else ("inf" if number > 0 else "-inf")
    if isinstance(value, np.integer):
        return int(value)
    return value
