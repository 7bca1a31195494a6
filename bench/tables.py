"""The one table writer of the bench reports: aligned text for the terminal, Markdown for files."""

from __future__ import annotations


def aligned(rows: list[list[str]], label_column: bool = False) -> list[str]:
    """Render rows as right-aligned text lines; with ``label_column`` the first column is left-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(w) if label_column and i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


def markdown_table(rows: list[list[str]]) -> list[str]:
    """Render rows as Markdown table lines, header first."""
    head, *body = rows
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(row) + " |" for row in body),
    ]
