"""Train the PPO baseline on the task's gymnax environment, one policy per seed, and save the checkpoints.

Run from the workspace: python3 src/train.py [config.yaml]
It reads config.yaml (env_name, seeds, train, network), replaces the .pkl files in checkpoints/ with one
checkpoint per seed (checkpoints/<env_name>-<seed>.pkl; the evaluation needs exactly 5) and prints
the training returns. With MLGYM_DATA=fixture (a smoke test) each seed trains for a few seconds only.
"""
import glob
import os
import sys
import time

import gymnax

from helpers import FIXTURE, load_config, save_checkpoint
from networks import build_network
from policy import PPO

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
        variables, history = ppo.train(seed, log=lambda line: print(line, flush=True))
        path = os.path.join(CHECKPOINT_DIR, f"{config['env_name']}-{seed}.pkl")
        save_checkpoint(path, variables, env_name=config["env_name"], seed=seed, train_log=history)
        print(f"seed {seed}: saved {path} after {time.time() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
