"""Asynchronous campaigns: k experiments at once, a new proposal as soon as a worker is free.

``Campaign.run`` hands over to :func:`run_async` when the config asks for more than one worker
(``[evaluator] workers = k``) or for Ray (``backend = "ray"``). Experiments run in a local process
pool or as Ray tasks; the loop keeps ``k`` of them in flight. Each new proposal is made with the
experiments still running passed to the acquisition as pending (``X_pending``), so the workers
are not sent to measure the same thing. Every result is committed on its own with the proposal's
dedup key, so a killed run resumes — the proposals that were in flight are measured first.

Workers rebuild the evaluator from the campaign's stored config (once per worker process), so
anything a config can name works: a ``module:function`` or ``file.py:function`` evaluator, or an
emulator table.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scientia.errors import ConfigError, EvaluationError
from scientia.types import Candidate, Observation

if TYPE_CHECKING:
    from scientia.campaign.loop import Campaign, Progress
    from scientia.campaign.state import CampaignState
    from scientia.config import StopConfig
    from scientia.proposers.base import Proposal

__all__ = ["evaluate_in_worker", "run_async"]


@functools.lru_cache(maxsize=4)
def _worker_evaluator(config_json: str, names: tuple[str, ...]) -> Any:
    from scientia.campaign.build import build_evaluator, build_space
    from scientia.config import parse_config

    class _Names:  # lookup evaluators only need the parameter names of the space
        def __init__(self) -> None:
            self.names = list(names)

    cfg = parse_config(json.loads(config_json))
    space = build_space(cfg)[0] if cfg.evaluator.kind == "model" else _Names()  # a model encodes
    return build_evaluator(cfg, space)  # type: ignore[arg-type]


def evaluate_in_worker(config_json: str, names: tuple[str, ...], params: dict[str, Any]) -> dict[str, Any]:
    """Measure one candidate in a worker; returns the observation as a dict (picklable)."""
    evaluator = _worker_evaluator(config_json, names)
    if hasattr(evaluator, "used"):  # which rows were measured is the main process's business
        evaluator.used = set()
    (obs,) = evaluator.evaluate([Candidate(params)])
    return obs.to_dict()  # type: ignore[no-any-return]


class _Local:
    """A process pool (spawned processes: safe with torch and threads in the parent)."""

    def __init__(self, workers: int) -> None:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))

    def submit(self, *args: Any) -> Any:
        return self.pool.submit(evaluate_in_worker, *args)

    def wait_any(self, handles: list[Any]) -> list[Any]:
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(handles, return_when=FIRST_COMPLETED)
        return list(done)

    def result(self, handle: Any) -> dict[str, Any]:
        return handle.result()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Ray:
    """Ray tasks: on the cluster at ``$RAY_ADDRESS`` if set, else a local one started here."""

    def __init__(self, workers: int) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError('backend = "ray" needs Ray: pip install "scientia[ray]"') from None
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            import os

            address = os.environ.get("RAY_ADDRESS")
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if not address:
                kwargs["num_cpus"] = workers
            ray.init(address=address, **kwargs)
            self.started = True
        self.task = ray.remote(num_cpus=1)(evaluate_in_worker)

    def submit(self, *args: Any) -> Any:
        return self.task.remote(*args)

    def wait_any(self, handles: list[Any]) -> list[Any]:
        done, _ = self.ray.wait(handles, num_returns=1)
        return list(done)

    def result(self, handle: Any) -> dict[str, Any]:
        return self.ray.get(handle)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def run_async(
    campaign: Campaign,
    budget: int,
    callback: Callable[[Progress], None] | None = None,
    stop: StopConfig | None = None,
) -> CampaignState:
    """Run ``campaign`` with ``workers`` experiments in flight until it holds ``budget``."""
    from scientia.campaign.loop import Progress

    ec = campaign.config.evaluator
    workers = max(1, ec.workers)
    backend = _Ray(workers) if ec.backend == "ray" else _Local(workers)
    config_json = json.dumps(campaign.config.model_dump(mode="json"), sort_keys=True)
    names = tuple(campaign.space.names)
    obj = campaign.objectives[0]
    started = time.monotonic()
    campaign.stop_reason = "budget"
    in_flight: dict[Any, Proposal] = {}
    try:
        h = campaign.history()
        todo = [p for p in h.open_proposals() if h.status(p.id) == "approved"]  # left by a killed run
        exhausted = stopping = False
        while True:
            done_count = len(campaign.history().observations)
            while (
                not (exhausted or stopping)
                and len(in_flight) < workers
                and done_count + len(in_flight) < budget
            ):
                if not todo:
                    todo = campaign.suggest(1)
                    if not todo:
                        exhausted = True
                        break
                p = todo.pop(0)
                in_flight[backend.submit(config_json, names, dict(p.candidate.params))] = p
            if not in_flight:
                if exhausted and not stopping:
                    campaign.stop_reason = "exhausted"
                break
            finished = []
            for handle in backend.wait_any(list(in_flight)):
                p = in_flight.pop(handle)
                try:
                    data = backend.result(handle)
                except EvaluationError as exc:
                    campaign.ledger.append(campaign.id, "error", {"proposal_id": p.id, "message": str(exc)})
                    raise
                o = Observation.from_dict(data)
                o = Observation(p.candidate, o.outcomes, o.noise, o.status, o.metadata, p.id)
                written = campaign.ledger.append(
                    campaign.id,
                    "observation",
                    o.to_dict(),
                    actor="evaluator",
                    dedup_key=f"observation:{p.id}",
                )
                if written is not None:
                    finished.append(o)
                    if callback is not None:
                        state = campaign.state()
                        top = state.best()
                        best = top.outcomes[obj.name] if top else None
                        callback(Progress(len(state.observations), budget, best, o))
            reason = (
                None if stopping else campaign._stop_rule(stop or campaign.config.stop, finished, started)
            )
            if reason is not None:  # let the experiments under way finish, start no more
                stopping = True
                campaign.stop_reason = reason
                campaign.ledger.append(campaign.id, "note", {"stopped": reason})
    finally:
        backend.close()
    return campaign.state()
