"""The one table writer of the evaluation reports: the same rows to Markdown and to CSV, every number of a column
with that column's decimals, NaN and missing values as "–", infinities as "∞" (PSNR is capped at
``metrics.image.MAX_PSNR_DB``, so an unchanged image reads 100 dB, not ∞).

    table = Table("table2_images", "Image quality", [Column("method", None), Column("PSNR (dB)", 2)], rows)
    markdown(table); csv_text(table)
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from dataclasses import dataclass, field

MISSING = "–"
INFINITY = "∞"
Cell = str | int | float | None


@dataclass(frozen=True)
class Column:
    """A column: its header and the decimals of its numbers (``None``: a text column, e.g. the method)."""

    name: str
    digits: int | None = 3


@dataclass
class Table:
    """``name``: the file stem of its CSV; ``title`` and ``notes``: what the Markdown says above it."""

    name: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.name}: a row has {len(row)} cells for {len(self.columns)} columns")


def format_cell(value: Cell, digits: int | None) -> str:
    """A cell as text: numbers with ``digits`` decimals (ints as they are), NaN/None as "–", ±inf as "∞"/"-∞"."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return str(int(value))
    number = float(value)
    if math.isnan(number):
        return MISSING
    if math.isinf(number):
        return INFINITY if number > 0 else f"-{INFINITY}"
    return f"{number:.{3 if digits is None else digits}f}"


def formatted_rows(table: Table) -> list[list[str]]:
    return [[format_cell(value, column.digits) for value, column in zip(row, table.columns, strict=True)]
            for row in table.rows]


def markdown(table: Table, heading: str = "###") -> str:
    """The title as a heading, the notes as a paragraph, then a pipe table (number columns right-aligned)."""
    lines = [f"{heading} {table.title}", ""]
    if table.notes:
        lines += [" ".join(table.notes), ""]
    lines.append("| " + " | ".join(_escape(column.name) for column in table.columns) + " |")
    lines.append("|" + "|".join("---" if column.digits is None else "---:" for column in table.columns) + "|")
    lines += ["| " + " | ".join(_escape(cell) for cell in row) + " |" for row in formatted_rows(table)]
    return "\n".join(lines) + "\n"


def csv_text(table: Table) -> str:
    """The header and the same formatted cells as ``markdown``, one CSV line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column.name for column in table.columns])
    writer.writerows(formatted_rows(table))
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
