"""The evaluation shared by the RL tasks: the mean episode return of the agent's 5 PPO checkpoints.

Each task's evaluate.py calls grade(<gymnax environment id>). No agent code runs: config.yaml and
checkpoints/ are copied as plain files (no links; grading.submitted), the network is rebuilt
from the `network` section of the workspace's config.yaml with the grader's own networks.py (the
starter src/networks.py), and checkpoints are read with an unpickler that builds nothing but
containers, numbers, strings and arrays. Every checkpoint plays one episode in each of N_ENVS
environments for each of N_SEEDS keys derived from this split's secret seed, sampling its actions;
"Reward Mean" and "Reward Std" are over all those episode returns. MLGYM_DATA=fixture uses fewer
environments.
"""
import math
import os
import pickle
from collections.abc import Mapping

import grading  # first: it guards the real stdout before anything else can print

import jax
import jax.numpy as jnp
import numpy as np
import yaml

N_CHECKPOINTS = 5
N_SEEDS = 5
N_ENVS = 8 if os.environ.get("MLGYM_DATA") == "fixture" else 64
CHECKPOINT_BYTES = 4 * 1024 * grading.MiB  # the most the grader copies of checkpoints/

# The globals a checkpoint may name: numpy (and jax) arrays and scalars, and flax's FrozenDict.
ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("jax._src.array", "_reconstruct_array"),
    ("flax.core.frozen_dict", "FrozenDict"),
    ("collections", "OrderedDict"),
}


class ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"it needs {module}.{name}, but checkpoints may hold only dicts, lists, numbers, strings "
                "and numpy arrays (src/helpers.py save_checkpoint writes such files)"
            )
        return super().find_class(module, name)


def read_config(env_id):
    path = grading.submitted("config.yaml", max_bytes=grading.MiB,
                             missing="config.yaml not found in the workspace (the evaluation rebuilds the network from it)")
    try:
        with open(path) as f:
            config = yaml.safe_load(f)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        grading.fail(f"config.yaml is not valid YAML: {exc}"[:500])
    if not isinstance(config, dict):
        grading.fail("config.yaml must be a mapping with env_name and network sections")
    if config.get("env_name") != env_id:
        grading.fail(f"config.yaml: env_name must be {env_id!r} for this task, got {config.get('env_name')!r}")
    return config


def checkpoint_files():
    folder = grading.submitted("checkpoints", kind="dir", max_bytes=CHECKPOINT_BYTES,
                               missing="checkpoints/ not found in the workspace (run src/train.py to write it)")
    names = sorted(n for n in os.listdir(folder) if n.endswith(".pkl"))
    if len(names) != N_CHECKPOINTS:
        grading.fail(f"checkpoints/ must hold exactly {N_CHECKPOINTS} .pkl files (one per training seed), found "
                     f"{len(names)}: {', '.join(names[:10]) or 'none'}")
    return [os.path.join(folder, n) for n in names]


def load_variables(path, expected):
    """The checkpoint's network variables as float32 numpy arrays, checked against `expected` shapes."""
    name = f"checkpoints/{os.path.basename(path)}"
    try:
        with open(path, "rb") as f:
            checkpoint = ArraysOnlyUnpickler(f).load()
    except Exception as exc:  # a damaged or hostile file can raise anything while unpickling
        grading.fail(f"{name} is not a readable checkpoint: {type(exc).__name__}: {exc}"[:500])
    if not isinstance(checkpoint, Mapping) or "network" not in checkpoint:
        grading.fail(f"{name} must be a pickled dict with the network's variables under the key 'network'")
    return match_tree(checkpoint["network"], expected, name, "network")


def match_tree(value, expected, name, where):
    if isinstance(expected, dict):
        if not isinstance(value, Mapping):
            grading.fail(f"{name}: {where} must be a dict with keys {sorted(expected)}, got {type(value).__name__}")
        if set(value) != set(expected):
            missing, extra = sorted(set(expected) - set(value)), sorted(set(value) - set(expected), key=str)
            grading.fail(f"{name}: {where} does not match the network config.yaml describes"
                         f" (missing {missing}, unexpected {extra})"[:500])
        return {k: match_tree(value[k], expected[k], name, f"{where}/{k}") for k in expected}
    try:
        array = np.asarray(value)
    except Exception:
        grading.fail(f"{name}: {where} is not an array")
    if array.dtype.kind not in "fiu" or array.shape != tuple(expected.shape):
        grading.fail(f"{name}: {where} has shape {array.shape} and dtype {array.dtype}; the network config.yaml "
                     f"describes needs a float array of shape {tuple(expected.shape)}")
    if not np.all(np.isfinite(array)):
        grading.fail(f"{name}: {where} contains NaN or infinite values")
    return array.astype(np.float32)


def episode_returns(network, env, env_params, variables, key):
    """Returns of one episode in each of N_ENVS environments, actions sampled from the policy."""
    from networks import sample_action

    k_reset, k_run = jax.random.split(key)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(k_reset, N_ENVS), env_params)
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def body(carry):
        t, obs, state, total, live = carry
        k_act, k_env = jax.random.split(jax.random.fold_in(k_run, t))
        pi, _ = network.apply(variables, obs)
        action = sample_action(pi, k_act)
        obs, state, reward, terminated, truncated, _ = step(jax.random.split(k_env, N_ENVS), state, action, env_params)
        total = total + reward * live
        live = live * (1.0 - jnp.logical_or(terminated, truncated))
        return t + 1, obs, state, total, live

    def running(carry):
        t, _, _, _, live = carry
        return jnp.logical_and(t < env_params.max_steps_in_episode, live.any())

    carry = (0, obs, state, jnp.zeros(N_ENVS), jnp.ones(N_ENVS))
    return jax.lax.while_loop(running, body, carry)[3]


def grade(env_id):
    """Score the workspace's checkpoints on gymnax environment `env_id` and report the metrics."""
    import gymnax
    from networks import build_network

    grading.split()
    config = read_config(env_id)
    env, env_params = gymnax.make(env_id)
    try:
        network = build_network(config.get("network"), env, env_params)
    except ValueError as exc:
        grading.fail(str(exc))
    obs = jnp.zeros((1,) + tuple(env.observation_space(env_params).shape), jnp.float32)
    expected = jax.eval_shape(network.init, jax.random.PRNGKey(0), obs)
    params = [load_variables(p, expected) for p in checkpoint_files()]
    stacked = jax.tree_util.tree_map(lambda *leaves: np.stack(leaves), *params)
    seed_keys = jax.random.split(jax.random.PRNGKey(int(grading.secret("seed"))), N_SEEDS)
    per_seed = jax.vmap(lambda v, k: episode_returns(network, env, env_params, v, k), in_axes=(None, 0))
    returns = np.asarray(jax.jit(jax.vmap(per_seed, in_axes=(0, None)))(stacked, seed_keys))
    mean, std = float(returns.mean()), float(returns.std())
    if not (math.isfinite(mean) and math.isfinite(std)):
        grading.fail("the episode returns are not finite numbers")
    grading.report({"Reward Mean": round(mean, 4), "Reward Std": round(std, 4)})
