"""Several episodes at once: a vector environment and a helper that runs N episodes in parallel."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

import numpy as np
from gymnasium.spaces import Tuple
from gymnasium.vector import AutoresetMode, VectorEnv

from . import _runtime
from ._episode import Episode, EpisodeError, EpisodeSettings
from ._info import info_of, reward_of
from .env import MlgymEnv, default_task_queue
from .spaces import FreeText


class MlgymVectorEnv(VectorEnv):
    """``num_envs`` episodes of a task stepped together; each reset and step of the sub-episodes runs concurrently.

    Observations are tuples of strings, actions a sequence of strings. There is no autoreset
    (``metadata["autoreset_mode"]`` is DISABLED): a finished sub-episode keeps returning its last
    observation with reward 0 and its done flags, and its action is ignored, until the next ``reset()``.
    ``infos`` holds ``run_id``, ``step`` and ``final_score`` arrays and ``env_infos``, each
    sub-episode's full info dict.
    """

    metadata = {"autoreset_mode": AutoresetMode.DISABLED}

    def __init__(self, num_envs: int, task: str | None = None, **env_kwargs: Any) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.num_envs = num_envs
        self.envs = [MlgymEnv(task, **env_kwargs) for _ in range(num_envs)]
        self.single_observation_space = FreeText()
        self.single_action_space = FreeText()
        self.observation_space = Tuple([FreeText() for _ in range(num_envs)])
        self.action_space = Tuple([FreeText() for _ in range(num_envs)])
        self._last: list[tuple[str, dict[str, Any], bool, bool]] = []

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None) -> tuple[tuple[str, ...], dict[str, Any]]:
        """Start ``num_envs`` runs (seeds ``seed + i``, or one per sub-episode) with the same options."""
        seeds = list(seed) if isinstance(seed, Sequence) else [None if seed is None else seed + i for i in range(self.num_envs)]
        if len(seeds) != self.num_envs:
            raise ValueError(f"{len(seeds)} seeds for {self.num_envs} environments")
        for env in self.envs:
            env._end_episode()
        replies = _runtime.run(self._reset_all(seeds, dict(options or {})))
        self._last = [(text, info, False, False) for text, info in replies]
        return tuple(text for text, _ in replies), self._infos([info for _, info in replies])

    async def _reset_all(self, seeds: list[int | None], options: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        async def one(env: MlgymEnv, seed: int | None) -> tuple[str, dict[str, Any]]:
            task = options.get("task", env.task)
            if not task:
                raise ValueError('reset() needs a task: MlgymVectorEnv(n, task=...) or options={"task": ...}')
            run_seed = seed if seed is not None else int(env.np_random.integers(0, 2**31 - 1))
            rest = {k: v for k, v in options.items() if k != "task"}
            settings = EpisodeSettings(task=task, seed=run_seed, **{**env.defaults, **rest})
            env._episode = await env._start(settings, env.task_queue or default_task_queue(settings.gpus))
            env._abandoned = False
            return env._reply(await env._episode.observe())

        return list(await asyncio.gather(*(one(env, seed) for env, seed in zip(self.envs, seeds))))

    def step(self, actions: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if len(actions) != self.num_envs:
            raise ValueError(f"{len(actions)} actions for {self.num_envs} environments")
        if not self._last:
            raise EpisodeError("step() before reset()")
        results = _runtime.run(self._step_all(list(actions)))
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        for i, (text, info, terminated, truncated, reward) in enumerate(results):
            self._last[i] = (text, info, terminated, truncated)
            rewards[i] = reward
        return (
            tuple(r[0] for r in results),
            rewards,
            np.array([r[2] for r in results], dtype=np.bool_),
            np.array([r[3] for r in results], dtype=np.bool_),
            self._infos([r[1] for r in results]),
        )

    async def _step_all(self, actions: list[str]) -> list[tuple[str, dict[str, Any], bool, bool, float]]:
        async def one(i: int, env: MlgymEnv, action: str) -> tuple[str, dict[str, Any], bool, bool, float]:
            text, info, terminated, truncated = self._last[i]
            episode: Episode = env._require_episode()
            if terminated or truncated:
                return text, info, terminated, truncated, 0.0
            obs = await episode.step(episode.next_step, action)
            text, info = env._reply(obs)
            return text, info, bool(obs["terminated"]), bool(obs["truncated"]), reward_of(info, env.reward_mode)

        return list(await asyncio.gather(*(one(i, env, a) for i, (env, a) in enumerate(zip(self.envs, actions)))))

    def _infos(self, infos: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "run_id": np.array([i["run_id"] for i in infos], dtype=object),
            "step": np.array([i["step"] for i in infos], dtype=np.int64),
            "final_score": np.array([i["final_score"] for i in infos], dtype=object),
            "env_infos": np.array(infos, dtype=object),
        }

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()


Policy = Callable[[str, dict[str, Any]], str]


def run_episodes(
    policy: Policy | Callable[[int], Policy],
    *,
    task: str,
    n: int,
    seed: int = 0,
    options: dict[str, Any] | None = None,
    max_parallel: int | None = None,
    per_episode_policy: bool = False,
    **env_kwargs: Any,
) -> list[dict[str, Any]]:
    """Run ``n`` episodes of ``task`` in parallel (seeds ``seed`` .. ``seed + n - 1``) and return each one's final info.

    ``policy(observation, info) -> action`` is called from one thread per episode; with
    ``per_episode_policy=True``, ``policy(i)`` instead returns the policy of episode ``i`` (for agents
    that keep state). ``max_parallel`` bounds the episodes running at once (default: all ``n``).
    """

    def episode(i: int) -> dict[str, Any]:
        act: Policy = policy(i) if per_episode_policy else policy  # type: ignore[assignment, call-arg]
        env = MlgymEnv(task, **env_kwargs)
        try:
            obs, info = env.reset(seed=seed + i, options=options)
            while True:
                obs, _, terminated, truncated, info = env.step(act(obs, info))
                if terminated or truncated:
                    return info
        finally:
            env.close()

    with ThreadPoolExecutor(max_workers=max_parallel or n, thread_name_prefix="mlgym-episode") as pool:
        return list(pool.map(episode, range(n)))
