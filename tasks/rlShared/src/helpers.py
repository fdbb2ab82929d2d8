"""Helpers of the PPO baseline: reading config.yaml, the smoke-test budget, saving and loading checkpoints.

A checkpoint is a pickled dict {"network": the flax variables as numpy arrays, "env_name", "seed",
"train_log"}. The evaluation reads "network" only, and its unpickler accepts nothing but dicts, lists,
tuples, numbers, strings and numpy (or jax) arrays, so keep other objects out of checkpoint files.
"""
import os
import pickle

import jax
import numpy as np
import yaml

# MLGYM_DATA=fixture marks a smoke test: each seed trains for at most this many environment steps.
FIXTURE = os.environ.get("MLGYM_DATA") == "fixture"
FIXTURE_MAX_STEPS = 65_536


def load_config(path="config.yaml"):
    with open(path) as f:
        return yaml.safe_load(f)


def training_steps(train_config):
    """The number of environment steps to train each seed for."""
    steps = int(train_config["total_steps"])
    return min(steps, FIXTURE_MAX_STEPS) if FIXTURE else steps


def save_checkpoint(path, variables, **info):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    network = jax.tree_util.tree_map(lambda x: np.asarray(x, dtype=np.float32), jax.device_get(variables))
    with open(path, "wb") as f:
        pickle.dump({"network": network, **info}, f)


def load_checkpoint(path):
    with open(path, "rb") as f:
        return pickle.load(f)
