"""``scientia datasets``: the bundled real datasets with their provenance."""

from __future__ import annotations

from rich.table import Table

from scientia.cli._common import console, handle_errors


@handle_errors
def datasets() -> None:
    """List the bundled datasets: rows, title, citation and license."""
    from scientia.datasets import list_datasets

    table = Table(title="bundled datasets", show_lines=True)
    for col in ("name", "rows", "title", "citation", "license"):
        short = col in ("name", "rows")
        table.add_column(col, justify="right" if col == "rows" else "left", overflow="fold", no_wrap=short)
    for sheet in list_datasets():
        table.add_row(sheet.name, f"{sheet.rows:,}", sheet.title, sheet.citation, sheet.license)
    console().print(table)
