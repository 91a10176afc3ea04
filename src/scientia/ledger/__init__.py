"""The append-only campaign ledger."""

from scientia.ledger.store import SCHEMA_VERSION, Event, Ledger, NewEvent, open_ledger

__all__ = ["SCHEMA_VERSION", "Event", "Ledger", "NewEvent", "open_ledger"]
