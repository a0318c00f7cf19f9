"""The real-photo benchmark's outputs: ``results.csv`` (one row per photo × emotion), ``summary.json``,
``report.md`` (Markdown tables, also printed by the CLI) and ``contact_sheet.png`` (rows: photos; columns: the
source face, then its edit to each emotion, labelled with the held-out classifier's top read)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lsgan.data.images import write_image
from lsgan.evaluation.photos import BenchmarkResult, EditRow, SheetRow
from lsgan.metrics.photo import ONE_SIDED_AUS, READING_AUS, READING_DOCS, READINGS
from lsgan.atomic import write_text


@dataclass
class ReportFiles:
    report: Path
    results: Path
    summary: Path
    contact_sheet: Path


def write_report(result: BenchmarkResult, summary: dict, out: Path) -> ReportFiles:
    """Write the four outputs into ``out`` (each atomically)."""
    files = ReportFiles(out / "report.md", out / "results.csv", out / "summary.json", out / "contact_sheet.png")
    write_text(files.results, results_csv(result))
    write_text(files.summary, json.dumps(summary, indent=1) + "\n")
    write_text(files.report, report_markdown(summary))
    write_image(files.contact_sheet, contact_sheet(result.sheet, result.emotions))
    return files


# ---------------------------------------------------------------- results.csv


def csv_header(classifiers: tuple[str, ...]) -> list[str]:
    reads = [f"{name}_{key}" for name in classifiers for key in ("source_top", "source_p", "edit_top", "edit_p")]
    return ["photo", "emotion", "status", "reason", "seconds", "identity_distance", "identity_distance_faceres",
            "detail_kept", "outside_max_abs", "outside_changed_share", *[f"d_{reading}" for reading in READINGS],
            *reads]


def results_csv(result: BenchmarkResult) -> str:
    """One line per photo × emotion; empty cells where a measure does not apply (failed edit, no mesh, contempt
    for the classifiers' probabilities)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_header(result.classifiers))
    for row in result.rows:
        writer.writerow(_csv_values(row, result.classifiers))
    return buffer.getvalue()


def _csv_values(row: EditRow, classifiers: tuple[str, ...]) -> list[str]:
    values = [row.name, row.emotion, row.status, row.reason, _cell(row.seconds, 3),
              _cell(row.identity_distance, 4), _cell(row.identity_distance_faceres, 4), _cell(row.detail_kept, 4),
              _cell(row.outside_max_abs, 0), _cell(row.outside_changed_share, 5),
              *[_cell(row.geometry.get(name), 4) for name in READINGS]]
    for name in classifiers:
        read = row.reads.get(name)
        values += ([read.source_top, _cell(read.source_p, 4), read.edit_top, _cell(read.edit_p, 4)] if read
                   else ["", "", "", ""])
    return values


def _cell(value: float | None, digits: int) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:.{digits}f}"


# ---------------------------------------------------------------- report.md


def _count(number: int, noun: str) -> str:
    """"1 photo", "14 photos"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _faces_note(summary: dict) -> str:
    faces = summary.get("faces", summary["photos"])
    return "" if faces == summary["photos"] else f" ({faces} faces: a photo with several is measured at each)"


def report_markdown(summary: dict) -> str:
    """The summary as Markdown: counts, classifier reads, identity/detail/outside change, geometry, timing."""
    lines = [f"# Real-photo benchmark: {summary['model']}", "",
             f"{_count(summary['photos'], 'photo')}{_faces_note(summary)}, "
             f"{summary['photos_edited']} with a face edited; "
             f"emotions {', '.join(summary['emotions'])} at intensity {summary['intensity']:g}; "
             f"{summary['edits_done']} of {summary['edits']} edits done (one per face and emotion).", ""]
    if summary["photos_failed"] or summary["edits_failed"]:
        lines += ["## Not edited", "", "| photo | emotion | reason |", "|---|---|---|"]
        lines += [f"| {item['photo']} | all | {item['reason']} |" for item in summary["photos_failed"]]
        lines += [f"| {item['photo']} | {item['emotion']} | {item['reason']} |" for item in summary["edits_failed"]]
        lines.append("")
    lines += _classifier_section(summary)
    identity, detail, outside = summary["identity_distance"], summary["detail_kept"], summary["outside_change"]
    second = summary["identity_distance_faceres"]
    lines += ["## Identity, detail, change outside the face", "", "| measure | value |", "|---|---|",
              f"| identity distance (dlib), mean | {_fmt(identity['mean'])} |",
              f"| identity distance, max | {_fmt(identity['max'])} |",
              f"| edits at or over {identity['threshold']} (dlib: another person) | {identity['over_threshold']} |",
              f"| identity distance (HSE FaceRes, cosine), mean | {_fmt(second['mean'])} |",
              f"| identity distance (HSE FaceRes), max | {_fmt(second['max'])} |",
              f"| edits at or over {second['threshold']} (FaceRes: another person) | {second['over_threshold']} |",
              f"| detail kept (Laplacian variance edit / source), median | {_fmt(detail['median'])} |",
              f"| detail kept, min | {_fmt(detail['min'])} |",
              f"| change outside the face: max abs pixel difference | {_fmt(outside['max_abs'], 0)} |",
              f"| change outside the face: max share of pixels changed | {_fmt(outside['max_changed_share'], 4)} |",
              f"| edits that changed any pixel outside the face | {outside['edits_changing_outside']} |",
              f"| seconds per edit (editor.edit), mean | {_fmt(summary['seconds']['per_edit_mean'], 2)} |",
              f"| seconds per edit, median (the first edit also loads the detectors) | "
              f"{_fmt(summary['seconds']['per_edit_median'], 2)} |",
              f"| seconds per photo (all its emotions), mean | {_fmt(summary['seconds']['per_photo_mean'], 2)} |",
              ""]
    lines += _geometry_section(summary)
    return "\n".join(lines) + "\n"


def _classifier_section(summary: dict) -> list[str]:
    if not summary["classifiers"]:
        return ["## Expression classifiers", "", "none run (--classifiers none)", ""]
    lines = ["## Expression classifiers", "",
             "Read as asked: top class = the asked emotion, among edits whose source the classifier did not "
             "already read so. p before / after: mean probability of the asked emotion, over every edit. "
             "name+boxes: the same with each face's probabilities averaged over nine boxes around its detector box "
             "(0.9-1.1 times as large, moved up or down by 5 % of its width), a read that does not rest on one "
             "box.", "",
             "| classifier | emotion | read as asked | share | p before | p after |", "|---|---|---|---|---|---|"]
    for name, figures in summary["classifiers"].items():
        label = f"{name} (held out)" if figures["held_out"] else name
        for emotion, item in [*figures["per_emotion"].items(), ("all", figures["overall"])]:
            lines.append(f"| {label} | {emotion} | {item['read_as_asked']}/{item['eligible']} | "
                         f"{_fmt(item['share'], 2)} | {_fmt(item['p_before'])} | {_fmt(item['p_after'])} |")
    return [*lines, ""]


def _geometry_section(summary: dict) -> list[str]:
    lines = ["## Geometry (mediapipe mesh, edit − source, in inter-ocular distances)", "",
             "Each cell: mean change (expected sign by FACS; ✓ the mean moved that way, ✗ it did not, · no "
             "expectation), then the share of edits that moved the expected way. Edits without a mesh on both sides: "
             f"{summary['geometry_missing']}.", ""]
    lines += _geometry_table(summary, lambda item: item)
    if any(item["vs_neutral"] for readings in summary["geometry"].values() for item in readings.values()):
        lines += ["", "The same, minus the same photo's edit to neutral (what every edit does alike taken out):", ""]
        lines += _geometry_table(summary, lambda item: item["vs_neutral"])
    lines += ["", "| reading | what | AUs (+ grows, − shrinks) |", "|---|---|---|"]
    lines += [f"| {reading} | {READING_DOCS[reading]} | "
              + (", ".join(f"AU{au}{'+' if way > 0 else '−'}" for au, way in READING_AUS[reading].items())
                 or _one_sided(reading)) + " |"
              for reading in READINGS]
    return [*lines, ""]


def _one_sided(reading: str) -> str:
    aus = ", ".join(f"AU{au}" for au in ONE_SIDED_AUS[reading])
    return f"one-sided {aus}: + on the picture's left, − on its right"


def _geometry_table(summary: dict, pick: Callable[[dict], dict | None]) -> list[str]:
    """Readings as rows (there are more of them than emotions), the emotions that have figures as columns."""
    signs = {1: "+", -1: "−", 0: "·"}
    emotions = [emotion for emotion, readings in summary["geometry"].items()
                if any(pick(item) is not None for item in readings.values())]
    lines = ["| reading | " + " | ".join(emotions) + " |", "|---|" + "---|" * len(emotions)]
    for reading in READINGS:
        cells = []
        for emotion in emotions:
            item = pick(summary["geometry"][emotion][reading])
            if item is None:
                cells.append("–")
                continue
            mark = "" if item["agrees"] is None else (" ✓" if item["agrees"] else " ✗")
            share = "" if item["share_expected_way"] is None else f" {item['share_expected_way']:.0%}"
            cells.append(f"{_fmt(item['mean_change'], 3, signed=True)} "
                         f"({signs[summary['geometry'][emotion][reading]['expected_sign']]}){mark}{share}")
        lines.append(f"| {reading} | " + " | ".join(cells) + " |")
    return lines


def _fmt(value: float | None, digits: int = 3, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


# ---------------------------------------------------------------- contact_sheet.png

LABEL_LINES = 2
LINE_HEIGHT = 12
PAD = 4


def contact_sheet(sheet: list[SheetRow], emotions: tuple[str, ...]) -> np.ndarray:
    """uint8 ``H×W×3``: a header with the column names, then one row per photo (grey where an edit failed)."""
    cell = next((image.shape[0] for row in sheet for image in row.cells if image is not None), 128)
    columns = 1 + len(emotions)
    row_height = cell + LABEL_LINES * LINE_HEIGHT + PAD
    canvas = Image.new("RGB", (columns * (cell + PAD) + PAD, LINE_HEIGHT + PAD + len(sheet) * row_height),
                       "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=10)
    for column, title in enumerate(("source", *emotions)):
        draw.text((PAD + column * (cell + PAD), 1), title, fill="black", font=font)
    for index, row in enumerate(sheet):
        top = LINE_HEIGHT + PAD + index * row_height
        for column, (image, label) in enumerate(zip(row.cells, row.labels)):
            left = PAD + column * (cell + PAD)
            if image is None:
                draw.rectangle((left, top, left + cell - 1, top + cell - 1), fill=(200, 200, 200))
            else:
                canvas.paste(Image.fromarray(image), (left, top))
            text = f"{row.photo}\nnot edited: {row.failure}" if column == 0 and row.failure else label
            for line_index, line in enumerate(text.split("\n")[:LABEL_LINES]):
                draw.text((left, top + cell + 1 + line_index * LINE_HEIGHT), _fit(draw, line, font, cell),
                          fill="black", font=font)
    return np.asarray(canvas)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"
