"""Gymnasium environments for Durable MLGym tasks: every episode is a durable Temporal workflow.

``import durable_mlgym`` registers ``mlgym/<task>-v0`` for every task of the repository, so
``gymnasium.make("mlgym/prisonersDilemma-v0")`` works (or, without the import,
``gymnasium.make("durable_mlgym:mlgym/prisonersDilemma-v0")``). See docs/gym.md.
"""

from __future__ import annotations

import gymnasium as gym

from ._episode import EpisodeError
from ._info import improvement_over, reward_of, score_of
from .env import MlgymEnv
from .runs import external_runs
from .spaces import FreeText
from .vector import MlgymVectorEnv, run_episodes

__all__ = [
    "TASK_IDS",
    "EpisodeError",
    "FreeText",
    "MlgymEnv",
    "MlgymVectorEnv",
    "env_id",
    "external_runs",
    "improvement_over",
    "register_task",
    "reward_of",
    "run_episodes",
    "score_of",
]

#: The tasks of the repository (tasks/<id>/task.yaml); register_task() adds others (MLGYM_TASKS_PATH).
TASK_IDS = (
    "3SATTime",
    "battleOfSexes",
    "blotto",
    "imageCaptioningCOCO",
    "imageClassificationCifar10",
    "imageClassificationFMnist",
    "languageModelingFineWeb",
    "naturalLanguageInferenceMNLI",
    "prisonersDilemma",
    "regressionKaggleHousePrice",
    "rlBreakoutMinAtar",
    "rlMetaMazeMisc",
    "rlMountainCarContinuous",
)


def env_id(task: str) -> str:
    """The registered environment id of a task: ``mlgym/<task>-v0``."""
    return f"mlgym/{task}-v0"


def register_task(task: str) -> str:
    """Register ``mlgym/<task>-v0`` (idempotent) and return the id; keyword arguments of ``gym.make`` go to MlgymEnv."""
    name = env_id(task)
    if name not in gym.registry:
        gym.register(
            id=name,
            entry_point="durable_mlgym.env:MlgymEnv",
            vector_entry_point="durable_mlgym.vector:MlgymVectorEnv",
            nondeterministic=True,
            kwargs={"task": task},
        )
    return name


for _task in TASK_IDS:
    register_task(_task)
