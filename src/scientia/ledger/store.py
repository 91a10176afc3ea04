"""Append-only event ledger on SQLite (default) or PostgreSQL, through SQLAlchemy Core.

Every change to a campaign is an event with a sequence number; a campaign is rebuilt by replaying
its events. Events that must happen at most once (an observation answering a proposal, a proposal
id) carry a ``dedup_key`` with a unique index, so a process killed between "measured" and
"recorded" and started again can never record the same thing twice: the second insert is a no-op.
Several events written together (a results file) go in one transaction: all or nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from scientia.errors import LedgerError, UnknownNameError, ValidationError
from scientia.types import utcnow

__all__ = ["SCHEMA_VERSION", "Event", "Ledger", "NewEvent", "open_ledger"]

SCHEMA_VERSION = 1
_MIGRATE_LOCK = 0x5C1E  # advisory lock key held while a PostgreSQL ledger creates its schema

EVENT_KINDS = (
    "campaign_created",
    "proposal",
    "review",
    "observation",
    "model_fitted",
    "error",
    "note",
)

_metadata = sa.MetaData()
_info = sa.Table(
    "scientia_info",
    _metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
_campaigns = sa.Table(
    "campaigns",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("created_at", sa.String(40), nullable=False),
)
_events = sa.Table(
    "events",
    _metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id"), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("dedup_key", sa.String(200), nullable=True),
    sa.UniqueConstraint("campaign_id", "dedup_key", name="uq_events_dedup"),
)
sa.Index("ix_events_campaign_seq", _events.c.campaign_id, _events.c.seq)


@dataclass(frozen=True)
class Event:
    """One ledger entry."""

    seq: int
    campaign_id: int
    kind: str
    payload: dict[str, Any]
    actor: str
    created_at: str
    dedup_key: str | None = None


@dataclass(frozen=True)
class NewEvent:
    """An event to append: its kind, payload, and optional actor and dedup key."""

    kind: str
    payload: Mapping[str, Any]
    actor: str = "scientia"
    dedup_key: str | None = None


def _url(location: str) -> str:
    """A SQLAlchemy URL: a path means SQLite; ``postgresql://`` uses the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if location.startswith(prefix):
            return "postgresql+psycopg://" + location.removeprefix(prefix)
    if "://" in location:
        return location
    return f"sqlite:///{os.path.abspath(location)}"


def _shown(location: str) -> str:
    """The location for messages, without a password."""
    if "://" not in location:
        return location
    try:
        return sa.engine.make_url(location).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return location


class Ledger:
    """An append-only store of campaign events.

    Parameters
    ----------
    location : str
        A file path (SQLite) or a SQLAlchemy URL (``postgresql+psycopg://…``).
    create : bool
        Create the file and schema if missing; otherwise a missing file is an error.
    """

    def __init__(self, location: str, create: bool = True) -> None:
        self.location = _shown(location)
        url = _url(location)
        self.is_sqlite = url.startswith("sqlite")
        self.is_postgres = url.startswith("postgresql")
        if self.is_sqlite and not create and not os.path.exists(url.removeprefix("sqlite:///")):
            raise LedgerError(f"no ledger file at {location!r}; create one with `scientia init`")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        try:
            self.engine = sa.create_engine(url, **kwargs)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise LedgerError(f"cannot open ledger {self.location!r}: {exc}") from None
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._migrate()

    def _migrate(self) -> None:
        for attempt in range(10):
            try:
                with self.engine.begin() as conn:
                    if self.is_postgres:  # DDL is transactional here: one creator at a time
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATE_LOCK})
                    _metadata.create_all(conn)
                    row = conn.execute(
                        sa.select(_info.c.value).where(_info.c.key == "schema_version")
                    ).first()
                    if row is None:
                        conn.execute(sa.insert(_info).values(key="schema_version", value=str(SCHEMA_VERSION)))
                    elif int(row[0]) > SCHEMA_VERSION:
                        raise LedgerError(
                            f"ledger {self.location!r} has schema version {row[0]}, newer than this "
                            f"scientia ({SCHEMA_VERSION}); upgrade scientia"
                        )
                return
            except IntegrityError:  # another process created the schema row first
                return
            except OperationalError as exc:
                # another process creating the same new ledger ran its CREATE TABLE between our
                # existence check and ours (SQLite DDL is not transactional here), or held the
                # write lock when our read transaction tried to write (SQLite reports that at once,
                # without waiting, to avoid a deadlock): look again
                if ("already exists" in str(exc) or "locked" in str(exc)) and attempt < 9:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise LedgerError(f"cannot open ledger {self.location!r}: {_first_line(exc.orig)}") from None
            except sa.exc.DatabaseError as exc:
                raise LedgerError(f"cannot open ledger {self.location!r}: {_first_line(exc.orig)}") from None
            except sa.exc.InterfaceError as exc:
                raise LedgerError(f"cannot open ledger {self.location!r}: {_first_line(exc.orig)}") from None

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(_info.c.value).where(_info.c.key == "schema_version")).scalar_one()
            )

    # -- campaigns ---------------------------------------------------------------------------
    def create_campaign(
        self,
        name: str,
        config: Mapping[str, Any],
        versions: Mapping[str, str],
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        """Create a campaign and its ``campaign_created`` event in one transaction."""
        if not name or len(name) > 200:
            raise ValidationError("a campaign name must have 1 to 200 characters")
        now = utcnow()
        try:
            with self.engine.begin() as conn:
                key = conn.execute(
                    sa.insert(_campaigns).values(name=name, created_at=now)
                ).inserted_primary_key
                assert key is not None
                cid = key[0]
                conn.execute(
                    sa.insert(_events).values(
                        campaign_id=cid,
                        kind="campaign_created",
                        payload=json.dumps(
                            {"config": dict(config), "versions": dict(versions), **(extra or {})}
                        ),
                        actor="scientia",
                        created_at=now,
                        dedup_key="created",
                    )
                )
        except IntegrityError:
            raise ValidationError(
                f"a campaign named {name!r} already exists in {self.location}; choose another name"
            ) from None
        return int(cid)

    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign with its id, name, creation time and number of events."""
        q = (
            sa.select(
                _campaigns.c.id,
                _campaigns.c.name,
                _campaigns.c.created_at,
                sa.func.count(_events.c.seq).label("events"),
            )
            .select_from(_campaigns.outerjoin(_events, _events.c.campaign_id == _campaigns.c.id))
            .group_by(_campaigns.c.id, _campaigns.c.name, _campaigns.c.created_at)
            .order_by(_campaigns.c.id)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def campaign_id(self, ref: str | int) -> int:
        """Resolve a campaign name (or numeric id) to its id."""
        rows = self.campaigns()
        for r in rows:
            if r["name"] == str(ref) or str(r["id"]) == str(ref):
                return int(r["id"])
        raise UnknownNameError.for_name("campaign", ref, [r["name"] for r in rows])

    def campaign_name(self, campaign_id: int) -> str:
        with self.engine.connect() as conn:
            name = conn.execute(sa.select(_campaigns.c.name).where(_campaigns.c.id == campaign_id)).scalar()
        if name is None:
            raise UnknownNameError(f"unknown campaign id {campaign_id}")
        return str(name)

    # -- events ------------------------------------------------------------------------------
    def append(
        self,
        campaign_id: int,
        kind: str,
        payload: Mapping[str, Any],
        *,
        actor: str = "scientia",
        dedup_key: str | None = None,
    ) -> int | None:
        """Append one event; return its sequence number, or None if ``dedup_key`` was taken."""
        seqs = self.append_many(
            campaign_id, [NewEvent(kind, payload, actor, dedup_key)], skip_duplicates=True
        )
        return seqs[0]

    def append_many(
        self, campaign_id: int, events: Sequence[NewEvent], *, skip_duplicates: bool = False
    ) -> list[int | None]:
        """Append several events in one transaction.

        With ``skip_duplicates`` an event whose ``dedup_key`` exists is skipped (None in the
        result); otherwise a duplicate aborts the whole transaction with ``ValidationError``.
        """
        for e in events:
            if e.kind not in EVENT_KINDS:
                raise ValidationError(f"unknown event kind {e.kind!r}")
        out: list[int | None] = []
        for attempt in range(20):
            try:
                with self.engine.begin() as conn:
                    if self.is_postgres:
                        # one writer per campaign at a time, so sequence numbers are committed in
                        # order and a reader that has seen seq n never misses a later-committed
                        # smaller one (incremental replay relies on this; SQLite has one writer)
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(campaign_id)})
                    out = []
                    for e in events:
                        if (
                            skip_duplicates
                            and e.dedup_key is not None
                            and self._has_key(conn, campaign_id, e.dedup_key)
                        ):
                            out.append(None)
                            continue
                        res = conn.execute(
                            sa.insert(_events).values(
                                campaign_id=campaign_id,
                                kind=e.kind,
                                payload=json.dumps(dict(e.payload), default=_json_default),
                                actor=e.actor,
                                created_at=utcnow(),
                                dedup_key=e.dedup_key,
                            )
                        )
                        assert res.inserted_primary_key is not None
                        out.append(int(res.inserted_primary_key[0]))
                return out
            except IntegrityError:
                if skip_duplicates and attempt < 19:
                    continue  # a concurrent writer took a key between our check and insert
                raise ValidationError(
                    "this would record an event twice (duplicate key); nothing was written"
                ) from None
            except OperationalError as exc:  # database is locked: retry a little later
                if "locked" not in str(exc) or attempt == 19:
                    raise LedgerError(f"ledger write failed: {exc.orig}") from None
                import time

                time.sleep(0.05 * (attempt + 1))
        return out

    @staticmethod
    def _has_key(conn: sa.Connection, campaign_id: int, key: str) -> bool:
        q = sa.select(_events.c.seq).where(
            (_events.c.campaign_id == campaign_id) & (_events.c.dedup_key == key)
        )
        return conn.execute(q).first() is not None

    def events(self, campaign_id: int, *, since: int = 0, kinds: Iterable[str] | None = None) -> list[Event]:
        """Events of a campaign in sequence order, optionally after ``since`` and of ``kinds``."""
        q = sa.select(_events).where((_events.c.campaign_id == campaign_id) & (_events.c.seq > since))
        if kinds is not None:
            q = q.where(_events.c.kind.in_(list(kinds)))
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(_events.c.seq)).all()
        return [
            Event(r.seq, r.campaign_id, r.kind, json.loads(r.payload), r.actor, r.created_at, r.dedup_key)
            for r in rows
        ]

    def close(self) -> None:
        self.engine.dispose()


def _first_line(exc: BaseException | None) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"cannot store {type(o).__name__} in the ledger")


def open_ledger(location: str, create: bool = False) -> Ledger:
    """Open an existing ledger (or create it with ``create=True``)."""
    return Ledger(location, create=create)
