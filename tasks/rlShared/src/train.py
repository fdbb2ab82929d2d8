"""Train the PPO baseline on the task's gymnax environment, one policy per seed, and save the checkpoints.

Run from the workspace: python3 src/train.py [config.yaml]
It reads config.yaml (env_name, seeds, train, network), replaces the .pkl files in checkpoints/ with one
checkpoint per seed (checkpoints/<env_name>-<seed>.pkl; the evaluation needs exactly 5) and prints
the training returns. With MLGYM_DATA=fixture (a smoke test) each seed trains for a few seconds only,
with XLA's CPU code pinned (helpers.py) so that the checkpoints are the same bits on every machine.
"""
import glob
import os
import random
import sys
import time

from helpers import FIXTURE, load_config, save_checkpoint  # first: it pins XLA on the fixture

import gymnax  # noqa: E402
import numpy as np  # noqa: E402

from networks import build_network  # noqa: E402
from policy import PPO  # noqa: E402

CHECKPOINT_DIR = "checkpoints"


def main(config_path="config.yaml"):
    config = load_config(config_path)
    env, env_params = gymnax.make(config["env_name"])
    network = build_network(config.get("network"), env, env_params)
    ppo = PPO(config["train"], env, env_params, network)
    print(f"{config['env_name']}: {ppo.num_updates} updates of {ppo.batch_size} steps per seed"
          f"{' (MLGYM_DATA=fixture: smoke-test budget)' if FIXTURE else ''}", flush=True)
    for old in glob.glob(os.path.join(CHECKPOINT_DIR, "*.pkl")):
        os.remove(old)
    for seed in config["seeds"]:
        start = time.time()
        random.seed(seed)  # training draws from JAX's PRNG (keyed by the seed); these for code that adds other draws
        np.random.seed(seed)
        variables, history = ppo.train(seed, log=lambda line: print(line, flush=True))
        path = os.path.join(CHECKPOINT_DIR, f"{config['env_name']}-{seed}.pkl")
        save_checkpoint(path, variables, env_name=config["env_name"], seed=seed, train_log=history)
        print(f"seed {seed}: saved {path} after {time.time() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
