"""The Gym protocol of an `external` agentRun, asynchronously (docs/gym.md).

A client sends the action of step n as the workflow update ``step`` with ``{"step": n, "action": ...}``
and gets the observation after it ran; ``observe`` returns the latest observation. The workflow makes
both idempotent: the same step sent again returns the recorded observation and never runs twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Awaitable, Callable

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

EXTERNAL_MODEL = "external"
#: The failure type of an update to send again: the run continued as a new execution while it waited.
GYM_RETRY = "GymRetry"
#: Like lib/run/timeouts.ts: the default heartbeat timeout, and the cap of the workflow task timeout.
DEFAULT_HEARTBEAT_TIMEOUT_S = 10


class EpisodeError(RuntimeError):
    """The run refused an action (a wrong step number, another action for a step) or failed."""


@dataclass
class EpisodeSettings:
    """How a run is started: reset()'s options."""

    task: str
    seed: int = 0
    data: str | None = None
    max_steps: int = 50
    idle_pause_s: int | None = None
    idle_end_s: int | None = None
    gpus: int | None = None
    keep: bool = False
    heartbeat_timeout_s: int | None = None
    continue_every: int = 100

    def run_input(self, run_id: str) -> dict[str, Any]:
        """The workflow's RunInput (lib/run/types.ts)."""
        optional = {
            "data": self.data,
            "gpus": self.gpus,
            "idlePauseS": self.idle_pause_s,
            "idleEndS": self.idle_end_s,
            "heartbeatTimeoutS": self.heartbeat_timeout_s,
        }
        return {
            "runId": run_id,
            "taskId": self.task,
            "model": EXTERNAL_MODEL,
            "seed": self.seed,
            "maxSteps": self.max_steps,
            "keep": self.keep,
            "continueEvery": self.continue_every,
            **{k: v for k, v in optional.items() if v is not None},
        }


def new_run_id(task: str, seed: int) -> str:
    """A run id of the same shape as the CLI's: run-<task>-external-<seed>-<6 hex digits>."""
    return f"run-{task}-{EXTERNAL_MODEL}-{seed}-{secrets.token_hex(3)}"


def step_update_id(step: int, action: str) -> str:
    """The update id of a step, as the TypeScript client makes it (lib/gym/env.ts): the server answers a repeated id
    with the first outcome; the action's hash in it lets another action for the step reach the workflow, which refuses it."""
    return f"step-{step}-{hashlib.sha256(action.encode()).hexdigest()[:16]}"


def _is_retry(err: BaseException) -> bool:
    return isinstance(err, WorkflowUpdateFailedError) and isinstance(err.cause, ApplicationError) and err.cause.type == GYM_RETRY


def _refusal(err: WorkflowUpdateFailedError) -> str:
    return str(err.cause) if err.cause is not None else str(err)


class Episode:
    """One durable external run. Coroutines: call them on the shared loop (``_runtime.run``)."""

    def __init__(self, client: Client, run_id: str) -> None:
        self.client = client
        self.run_id = run_id
        # No run id: the handle follows the run across continue-as-new.
        self.handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(run_id)
        self.last: dict[str, Any] | None = None

    @classmethod
    async def start(cls, client: Client, settings: EpisodeSettings, task_queue: str) -> Episode:
        run_id = new_run_id(settings.task, settings.seed)
        heartbeat = settings.heartbeat_timeout_s or DEFAULT_HEARTBEAT_TIMEOUT_S
        summary = f"{settings.task}{' (fixture data)' if settings.data == 'fixture' else ''} · {EXTERNAL_MODEL} · seed {settings.seed}"
        await client.start_workflow(
            "agentRun",
            settings.run_input(run_id),
            id=run_id,
            task_queue=task_queue,
            task_timeout=timedelta(seconds=min(heartbeat, DEFAULT_HEARTBEAT_TIMEOUT_S)),
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(SearchAttributeKey.for_keyword("MlgymTask"), settings.task),
                    SearchAttributePair(SearchAttributeKey.for_keyword("MlgymModel"), EXTERNAL_MODEL),
                    SearchAttributePair(SearchAttributeKey.for_keyword("MlgymStatus"), "starting"),
                ]
            ),
            static_summary=summary,
        )
        return cls(client, run_id)

    @property
    def next_step(self) -> int:
        return int(self.last["step"]) if self.last else 0

    @property
    def done(self) -> bool:
        return bool(self.last and self.last["done"])

    async def observe(self) -> dict[str, Any]:
        """The latest observation (after the step in flight, if one is)."""
        return await self._call(lambda: self.handle.execute_update("observe"))

    async def step(self, step: int, action: str) -> dict[str, Any]:
        """The observation after step `step` ran `action`; safe to send again (it runs once)."""
        request = {"step": step, "action": action}
        return await self._call(lambda: self.handle.execute_update("step", request, id=step_update_id(step, action)))

    async def status(self) -> dict[str, Any]:
        """The ``gym`` query: next step, pending and running steps, idle pause, whether it ended."""
        return await self.handle.query("gym")

    async def cancel(self, mode: str) -> None:
        """End the run: ``autosubmit`` scores the workspace as it is, ``forfeit`` ends it unscored."""
        try:
            await self.handle.execute_update("cancel", mode)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:  # already over
                raise

    async def result(self) -> dict[str, Any]:
        """The run's result (waits for it to end)."""
        return await self.handle.result()

    async def _call(self, update: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        for attempt in range(1_000):
            try:
                return self._remember(await update())
            except WorkflowUpdateFailedError as err:
                if not _is_retry(err):
                    raise EpisodeError(_refusal(err)) from err
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND:
                    raise
                ended = await self._ended()  # the run has ended, or is between two executions
                if ended is not None:
                    return self._remember(ended)
                if attempt > 50:
                    raise
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        raise EpisodeError(f"run {self.run_id}: the update kept being handed over")

    async def _ended(self) -> dict[str, Any] | None:
        """The observation that ended a closed run, or None while it runs."""
        description = await self.handle.describe()
        if description.status == WorkflowExecutionStatus.RUNNING:
            return None
        result = await self.handle.result()  # raises WorkflowFailureError for a failed run
        if not result.get("gym"):
            raise EpisodeError(f"run {self.run_id} ended ({result.get('exitStatus')}) without a Gym observation: is it an external run?")
        return result["gym"]

    def _remember(self, obs: dict[str, Any]) -> dict[str, Any]:
        if self.last is None or obs["step"] >= self.last["step"]:
            self.last = obs
        return obs
