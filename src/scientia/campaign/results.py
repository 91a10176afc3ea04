"""Results files: proposals written out as a CSV template, filled-in results read back.

A person runs the proposed experiments, fills in one column per objective and imports the file.
:func:`read_results` validates the *whole* file before anything is recorded and names the first
problem with its row (numbered as in a spreadsheet, the header being row 1) and column, so a bad
file never leaves half its rows in the ledger. The CLI (``scientia suggest --out`` /
``scientia observe``) and the web app share these functions.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from scientia.errors import UnknownNameError, ValidationError, did_you_mean
from scientia.types import Observation

if TYPE_CHECKING:
    from scientia.campaign.loop import Campaign
    from scientia.proposers.base import Proposal

__all__ = ["already_imported", "file_digest", "proposals_csv", "read_results", "template_columns"]

PROPOSAL_ID = "proposal_id"
STATUS = "status"
_STATUSES = ("ok", "failed")


def template_columns(campaign: Campaign) -> list[str]:
    """Columns of a results template: ``proposal_id``, every parameter, every objective."""
    return [PROPOSAL_ID, *campaign.space.names, *(o.name for o in campaign.objectives)]


def proposals_csv(campaign: Campaign, proposals: Sequence[Proposal]) -> str:
    """Proposals as CSV text with one empty column per objective, to be filled in by hand.

    Parameter values are written with full precision (``repr`` of floats), so that a row read
    back by :func:`read_results` is exactly the proposed candidate.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(template_columns(campaign))
    empty = [""] * len(campaign.objectives)
    for p in proposals:
        writer.writerow([p.id, *(p.candidate.params[n] for n in campaign.space.names), *empty])
    return buf.getvalue()


def file_digest(data: bytes) -> str:
    """The SHA-256 of a file's bytes: the ``source`` that makes re-importing it a no-op."""
    return hashlib.sha256(data).hexdigest()


def already_imported(campaign: Campaign, source: str) -> bool:
    """Whether observations from ``source`` (see :func:`file_digest`) are in the ledger."""
    return any(o.metadata.get("source") == source for o in campaign.observations())


def parse_number(text: str, where: str) -> float:
    """A finite number from a results cell or form field; ``where`` names it in the error."""
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValidationError(f"{where}: {text!r} is not a finite number; set status to failed instead")
    return value


def _header(
    raw: list[str], name: str, known: list[str], params: list[str], objectives: list[str]
) -> list[str]:
    header = [h.strip() for h in raw]
    for i, col in enumerate(header):
        if not col:
            raise ValidationError(f"{name}: column {i + 1} of the header has no name")
        if header.index(col) != i:
            raise ValidationError(f"{name}: column {col!r} appears twice in the header")
        if col not in known:
            raise ValidationError(f"{name}: unknown column {col!r}{did_you_mean(col, known)}")
    for col in params:
        if col not in header:
            raise ValidationError(f"{name}: missing column {col!r}; every parameter needs a column")
    for col in objectives:
        if col not in header:
            raise ValidationError(f"{name}: missing column {col!r} for the objective {col!r}")
    return header


def read_results(campaign: Campaign, data: bytes, name: str = "results") -> list[Observation]:
    """Parse and validate a results file (CSV bytes) against a campaign.

    Columns: every parameter of the space, every objective, and optionally ``proposal_id`` (the
    proposal a row answers) and ``status`` (``ok`` or ``failed``; a failed row may leave its
    objectives empty). The parameters are what was actually run: they are validated against the
    space (range, choices, constraints, pool) and may differ from those proposed.

    Parameters
    ----------
    campaign : Campaign
    data : bytes
        The file's content (UTF-8, optionally with a byte-order mark).
    name : str
        The file's name, used in error messages.

    Returns
    -------
    list of Observation
        One per data row, in file order, with the row number in ``metadata["row"]``.

    Raises
    ------
    ValidationError
        Naming the first problem: an empty file, an unknown column (with the closest valid name),
        a missing column, a value out of range / not a choice / not in the pool, a non-numeric
        outcome, an unknown or already answered proposal, or a row repeated within the file.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{name}: not a UTF-8 text (CSV) file") from None
    if not text.strip():
        raise ValidationError(
            f"{name} is empty; expected a header row ({', '.join(template_columns(campaign))}) "
            "and one row per experiment"
        )
    params = list(campaign.space.names)
    objectives = [o.name for o in campaign.objectives]
    known = [PROPOSAL_ID, *params, *objectives, STATUS]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise ValidationError(f"{name}: row {reader.line_num}: not valid CSV ({exc})") from None
    # spreadsheets append empty columns and rows: drop them
    records = [(n, row) for n, row in records if any(cell.strip() for cell in row)]
    if not records:
        raise ValidationError(f"{name} is empty; expected a header row and one row per experiment")
    width = len(records[0][1])
    while (
        width > 0
        and not records[0][1][width - 1].strip()
        and all(len(r) < width or not r[width - 1].strip() for _, r in records[1:])
    ):
        width -= 1
    header = _header(records[0][1][:width], name, known, params, objectives)
    if len(records) == 1:
        raise ValidationError(f"{name} has a header but no rows")

    pending = {p.id: p for p in campaign.pending_proposals()}
    answered = {o.proposal_id for o in campaign.observations() if o.proposal_id}
    seen_rows: dict[tuple[Any, ...], int] = {}
    seen_ids: dict[str, int] = {}
    out: list[Observation] = []
    for line, raw in records[1:]:
        if len(raw) > width and any(c.strip() for c in raw[width:]):
            raise ValidationError(
                f"{name}: row {line} has {len(raw)} cells but the header has {width} columns"
            )
        cells = {col: (raw[i].strip() if i < len(raw) else "") for i, col in enumerate(header)}
        status = cells.get(STATUS, "").lower() or "ok"
        if status not in _STATUSES:
            raise ValidationError(
                f"{name}: row {line}, column 'status': {cells[STATUS]!r} is not one of {', '.join(_STATUSES)}"
            )
        for p in params:
            if not cells[p]:
                raise ValidationError(
                    f"{name}: row {line}, column {p!r}: empty; every parameter needs a value"
                )
        try:
            candidate = campaign.space.candidate({p: cells[p] for p in params})
        except (ValidationError, UnknownNameError) as exc:
            raise ValidationError(f"{name}: row {line}: {exc}") from None
        outcomes: dict[str, float] = {}
        for o in objectives:
            where = f"{name}: row {line}, column {o!r}"
            if cells[o]:
                outcomes[o] = parse_number(cells[o], where)
            elif status == "ok":
                raise ValidationError(f"{where}: empty; give a number, or set status to failed")
        pid = cells.get(PROPOSAL_ID) or None
        if pid is not None:
            if pid in seen_ids:
                raise ValidationError(
                    f"{name}: row {line}: proposal {pid!r} is answered again (first in row {seen_ids[pid]})"
                )
            if pid in answered:
                raise ValidationError(f"{name}: row {line}: proposal {pid!r} already has an observation")
            if pid not in pending:
                raise ValidationError(
                    f"{name}: row {line}: {pid!r} is not a pending proposal of {campaign.name!r}"
                    f"{did_you_mean(pid, pending)}"
                )
            seen_ids[pid] = line
        key = (candidate.id, status, tuple(sorted(outcomes.items())), pid)
        if key in seen_rows:
            raise ValidationError(f"{name}: row {line} repeats row {seen_rows[key]}; remove one of them")
        seen_rows[key] = line
        meta = {"file": name, "row": line}
        out.append(Observation(candidate, outcomes, status=status, metadata=meta, proposal_id=pid))  # type: ignore[arg-type]
    return out
