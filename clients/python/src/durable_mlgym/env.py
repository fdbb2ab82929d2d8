"""MlgymEnv: a Durable MLGym task as a ``gymnasium.Env``."""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym

from . import _runtime
from ._episode import Episode, EpisodeError, EpisodeSettings
from ._info import REWARD_MODES, RewardMode, info_of, reward_of
from .spaces import FreeText

ON_CLOSE = ("forfeit", "autosubmit", "detach")


def default_address() -> str:
    return os.environ.get("TEMPORAL_ADDRESS", "localhost:7233")


def default_namespace() -> str:
    return os.environ.get("TEMPORAL_NAMESPACE", "default")


def default_task_queue(gpus: int | None = None) -> str:
    """The workers' queue (MLGYM_TASK_QUEUE, else ``mlgym``); runs with GPUs use MLGYM_GPU_TASK_QUEUE, else ``<queue>-gpu``."""
    queue = os.environ.get("MLGYM_TASK_QUEUE", "mlgym")
    return os.environ.get("MLGYM_GPU_TASK_QUEUE", f"{queue}-gpu") if gpus else queue


class MlgymEnv(gym.Env[str, str]):
    """One Durable MLGym task. Each episode is a durable run of the agent spec ``external``.

    - ``reset(seed=, options={"task", "data", "max_steps", "idle_pause_s", "idle_end_s", ...})`` starts a
      run and returns the first observation (task, data, commands, footer) and an info dict;
      ``options={"attach": run_id}`` continues an existing run instead (see :meth:`attach`).
    - ``step(action)`` runs one command in the task's container (a shell command, an ACI command such
      as ``open``/``edit``, ``validate``, ``submit`` or ``exit_forfeit``) and returns
      ``(observation, reward, terminated, truncated, info)``. The episode ends on ``submit``,
      ``exit_forfeit`` (terminated) or the step limit, a cancel or an idle client (truncated, autosubmitted);
      ``info["final_score"]`` is then the submission's score.
    - A step is sent with its number: if the trainer dies while a step runs, :meth:`attach` in a new
      process gets the observation after that step, and a step sent again never runs twice.

    Rewards: ``"zero"`` (default, as MLGym), ``"improvement"`` (the improvement of a validate score, or
    of the final score on the last step, over the task's baseline) or a function of the info dict.
    """

    metadata = {"render_modes": ["ansi", "human"]}

    def __init__(
        self,
        task: str | None = None,
        *,
        max_steps: int = 50,
        data: str | None = None,
        reward: RewardMode = "zero",
        on_close: str = "forfeit",
        idle_pause_s: int | None = None,
        idle_end_s: int | None = None,
        gpus: int | None = None,
        keep: bool = False,
        address: str | None = None,
        namespace: str | None = None,
        task_queue: str | None = None,
        render_mode: str | None = None,
    ) -> None:
        if not callable(reward) and reward not in REWARD_MODES:
            raise ValueError(f"reward must be one of {REWARD_MODES} or a function of the info dict, got {reward!r}")
        if on_close not in ON_CLOSE:
            raise ValueError(f"on_close must be one of {ON_CLOSE}, got {on_close!r}")
        self.task = task
        self.defaults = {"max_steps": max_steps, "data": data, "idle_pause_s": idle_pause_s, "idle_end_s": idle_end_s, "gpus": gpus, "keep": keep}
        self.reward_mode = reward
        self.on_close = on_close
        self.address = address or default_address()
        self.namespace = namespace or default_namespace()
        self.task_queue = task_queue
        self.render_mode = render_mode
        self.observation_space = FreeText()
        self.action_space = FreeText()
        self._episode: Episode | None = None
        self._abandoned = False
        self._last_text = ""

    # -- the Gymnasium API -------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        if "attach" in options:
            return self.attach(options.pop("attach"))
        self._end_episode()
        unknown = set(options) - {"task", *self.defaults, "heartbeat_timeout_s", "continue_every"}
        if unknown:
            raise ValueError(f"unknown reset option(s): {', '.join(sorted(unknown))}")
        task = options.pop("task", self.task)
        if not task:
            raise ValueError('reset() needs a task: MlgymEnv(task=...) or options={"task": ...}')
        run_seed = seed if seed is not None else int(self.np_random.integers(0, 2**31 - 1))
        settings = EpisodeSettings(task=task, seed=run_seed, **{**self.defaults, **options})
        queue = self.task_queue or default_task_queue(settings.gpus)
        self._episode = _runtime.run(self._start(settings, queue))
        self._abandoned = False
        obs = _runtime.run(self._episode.observe())
        return self._reply(obs)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        episode = self._require_episode()
        if episode.done or self._abandoned:
            raise EpisodeError(f"the episode of {episode.run_id} is over: reset() starts another")
        if not isinstance(action, str) or not action.strip():
            raise ValueError(f"an action is a non-empty command string, got {action!r}")
        obs = _runtime.run(episode.step(episode.next_step, action))
        text, info = self._reply(obs)
        return text, reward_of(info, self.reward_mode), bool(obs["terminated"]), bool(obs["truncated"]), info

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._last_text
        if self.render_mode == "human":
            print(self._last_text)
        return None

    def close(self) -> None:
        """End an unfinished episode as ``on_close`` says (``forfeit`` by default; ``detach`` leaves it running)."""
        self._end_episode()
        super().close()

    # -- beyond Gymnasium --------------------------------------------------------------------------

    def attach(self, run_id: str) -> tuple[str, dict[str, Any]]:
        """Continue the episode of run ``run_id`` (e.g. after the trainer restarted): its latest observation.

        If a step was running when the previous client died, this waits for it and returns the
        observation after it. Through wrappers (``gym.make``), use ``reset(options={"attach": run_id})``.
        """
        self._episode = _runtime.run(self._connect(run_id))
        self._abandoned = False
        return self._reply(_runtime.run(self._episode.observe()))

    @property
    def run_id(self) -> str | None:
        """The current episode's run id (its workflow id in Temporal)."""
        return self._episode.run_id if self._episode else None

    def send_step(self, step: int, action: str) -> tuple[str, dict[str, Any]]:
        """Send the action of step ``step`` explicitly (a retry of an earlier step returns its recorded observation)."""
        obs = _runtime.run(self._require_episode().step(step, action))
        return obs["observation"], info_of(obs)

    def status(self) -> dict[str, Any]:
        """Where the run's protocol stands (the ``gym`` query): ``nextStep``, ``runningStep``, ``idlePaused``, ..."""
        return _runtime.run(self._require_episode().status())

    def result(self) -> dict[str, Any]:
        """The run's result (RunResult; waits for the run to end)."""
        return _runtime.run(self._require_episode().result())

    # -- internals ---------------------------------------------------------------------------------

    async def _start(self, settings: EpisodeSettings, queue: str) -> Episode:
        client = await _runtime.client(self.address, self.namespace)
        return await Episode.start(client, settings, queue)

    async def _connect(self, run_id: str) -> Episode:
        return Episode(await _runtime.client(self.address, self.namespace), run_id)

    def _require_episode(self) -> Episode:
        if self._episode is None:
            raise EpisodeError("no episode: call reset() (or attach(run_id)) first")
        return self._episode

    def _reply(self, obs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self._last_text = obs["observation"]
        if self.render_mode == "human":
            self.render()
        return obs["observation"], info_of(obs)

    def _end_episode(self) -> None:
        episode = self._episode
        if episode is None or episode.done or self._abandoned or self.on_close == "detach":
            return
        _runtime.run(episode.cancel(self.on_close))
        self._abandoned = True
