"""Finding external runs that wait for a client: those a benchmark started (``mlgym bench --models external``),
or any started elsewhere, to ``attach`` to them."""

from __future__ import annotations

import re

from . import _runtime
from ._episode import EXTERNAL_MODEL
from .env import default_address, default_namespace

#: The id rule of lib/run/ids.ts (benchmark and task ids); anything else is refused rather than quoted into a query.
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


def _clause(key: str, value: str | None) -> list[str]:
    if value is None:
        return []
    if not _ID.match(value):
        raise ValueError(f"{key}: expected an id (letters, digits, '.', '_', '-'), got {value!r}")
    return [f"{key} = '{value}'"]


def runs_query(*, bench_id: str | None = None, task: str | None = None, running: bool = True) -> str:
    """The visibility query of external runs (of a benchmark, of a task; only running ones by default)."""
    clauses = [f"MlgymModel = '{EXTERNAL_MODEL}'", *_clause("MlgymBenchId", bench_id), *_clause("MlgymTask", task)]
    if running:
        clauses.append("ExecutionStatus = 'Running'")
    return " AND ".join(clauses)


async def _list(query: str, address: str, namespace: str) -> list[str]:
    client = await _runtime.client(address, namespace)
    return sorted({execution.id async for execution in client.list_workflows(query)})


def external_runs(
    *,
    bench_id: str | None = None,
    task: str | None = None,
    running: bool = True,
    address: str | None = None,
    namespace: str | None = None,
) -> list[str]:
    """The ids of external runs, sorted: e.g. ``external_runs(bench_id=...)`` lists the runs of a benchmark that wait
    for a client; ``MlgymEnv().attach(run_id)`` plays one. A benchmark starts at most ``concurrency`` runs at once, so
    call again after some have finished. Visibility lags the server by a moment: a run just started may be missing."""
    query = runs_query(bench_id=bench_id, task=task, running=running)
    return _runtime.run(_list(query, address or default_address(), namespace or default_namespace()))

