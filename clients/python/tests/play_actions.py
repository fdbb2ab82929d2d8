"""A scripted outside agent for the integration tests (tests/integration/gym*.test.ts): plays a list of actions.

    python play_actions.py <plan.json>

The plan: ``{"task", "seed", "options": reset options, "actions": [...], "run_id_file"?: where to write the run id
after reset, "attach"?: a run id to continue instead of starting one}``. Prints one JSON line per observation:
``{"kind": "reset" | "step", "observation", "reward", "terminated", "truncated", "info"}``.
"""

from __future__ import annotations

import json
import sys

import gymnasium as gym

import durable_mlgym


def emit(kind: str, observation: str, info: dict, reward: float = 0.0, terminated: bool = False, truncated: bool = False) -> None:
    line = {"kind": kind, "observation": observation, "reward": reward, "terminated": terminated, "truncated": truncated, "info": info}
    print(json.dumps(line), flush=True)


def play(plan: dict) -> None:
    env = gym.make(durable_mlgym.register_task(plan["task"]), on_close="detach")
    if "attach" in plan:
        obs, info = env.reset(options={"attach": plan["attach"]})
    else:
        obs, info = env.reset(seed=plan["seed"], options=plan.get("options", {}))
    if "run_id_file" in plan:
        with open(plan["run_id_file"], "w") as f:
            f.write(env.unwrapped.run_id)
    emit("reset", obs, info)
    for action in plan["actions"]:
        obs, reward, terminated, truncated, info = env.step(action)
        emit("step", obs, info, reward, terminated, truncated)
    env.close()


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        play(json.load(f))
