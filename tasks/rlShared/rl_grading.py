"""The evaluation shared by the RL tasks, as MLGym-Bench evaluates them: the mean episode return of the
agent's 5 checkpoints, each played with 5 seeds in 256 environments for a fixed number of steps.

Each task's evaluate.py calls grade(<gymnax environment id>). The agent's own src/networks.py builds its
policy (the agent may change the architecture, as in MLGym), but it runs in the grader's sandbox
(grading.agent_function: another user, no secrets, no files of the grader), where its
`evaluation_policy` gets the checkpoints' variables once and then, step after step, the observations of
every environment, and answers the policy's distribution for each. Everything that makes the score
stays here: the split's seeds, the environments, the action sampling and the sum of the rewards.
Checkpoints are read with an unpickler that builds nothing but containers, numbers, strings and arrays.
"""
import marshal
import math
import os
import pickle
import tempfile
from collections.abc import Mapping

import grading  # first: it guards the real stdout before anything else can print
import helpers  # the grader's copy of the starter's: on the fixture it pins XLA's CPU code before JAX starts

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

N_CHECKPOINTS = 5
N_SEEDS = 5
N_ENVS = 8 if helpers.FIXTURE else 256
# MLGym's evaluator steps every environment this many times, whatever the environment's own limit.
HORIZONS = {"Breakout-MinAtar": 999, "MetaMaze-misc": 199, "MountainCarContinuous-v0": 200}
CHECKPOINT_BYTES = 4 * 1024 * grading.MiB  # the most the grader copies of checkpoints/
SOURCE_BYTES = 64 * grading.MiB  # the most the grader copies of src/
MAX_DEPTH = 32  # nesting of a checkpoint's variables
# The agent's JAX process needs threads (XLA's pools), a first call that compiles, and a whole rollout's time.
SANDBOX = {"nproc": 256, "call_timeout_s": 300.0, "import_timeout_s": 300.0, "total_timeout_s": 1700.0}
# Both splits are graded in one grader container: the second split reuses the XLA code compiled for the
# first, the evaluator's in its private TMPDIR, the sandbox's in a folder of the sandbox user's.
SANDBOX_JAX_CACHE = {"JAX_COMPILATION_CACHE_DIR": "/tmp/mlgym-sandbox-jax-cache",
                     "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}

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
                             missing="config.yaml not found in the workspace (the evaluation builds the network from it)")
    try:
        with open(path) as f:
            config = yaml.safe_load(f)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        grading.fail(f"config.yaml is not valid YAML: {exc}"[:500])
    if not isinstance(config, dict):
        grading.fail("config.yaml must be a mapping with env_name and network sections")
    if config.get("env_name") != env_id:
        grading.fail(f"config.yaml: env_name must be {env_id!r} for this task, got {config.get('env_name')!r}")
    try:
        marshal.dumps(config)
    except ValueError:
        grading.fail("config.yaml may hold only mappings, lists, strings, numbers, booleans and nulls")
    return config


def network_code():
    """The grader's copy of the workspace's src/networks.py."""
    folder = grading.submitted("src", kind="dir", max_bytes=SOURCE_BYTES,
                               missing="src/ not found in the workspace (the evaluation builds the policy with src/networks.py)")
    path = os.path.join(folder, "networks.py")
    if not os.path.isfile(path):
        grading.fail("src/networks.py not found in the workspace (the evaluation builds the policy with it)")
    return path


def checkpoint_files():
    folder = grading.submitted("checkpoints", kind="dir", max_bytes=CHECKPOINT_BYTES,
                               missing="checkpoints/ not found in the workspace (run src/train.py to write it)")
    names = sorted(n for n in os.listdir(folder) if n.endswith(".pkl"))
    if len(names) != N_CHECKPOINTS:
        grading.fail(f"checkpoints/ must hold exactly {N_CHECKPOINTS} .pkl files (one per training seed), found "
                     f"{len(names)}: {', '.join(names[:10]) or 'none'}")
    return [os.path.join(folder, n) for n in names]


def load_variables(path):
    """The checkpoint's network variables, each array as a (shape, float32 bytes) pair, for the sandbox."""
    name = f"checkpoints/{os.path.basename(path)}"
    try:
        with open(path, "rb") as f:
            checkpoint = ArraysOnlyUnpickler(f).load()
    except Exception as exc:  # a damaged or hostile file can raise anything while unpickling
        grading.fail(f"{name} is not a readable checkpoint: {type(exc).__name__}: {exc}"[:500])
    if not isinstance(checkpoint, Mapping) or "network" not in checkpoint:
        grading.fail(f"{name} must be a pickled dict with the network's variables under the key 'network'")
    return plain_tree(checkpoint["network"], name, "network", 0)


def plain_tree(value, name, where, depth):
    if depth > MAX_DEPTH:
        grading.fail(f"{name}: {where} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            grading.fail(f"{name}: {where} has keys that are not strings")
        return {k: plain_tree(v, name, f"{where}/{k}", depth + 1) for k, v in value.items()}
    try:
        array = np.asarray(value)
    except Exception:
        grading.fail(f"{name}: {where} is not an array")
    if array.dtype.kind not in "fiu":
        grading.fail(f"{name}: {where} has dtype {array.dtype}; the network's variables must be numeric arrays")
    if not np.all(np.isfinite(array)):
        grading.fail(f"{name}: {where} contains NaN or infinite values")
    return (tuple(int(n) for n in array.shape), np.ascontiguousarray(array, np.float32).tobytes())


def policy_outputs(reply, discrete, rows, actions):
    """The checked distribution parameters of the agent's reply: (logits,) or (mean, std), each rows x actions."""
    wanted = "[logits]" if discrete else "[mean, std]"
    parts = 1 if discrete else 2
    if not isinstance(reply, list) or len(reply) != parts:
        grading.fail(f"src/networks.py evaluation_policy must return {wanted} (flat lists of numbers), returned "
                     f"{str(reply)[:200]}")
    arrays = []
    for part in reply:
        try:
            array = np.asarray(part, dtype=np.float64)
        except (TypeError, ValueError):
            grading.fail(f"src/networks.py evaluation_policy must return {wanted} as flat lists of numbers")
        if array.shape != (rows * actions,):
            grading.fail(f"src/networks.py evaluation_policy returned {array.size} numbers per list, expected "
                         f"{rows * actions} ({rows} observations x {actions} actions)")
        if not np.all(np.isfinite(array)):
            grading.fail("src/networks.py evaluation_policy returned NaN or infinite values")
        arrays.append(array.reshape(rows, actions).astype(np.float32))
    if not discrete and not np.all(arrays[1] > 0):
        grading.fail("src/networks.py evaluation_policy returned a standard deviation that is not positive")
    return tuple(arrays)


class Rollout:
    """N_CHECKPOINTS x N_SEEDS x N_ENVS environments, each checkpoint playing the same seeds: the same
    starts, the same environment and sampling keys. Only each environment's first episode counts."""

    def __init__(self, env, env_params, seed_keys):
        self.env, self.env_params, self.seed_keys = env, env_params, seed_keys
        k_reset = jax.vmap(lambda k: jax.random.split(jax.random.fold_in(k, 0), N_ENVS))(seed_keys)
        obs, state = jax.vmap(jax.vmap(env.reset, in_axes=(0, None)), in_axes=(0, None))(k_reset, env_params)
        self.obs, self.state = jax.tree_util.tree_map(lambda x: jnp.stack([x] * N_CHECKPOINTS), (obs, state))
        self.total = jnp.zeros((N_CHECKPOINTS, N_SEEDS, N_ENVS))
        self.live = jnp.ones((N_CHECKPOINTS, N_SEEDS, N_ENVS))
        self.advance = jax.jit(self._advance)

    def _advance(self, t, state, total, live, pi):
        keys = jax.vmap(lambda k: jax.random.split(jax.random.fold_in(k, t + 1)))(self.seed_keys)
        act_keys, env_keys = (jax.vmap(lambda k: jax.random.split(k, N_ENVS))(keys[:, i]) for i in (0, 1))
        if len(pi) == 1:
            draw = lambda k, logits: jax.random.categorical(k, logits)  # noqa: E731
        else:
            draw = lambda k, mean, std: mean + std * jax.random.normal(k, mean.shape)  # noqa: E731
        per_env = jax.vmap(jax.vmap(jax.vmap(draw)), in_axes=(None,) + (0,) * len(pi))
        shaped = tuple(p.reshape((N_CHECKPOINTS, N_SEEDS, N_ENVS) + p.shape[-1:]) for p in pi)
        action = per_env(act_keys, *shaped)
        step = jax.vmap(jax.vmap(jax.vmap(self.env.step, in_axes=(0, 0, 0, None)), in_axes=(0, 0, 0, None)),
                        in_axes=(None, 0, 0, None))
        obs, state, reward, terminated, truncated, _ = step(env_keys, state, action, self.env_params)
        total = total + reward * live
        live = live * (1.0 - jnp.logical_or(terminated, truncated))
        return obs, state, total, live

    def observations(self):
        obs = np.asarray(self.obs)
        return {"obs": obs.tobytes(), "dtype": obs.dtype.str,
                "shape": [N_CHECKPOINTS, N_SEEDS * N_ENVS, *obs.shape[3:]]}

    def step(self, t, pi):
        self.obs, self.state, self.total, self.live = self.advance(t, self.state, self.total, self.live, pi)
        return bool(self.live.any())


def episode_returns(policy, env, env_params, seed_keys, horizon):
    """Every environment's return over `horizon` steps (its first episode only), actions sampled here
    from the distributions the agent's policy answers."""
    from gymnax.environments import spaces

    space = env.action_space(env_params)
    discrete = isinstance(space, spaces.Discrete)
    actions = space.n if discrete else int(np.prod(space.shape))
    rollout = Rollout(env, env_params, seed_keys)
    for t in range(horizon):
        reply = grading.call_agent(policy, {"op": "act", **rollout.observations()})
        pi = policy_outputs(reply, discrete, N_CHECKPOINTS * N_SEEDS * N_ENVS, actions)
        if not rollout.step(t, pi):
            break  # every environment's first episode is over: later rewards do not count
    return np.asarray(rollout.total)


def grade(env_id):
    """Score the workspace's checkpoints on gymnax environment `env_id` and report the metrics."""
    grading.split()
    config = read_config(env_id)
    variables = [load_variables(p) for p in checkpoint_files()]
    import gymnax  # after the artifact's own checks: a malformed submission fails without waiting for it (1.5 s)

    jax.config.update("jax_compilation_cache_dir", os.path.join(tempfile.gettempdir(), "jax-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    env, env_params = gymnax.make(env_id)
    seed_keys = jax.random.split(jax.random.PRNGKey(int(grading.secret("seed"))), N_SEEDS)
    sandbox_env = {**SANDBOX_JAX_CACHE, **({"XLA_FLAGS": helpers.FIXTURE_XLA_FLAGS} if helpers.FIXTURE else {})}
    with grading.agent_function("src/networks.py", "evaluation_policy", "request", copy=network_code(),
                                env=sandbox_env, **SANDBOX) as policy:
        grading.call_agent(policy, {"op": "load", "config": config, "checkpoints": variables})
        returns = episode_returns(policy, env, env_params, seed_keys, HORIZONS[env_id])
    mean, std = float(returns.mean()), float(returns.std())
    if not (math.isfinite(mean) and math.isfinite(std)):
        grading.fail("the episode returns are not finite numbers")
    grading.report({"Reward Mean": round(mean, 4), "Reward Std": round(std, 4)})
