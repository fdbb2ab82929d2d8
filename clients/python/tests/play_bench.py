"""An outside agent for a benchmark's external runs (tests/integration/gymBench.test.ts).

    python play_bench.py <bench-id> <runs>

Finds the benchmark's runs that wait for a client, attaches to each and plays it (a validate, then a submit),
until it has played <runs> of them. Prints one JSON line per run: its run id and final info.
"""

from __future__ import annotations

import json
import sys
import time

from durable_mlgym import MlgymEnv, external_runs


def play(run_id: str) -> dict:
    env = MlgymEnv(on_close="detach")
    obs, info = env.attach(run_id)
    while True:
        action = "validate" if info["validation"] is None else "submit"
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return info


def main(bench_id: str, runs: int) -> None:
    played: set[str] = set()
    deadline = time.monotonic() + 240
    while len(played) < runs:
        waiting = [run_id for run_id in external_runs(bench_id=bench_id) if run_id not in played]
        for run_id in waiting:
            final = play(run_id)
            played.add(run_id)
            print(json.dumps({"run_id": run_id, "final": final["final"], "validation": final["validation"]}), flush=True)
        if not waiting:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(played)} of {runs} runs of {bench_id} showed up")
            time.sleep(0.5)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
