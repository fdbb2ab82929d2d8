"""Helpers of the PPO baseline: reading config.yaml, the smoke-test budget and pins, saving and loading checkpoints.

A checkpoint is a pickled dict {"network": the flax variables as numpy arrays, "env_name", "seed",
"train_log"}. The evaluation reads "network" only, and its unpickler accepts nothing but dicts, lists,
tuples, numbers, strings and numpy (or jax) arrays, so keep other objects out of checkpoint files.
The evaluation imports its own copy of this file, for FIXTURE and the pins below.
"""
import os
import pickle

# MLGYM_DATA=fixture marks a smoke test: each seed trains for at most this many environment steps.
FIXTURE = os.environ.get("MLGYM_DATA") == "fixture"
FIXTURE_MAX_STEPS = 65_536
# On the fixture, XLA's CPU code is pinned so that every x86 machine computes the same bits and the
# smoke test's score can be recorded exactly: code generated for AVX at most (not the host's AVX2 or
# AVX-512), no YNNPACK/XNNPACK kernels (they pick their code by CPU) and single-threaded Eigen.
# Set before jax starts its CPU backend, so import this module before anything that runs JAX code.
FIXTURE_XLA_FLAGS = ("--xla_cpu_max_isa=AVX --xla_cpu_experimental_ynn_fusion_type= "
                     "--xla_cpu_use_xnnpack=false --xla_cpu_multi_thread_eigen=false")
if FIXTURE:
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FIXTURE_XLA_FLAGS}".strip()

import jax  # noqa: E402 (after XLA_FLAGS)
import numpy as np  # noqa: E402
import yaml  # noqa: E402


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
