"""The web app's handle on a ledger: one cached campaign per process, read and write sides.

Opening a :class:`~scientia.campaign.Campaign` parses its config and builds its space (for a
pool, a table of thousands of rows), so each campaign is opened once per process and kept.
Requests run in a thread pool, so every campaign has two sides, each with its own lock:

* the **write side**, the :class:`Campaign` itself, used for suggest, review and observe under
  :attr:`Entry.write_lock` (one write at a time per campaign in this process; between
  processes the ledger's unique keys keep a decision or an observation from being recorded
  twice);
* the **read side**, a :class:`~scientia.web.views.CampaignView` folding the same events for
  the pages under its own lock, so pages keep loading while a slow proposal round (fitting a
  model) holds the write lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scientia.campaign import Campaign
from scientia.errors import UnknownNameError
from scientia.ledger import Ledger
from scientia.web.views import CampaignView

if TYPE_CHECKING:
    from scientia.config import CampaignConfig

__all__ = ["CampaignStore", "Entry"]


@dataclass
class Entry:
    """One open campaign: the engine object for writes and the cached view for reads."""

    campaign: Campaign
    view: CampaignView
    write_lock: threading.Lock

    def synced(self) -> CampaignView:
        """The view brought up to date with the ledger (call while holding ``view.lock``)."""
        self.view.sync(self.campaign.ledger)
        return self.view


class CampaignStore:
    """Campaigns of one ledger, opened on first use and kept for the life of the process.

    Parameters
    ----------
    location : str
        A SQLite file or SQLAlchemy URL.
    create : bool
        Create the ledger if it does not exist (otherwise that is an error).
    """

    def __init__(self, location: str, create: bool = False) -> None:
        self.location = location
        self.ledger = Ledger(location, create=create)
        self._lock = threading.Lock()
        self._entries: dict[int, Entry] = {}

    def close(self) -> None:
        self.ledger.close()

    def campaigns(self) -> list[dict[str, Any]]:
        """Id, name, creation time and number of events of every campaign."""
        return self.ledger.campaigns()

    def entry(self, ref: int | str) -> Entry:
        """The campaign with this id (or name), opened once.

        Raises
        ------
        UnknownNameError
            No such campaign in the ledger.
        """
        with self._lock:
            if isinstance(ref, int) and ref in self._entries:
                return self._entries[ref]
            cid = self.ledger.campaign_id(ref)
            if cid not in self._entries:
                self._entries[cid] = self._open(Campaign(self.ledger, cid))
            return self._entries[cid]

    def _open(self, camp: Campaign) -> Entry:
        view = CampaignView(camp.id, camp.name, camp.config, camp.space)
        return Entry(camp, view, threading.Lock())

    def create(self, config: CampaignConfig) -> Entry:
        """Create a campaign from a validated config and keep it open."""
        camp = Campaign.create(config, self.ledger)
        entry = self._open(camp)
        with self._lock:
            self._entries[camp.id] = entry
        return entry

    def require(self, cid: int) -> Entry:
        """Like :meth:`entry` for a numeric id from a URL, with a plain message when unknown."""
        try:
            return self.entry(cid)
        except UnknownNameError:
            raise UnknownNameError(f"there is no campaign {cid} in this ledger") from None
