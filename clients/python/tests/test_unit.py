"""Tests that need no server: registration, spaces, rewards, the info dict, the run input."""

from __future__ import annotations

import gymnasium as gym
import pytest

import durable_mlgym
from durable_mlgym import FreeText, MlgymEnv, env_id, improvement_over, reward_of
from durable_mlgym._episode import EpisodeSettings, new_run_id
from durable_mlgym._info import info_of


def observation(**overrides):
    obs = {
        "runId": "run-prisonersDilemma-external-1-abcdef",
        "step": 3,
        "action": "validate",
        "observation": "Evaluation Score ...\n\n(Steps used: 3 of 10, remaining: 7)",
        "state": {"stepsUsed": 3, "maxSteps": 10, "remaining": 7, "openFile": "n/a", "workingDir": "/home/agent/workspace"},
        "exitCode": None,
        "validation": {"kind": "validate", "metrics": {"Score": 2.6}, "error": None},
        "metric": {"name": "Score", "direction": "max", "baseline": 2.4},
        "task": None,
        "done": False,
        "terminated": False,
        "truncated": False,
        "final": None,
    }
    obs.update(overrides)
    return obs


def test_registers_every_task():
    for task in durable_mlgym.TASK_IDS:
        spec = gym.spec(env_id(task))
        assert spec.kwargs == {"task": task}
    assert durable_mlgym.register_task("myTask") == "mlgym/myTask-v0"
    assert durable_mlgym.register_task("myTask") == "mlgym/myTask-v0"


def test_make_builds_the_env_without_connecting():
    env = gym.make("mlgym/blotto-v0", max_steps=7, reward="improvement")
    inner = env.unwrapped
    assert isinstance(inner, MlgymEnv)
    assert inner.task == "blotto"
    assert inner.defaults["max_steps"] == 7
    assert inner.run_id is None
    with pytest.raises(ValueError):
        MlgymEnv("blotto", reward="sometimes")
    with pytest.raises(ValueError):
        MlgymEnv("blotto", on_close="never")


def test_free_text_space():
    space = FreeText(max_length=10, seed=3)
    assert space.contains("ls -la ü")
    assert not space.contains("x" * 11)
    assert not space.contains(3)
    sample = space.sample()
    assert isinstance(sample, str) and space.contains(sample)


def test_rewards():
    info = info_of(observation())
    assert reward_of(info, "zero") == 0.0
    assert reward_of(info, "improvement") == pytest.approx(0.2)
    assert reward_of(info, lambda i: i["step"] * 10.0) == 30.0
    # A metric to minimise: lower than the baseline is an improvement.
    assert improvement_over({"name": "Time", "direction": "min", "baseline": 16.0}, 12.0) == pytest.approx(4.0)
    # No baseline recorded: no improvement to reward.
    assert improvement_over({"name": "Time", "direction": "min", "baseline": None}, 12.0) == 0.0
    # The step that ends the episode is rewarded with the final score, not a validate's.
    final = {"exitStatus": "submitted", "status": "completed", "score": 2.5, "metrics": {"Score": 2.5}, "steps": 4, "costUsd": 0}
    ended = info_of(observation(final=final, done=True, terminated=True, validation={"kind": "submit", "metrics": {"Score": 2.5}, "error": None}))
    assert ended["final_score"] == 2.5
    assert ended["final"]["exit_status"] == "submitted"
    assert reward_of(ended, "improvement") == pytest.approx(0.1)
    # A command step, or a failed validate: 0.
    assert reward_of(info_of(observation(validation=None, action="ls")), "improvement") == 0.0
    assert reward_of(info_of(observation(validation={"kind": "validate", "metrics": None, "error": "missing"})), "improvement") == 0.0


def test_info_is_a_fresh_snake_case_dict():
    obs = observation()
    a, b = info_of(obs), info_of(obs)
    assert a == b and a is not b and a["validation"] is not b["validation"]
    assert a["state"] == {"steps_used": 3, "max_steps": 10, "remaining": 7, "open_file": "n/a", "working_dir": "/home/agent/workspace"}
    assert a["run_id"] == "run-prisonersDilemma-external-1-abcdef"


def test_run_input_matches_the_workflow():
    settings = EpisodeSettings(task="prisonersDilemma", seed=4, data="fixture", max_steps=12, idle_pause_s=30)
    run_id = new_run_id("prisonersDilemma", 4)
    assert run_id.startswith("run-prisonersDilemma-external-4-") and len(run_id.rsplit("-", 1)[1]) == 6
    assert settings.run_input(run_id) == {
        "runId": run_id,
        "taskId": "prisonersDilemma",
        "model": "external",
        "seed": 4,
        "maxSteps": 12,
        "keep": False,
        "continueEvery": 100,
        "data": "fixture",
        "idlePauseS": 30,
    }


def test_step_update_ids_match_the_typescript_client():
    from durable_mlgym._episode import step_update_id

    assert step_update_id(3, "ls") == "step-3-c7b68ac37f364473"
    assert step_update_id(3, "ls -la") != step_update_id(3, "ls")


def test_the_query_of_external_runs_names_only_ids():
    from durable_mlgym.runs import runs_query

    assert runs_query(bench_id="bench-20261205-ab12") == "MlgymModel = 'external' AND MlgymBenchId = 'bench-20261205-ab12' AND ExecutionStatus = 'Running'"
    assert runs_query(task="blotto", running=False) == "MlgymModel = 'external' AND MlgymTask = 'blotto'"
    with pytest.raises(ValueError, match="expected an id"):
        runs_query(bench_id="x' OR MlgymModel != 'external")


def test_exit_quiesces_the_shared_loop_before_the_interpreter_finalizes(monkeypatch):
    # The exit handler is what keeps the Temporal client's threads from crashing a finishing trainer.
    import asyncio
    import atexit

    from durable_mlgym import _runtime

    _runtime._shutdown()  # the loop of earlier tests, if any: start from none
    registered = []
    monkeypatch.setattr(atexit, "register", registered.append)
    loop = _runtime.loop()
    stuck = asyncio.run_coroutine_threadsafe(asyncio.sleep(3600), loop)
    _runtime._clients[("somewhere:7233", "default")] = object()  # type: ignore[assignment]
    thread = _runtime._thread
    assert registered == [_runtime._shutdown]

    _runtime._shutdown()
    assert stuck.cancelled()
    assert _runtime._clients == {}
    assert thread is not None and not thread.is_alive()
    assert not loop.is_running()
    assert _runtime.loop() is not loop  # a later use starts a fresh loop
