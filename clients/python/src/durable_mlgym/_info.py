"""Observations as Gymnasium returns them: the text, a reward, the done flags and an info dict."""

from __future__ import annotations

import copy
from typing import Any, Callable, Union

#: ``"zero"`` (default, as MLGym), ``"improvement"``, or a function of the step's info dict.
RewardMode = Union[str, Callable[[dict[str, Any]], float]]
REWARD_MODES = ("zero", "improvement")


def _state(state: dict[str, Any]) -> dict[str, Any]:
    return {
        "steps_used": state["stepsUsed"],
        "max_steps": state["maxSteps"],
        "remaining": state["remaining"],
        "open_file": state["openFile"],
        "working_dir": state["workingDir"],
    }


def _task(task: dict[str, Any] | None) -> dict[str, Any] | None:
    if task is None:
        return None
    return {
        "id": task["id"],
        "name": task["name"],
        "description": task["description"],
        "commands": task["commands"],
        "system_prompt": task["systemPrompt"],
        "submission_artifact": task["submissionArtifact"],
        "data": task["data"],
        "baseline_metrics": task["baselineMetrics"],
    }


def _final(final: dict[str, Any] | None) -> dict[str, Any] | None:
    if final is None:
        return None
    return {
        "exit_status": final["exitStatus"],
        "status": final["status"],
        "score": final["score"],
        "metrics": final["metrics"],
        "steps": final["steps"],
        "cost_usd": final["costUsd"],
    }


def info_of(obs: dict[str, Any]) -> dict[str, Any]:
    """The info dict of an observation (a fresh object each time: callers may keep it)."""
    obs = copy.deepcopy(obs)
    final = _final(obs.get("final"))
    return {
        "run_id": obs["runId"],
        "step": obs["step"],
        "action": obs["action"],
        "state": _state(obs["state"]),
        "exit_code": obs["exitCode"],
        "validation": obs["validation"],
        "metric": obs["metric"],
        "task": _task(obs.get("task")),
        "final": final,
        "final_score": final["score"] if final else None,
    }


def improvement_over(metric: dict[str, Any], score: float) -> float:
    """``score`` minus the baseline for a metric to maximise, the baseline minus ``score`` for one to minimise; 0 without a baseline."""
    baseline = metric.get("baseline")
    if baseline is None:
        return 0.0
    return float(score - baseline if metric["direction"] == "max" else baseline - score)


def score_of(info: dict[str, Any]) -> float | None:
    """The score a step produced: the final score on the step that ends the episode, else a validate's shown score."""
    if info["final"] is not None:
        return info["final"]["score"]
    validation = info["validation"]
    if validation and validation["kind"] == "validate" and validation["metrics"]:
        return validation["metrics"].get(info["metric"]["name"])
    return None


def reward_of(info: dict[str, Any], mode: RewardMode) -> float:
    """The step's reward under ``mode`` (see docs/gym.md)."""
    if callable(mode):
        return float(mode(info))
    if mode == "zero":
        return 0.0
    if mode == "improvement":
        score = score_of(info)
        return 0.0 if score is None else improvement_over(info["metric"], score)
    raise ValueError(f"reward must be one of {REWARD_MODES} or a function of the info dict, got {mode!r}")
