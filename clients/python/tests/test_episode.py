"""Episodes against a real Temporal server, worker and Docker engine.

Driven by tests/integration/gymPython.test.ts, which runs the worker on the task queue in
MLGYM_TASK_QUEUE and points TEMPORAL_ADDRESS at the suite's dev server. Without them these tests fail.
"""

from __future__ import annotations

import os
import warnings

import gymnasium as gym
import pytest

from durable_mlgym import EpisodeError, MlgymEnv, register_task, run_episodes

# A test fixture (tests/fixtures/tasks, on MLGYM_TASKS_PATH): a Prisoner's Dilemma graded by the games'
# grading code over 100 games, so that each evaluation takes a fraction of a second.
TASK = "quickDilemma"
ENV_ID = register_task(TASK)

STRATEGY = """cat > strategy.py <<'EOF'
def row_strategy(history):
    if len(history) == 9:
        return 1
    if not history:
        return 0
    return history[-1][1]
EOF
python3 -c "import strategy; print('ok', strategy.row_strategy([]))\""""

COUNT = "sleep 1; echo ran >> /home/agent/workspace/count.txt; wc -l < /home/agent/workspace/count.txt"


@pytest.fixture(scope="module", autouse=True)
def server():
    assert os.environ.get("TEMPORAL_ADDRESS"), "TEMPORAL_ADDRESS must name the test's Temporal server"
    assert os.environ.get("MLGYM_TASK_QUEUE"), "MLGYM_TASK_QUEUE must name the test worker's task queue"


def test_an_episode_through_gym_make():
    env = gym.make(ENV_ID, max_steps=8, reward="improvement")
    # The passive checker of gym.make warns about anything off the Gymnasium API: make that an error.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        obs, info = env.reset(seed=7)
        assert "row_strategy(history)" in obs
        assert "(Steps used: 0 of 8, remaining: 8)" in obs
        assert info["task"]["id"] == TASK
        assert "validate" in info["task"]["commands"]
        assert info["metric"]["name"] == "Score" and info["metric"]["direction"] == "max"
        baseline = info["metric"]["baseline"]

        obs, reward, terminated, truncated, info = env.step("cat strategy.py")
    assert "def row_strategy(history):" in obs
    assert "(Steps used: 1 of 8, remaining: 7)" in obs
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert info["exit_code"] == 0 and info["state"]["working_dir"] == "/home/agent/workspace"

    obs, *_ = env.step(STRATEGY)
    assert "ok 0" in obs

    obs, reward, terminated, truncated, info = env.step("validate")
    shown = info["validation"]["metrics"]["Score"]
    assert "Evaluation Score (validation split)" in obs
    assert reward == pytest.approx(shown - baseline)
    assert not terminated

    obs, reward, terminated, truncated, info = env.step("submit")
    assert terminated and not truncated
    assert info["final"]["exit_status"] == "submitted"
    assert isinstance(info["final_score"], float)
    assert reward == pytest.approx(info["final_score"] - baseline)
    with pytest.raises(EpisodeError, match="is over"):
        env.step("ls")
    run_id = env.unwrapped.run_id
    result = env.unwrapped.result()
    assert result["runId"] == run_id and result["status"] == "completed"
    assert result["submission"]["metrics"]["Score"] == info["final_score"]
    env.close()


def test_a_retried_step_runs_once_and_another_client_attaches():
    env = MlgymEnv(TASK, max_steps=6)
    env.reset(seed=8)
    first, info = env.send_step(0, COUNT)
    again, _ = env.send_step(0, COUNT)  # a client retrying after a crash: the same step number
    assert again == first and first.startswith("1\n")
    with pytest.raises(EpisodeError, match="already has another action"):
        env.send_step(0, "echo something else")

    # Another process (here: another environment) continues the episode.
    other = MlgymEnv(on_close="forfeit")
    obs, info = other.reset(options={"attach": env.run_id})
    assert info["step"] == 1 and obs == first
    obs, *_ = other.step("cat /home/agent/workspace/count.txt")
    assert obs.split("\n").count("ran") == 1
    other.close()
    assert other.result()["exitStatus"] == "exit_forfeit"


def test_the_vector_env_steps_episodes_together():
    envs = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="vector_entry_point", max_steps=4)
    obs, infos = envs.reset(seed=20)
    assert len(obs) == 2 and all("row_strategy(history)" in o for o in obs)
    assert len(set(infos["run_id"])) == 2
    obs, rewards, terminations, truncations, infos = envs.step(["echo one", "submit"])
    assert "one" in obs[0]
    assert list(terminations) == [False, True] and list(truncations) == [False, False]
    obs, rewards, terminations, truncations, infos = envs.step(["submit", "ignored: this episode is over"])
    assert list(terminations) == [True, True]
    assert all(isinstance(score, float) for score in infos["final_score"])
    envs.close()


def test_run_episodes_in_parallel():
    def policy(obs, info):
        return "validate" if info["step"] == 0 else "submit"

    finals = run_episodes(policy, task=TASK, n=2, seed=30, options={"max_steps": 5})
    assert [f["final"]["exit_status"] for f in finals] == ["submitted", "submitted"]
    assert len({f["run_id"] for f in finals}) == 2
