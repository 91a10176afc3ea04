"""Fixtures for the web app's tests: ledgers with a campaign, in-process clients, helpers.

Campaigns are the hand-run example (``examples/manual.toml``) with ``review = "human"``; its
first five proposals are space-filling, so proposing costs no model fit. ``seed_observations``
writes proposals (with predictions) and their results straight through the engine, for tests
that need a campaign with history.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np
import pytest
from fastapi.testclient import TestClient

from scientia.campaign import Campaign
from scientia.config import load_config
from scientia.ledger.store import NewEvent
from scientia.proposers.base import Proposal
from scientia.types import Observation
from scientia.web import create_app

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "manual.toml"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
FLASH_RE = re.compile(r'data-flash="(\w+)">([^<]*)<')


def human_config(folder: Path, name: str = "amide_coupling", description: str | None = None) -> Path:
    """A copy of examples/manual.toml with human review (and optionally another description)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = EXAMPLE.read_text(encoding="utf-8").replace("seed = 0", 'seed = 0\nreview = "human"')
    if description is not None:
        text = re.sub(r"^description = .*$", f"description = {description!r}", text, flags=re.M)
    text = text.replace('name = "amide_coupling"', f'name = "{name}"')
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def make_campaign(ledger: Path, **kw: Any) -> Campaign:
    cfg = load_config(human_config(ledger.parent / "configs", **kw))
    return Campaign.create(cfg, str(ledger))


def seed_observations(camp: Campaign, n: int, batch: int = 5, seed: int = 0, actor: str = "robot") -> None:
    """Record ``n`` proposals with predictions and their measured yields (fast: bulk events)."""
    rng = np.random.default_rng(seed)
    cands = camp.space.sample(n, seed=seed)
    first = camp.state().round
    for start in range(0, n, batch):
        rnd = first + start // batch
        props = []
        for i, cand in enumerate(cands[start : start + batch]):
            truth = 0.4 * cand.params["temperature"] + 1.5 * cand.params["time"]
            mean = truth + rng.normal(0, 3)
            props.append(
                Proposal(
                    cand,
                    "bo:qlognei",
                    {"yield": mean},
                    {"yield": 4.0},
                    float(rng.random()),
                    id=f"r{rnd:04d}.{i}",
                )
            )
        camp.ledger.append_many(
            camp.id,
            [NewEvent("proposal", {**p.to_dict(), "round": rnd}, actor, f"proposal:{p.id}") for p in props],
        )
        observations = []
        for p in props:
            truth = 0.4 * p.candidate.params["temperature"] + 1.5 * p.candidate.params["time"]
            observations.append(
                Observation(p.candidate, {"yield": truth + rng.normal(0, 2)}, proposal_id=p.id)
            )
        camp.observe(observations, actor=actor)


def add_proposals(camp: Campaign, k: int, actor: str = "planner", seed: int = 1) -> list[str]:
    """Record ``k`` proposals (with predictions) without fitting a model; return their ids."""
    rnd = camp.state().round
    props = [
        Proposal(c, "bo:qlognei", {"yield": 50.0 + i}, {"yield": 5.0}, 0.1 * (i + 1), id=f"r{rnd:04d}.{i}")
        for i, c in enumerate(camp.space.sample(k, seed=seed))
    ]
    events = [NewEvent("proposal", {**p.to_dict(), "round": rnd}, actor, f"proposal:{p.id}") for p in props]
    camp.ledger.append_many(camp.id, events)
    return [p.id for p in props]


class Browser:
    """A TestClient with helpers: the CSRF token of its session, POST with it, flash messages."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._token: str | None = None

    @property
    def token(self) -> str:
        if self._token is None:
            page = self.client.get("/campaigns")
            match = CSRF_RE.search(page.text)
            assert match, page.text[:500]
            self._token = match.group(1)
        return self._token

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kw)

    def json_post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        headers = {"accept": "application/json"}
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, headers=headers, **kw)

    def name(self, who: str) -> None:
        r = self.post("/name", {"name": who, "next": "/campaigns"})
        assert r.status_code == 200, r.text

    def queue(self, cid: int = 1) -> dict[str, Any]:
        return self.get(f"/campaigns/{cid}/queue.json?show=all").json()["queue"]  # type: ignore[no-any-return]


def flashes(response: Any) -> list[tuple[str, str]]:
    """The one-time messages shown on a page: (kind, text)."""
    import html

    return [(k, html.unescape(t)) for k, t in FLASH_RE.findall(response.text)]


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """A ledger file holding the human-review amide coupling campaign (id 1)."""
    path = tmp_path / "lab.sqlite"
    make_campaign(path).ledger.close()
    return path


@pytest.fixture
def make_browser(ledger: Path) -> Iterator[Callable[..., Browser]]:
    """Make clients of one app (or, with ``own_app=True``, of a separate app on the same ledger)."""
    apps: list[Any] = []
    clients: list[TestClient] = []
    shared = create_app(str(ledger))
    apps.append(shared)

    def make(who: str | None = "alice", own_app: bool = False, **app_kw: Any) -> Browser:
        app = create_app(str(ledger), **app_kw) if own_app or app_kw else shared
        if app is not shared:
            apps.append(app)
        client = TestClient(app)
        clients.append(client)
        b = Browser(client)
        if who:
            b.name(who)
        return b

    yield make
    for c in clients:
        c.close()
    for a in apps:
        a.state.web.store.close()


@pytest.fixture
def browser(make_browser: Callable[..., Browser]) -> Browser:
    """A client of the app whose person is called alice."""
    return make_browser()


@pytest.fixture(scope="session")
def copy_example() -> Callable[[Path], Path]:
    def copy(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(EXAMPLE, folder / "manual.toml"))

    return copy
