"""A trainer process for tests/integration/gymPython.test.ts: killed mid-episode, then attached again.

    python kill_attach.py start <run-id-file>   start an episode, write its run id, then block in a slow step
    python kill_attach.py attach <run-id>       continue that episode and submit; prints JSON lines
"""

from __future__ import annotations

import json
import sys

from durable_mlgym import MlgymEnv

LOG = "/home/agent/workspace/runs.txt"


def emit(kind: str, obs: str, info: dict) -> None:
    print(json.dumps({"kind": kind, "observation": obs, "step": info["step"], "action": info["action"], "final": info["final"]}), flush=True)


def start(run_id_file: str) -> None:
    env = MlgymEnv("quickDilemma", max_steps=6, on_close="detach", keep=True)  # the test reads its container after the run
    env.reset(seed=5)
    env.step(f"echo start >> {LOG}")
    with open(run_id_file, "w") as f:
        f.write(env.run_id)
    env.step(f"sleep 4; echo slow >> {LOG}")  # the test kills this process while the step runs
    print("not killed", flush=True)


def attach(run_id: str) -> None:
    env = MlgymEnv(on_close="detach")
    emit("attach", *env.attach(run_id))
    obs, _, _, _, info = env.step(f"cat {LOG}")
    emit("cat", obs, info)
    obs, _, _, _, info = env.step("submit")
    emit("submit", obs, info)


if __name__ == "__main__":
    {"start": start, "attach": attach}[sys.argv[1]](sys.argv[2])
