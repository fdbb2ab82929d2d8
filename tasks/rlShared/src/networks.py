"""The actor-critic network of the PPO baseline and the action distributions it parameterises.

build_network(config["network"], env, env_params) makes the flax module from config.yaml's `network`
section. The evaluation uses this file too, the workspace's own copy: it calls evaluation_policy (at the
end) in a sandbox that holds nothing but this file, so change the architecture here or through
config.yaml as you like, keep this file self-contained (installed packages only, no other file of src/)
and keep evaluation_policy's answers as it describes.
"""
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from gymnax.environments import spaces

ACTIVATIONS = {"relu": nn.relu, "tanh": nn.tanh, "gelu": nn.gelu, "silu": nn.silu, "elu": nn.elu}

NETWORK_DEFAULTS = {
    "hidden_units": 256,  # width of every hidden layer
    "hidden_layers": 2,  # hidden layers of the actor and (separately) of the critic
    "activation": "relu",  # one of ACTIVATIONS
    "conv_channels": [],  # 3x3 convolutions, shared by actor and critic, for image observations
    "init_log_std": 0.0,  # continuous actions only: the initial log standard deviation
    "normalize_obs": False,  # scale inputs by running observation statistics (kept in the checkpoint)
}


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs, optionally on a shared convolutional torso.

    Called on a batch of observations, it returns (pi, value): pi is the logits for discrete actions
    or (mean, log_std) for continuous ones.
    """

    action_dim: int
    discrete: bool
    hidden_units: int
    hidden_layers: int
    activation: str
    conv_channels: tuple
    init_log_std: float
    normalize_obs: bool

    @nn.compact
    def __call__(self, obs):
        act = ACTIVATIONS[self.activation]
        x = obs.astype(jnp.float32)
        if self.normalize_obs:
            # Not trained: src/policy.py updates these statistics with update_obs_stats after each rollout.
            mean = self.variable("obs_stats", "mean", jnp.zeros, x.shape[1:]).value
            var = self.variable("obs_stats", "var", jnp.ones, x.shape[1:]).value
            self.variable("obs_stats", "count", lambda: jnp.zeros(()))
            x = jnp.clip((x - mean) / jnp.sqrt(var + 1e-8), -10.0, 10.0)
        for i, channels in enumerate(self.conv_channels):
            x = act(nn.Conv(channels, (3, 3), name=f"conv_{i}")(x))
        x = x.reshape((x.shape[0], -1))
        hidden = nn.initializers.orthogonal(np.sqrt(2))
        actor, critic = x, x
        for i in range(self.hidden_layers):
            actor = act(nn.Dense(self.hidden_units, kernel_init=hidden, name=f"actor_{i}")(actor))
            critic = act(nn.Dense(self.hidden_units, kernel_init=hidden, name=f"critic_{i}")(critic))
        value = nn.Dense(1, kernel_init=nn.initializers.orthogonal(1.0), name="value")(critic)[:, 0]
        # A small last layer starts the policy close to uniform (or to zero mean).
        out = nn.Dense(self.action_dim, kernel_init=nn.initializers.orthogonal(0.01), name="policy")(actor)
        if self.discrete:
            return out, value
        log_std = self.param("log_std", nn.initializers.constant(self.init_log_std), (self.action_dim,))
        return (out, jnp.broadcast_to(log_std, out.shape)), value


def network_settings(section):
    """The network settings of config.yaml's `network` section, defaults filled in; ValueError if invalid."""
    section = {} if section is None else section
    if not isinstance(section, dict):
        raise ValueError("config.yaml: `network` must be a mapping")
    unknown = sorted(set(section) - set(NETWORK_DEFAULTS))
    if unknown:
        raise ValueError(f"config.yaml: unknown network setting(s) {unknown}; known: {sorted(NETWORK_DEFAULTS)}")
    s = {**NETWORK_DEFAULTS, **section}
    for key, least in (("hidden_units", 1), ("hidden_layers", 0)):
        if isinstance(s[key], bool) or not isinstance(s[key], int) or s[key] < least:
            raise ValueError(f"config.yaml: network.{key} must be an integer >= {least}, got {s[key]!r}")
    if not isinstance(s["activation"], str) or s["activation"] not in ACTIVATIONS:
        raise ValueError(f"config.yaml: network.activation must be one of {sorted(ACTIVATIONS)}, "
                         f"got {s['activation']!r}")
    channels = s["conv_channels"]
    if not isinstance(channels, list) or not all(type(c) is int and c > 0 for c in channels):
        raise ValueError(f"config.yaml: network.conv_channels must be a list of positive integers, got {channels!r}")
    if not isinstance(s["normalize_obs"], bool):
        raise ValueError(f"config.yaml: network.normalize_obs must be true or false, got {s['normalize_obs']!r}")
    if isinstance(s["init_log_std"], bool) or not isinstance(s["init_log_std"], (int, float)):
        raise ValueError(f"config.yaml: network.init_log_std must be a number, got {s['init_log_std']!r}")
    return s


def build_network(section, env, env_params):
    """The ActorCritic for `env` described by config.yaml's `network` section."""
    s = network_settings(section)
    space = env.action_space(env_params)
    discrete = isinstance(space, spaces.Discrete)
    if s["conv_channels"] and len(env.observation_space(env_params).shape) != 3:
        raise ValueError("config.yaml: network.conv_channels needs image (height x width x channels) observations")
    return ActorCritic(
        action_dim=space.n if discrete else int(np.prod(space.shape)),
        discrete=discrete,
        hidden_units=s["hidden_units"],
        hidden_layers=s["hidden_layers"],
        activation=s["activation"],
        conv_channels=tuple(s["conv_channels"]),
        init_log_std=float(s["init_log_std"]),
        normalize_obs=s["normalize_obs"],
    )


def init_params(network, env, env_params, key):
    """Fresh network variables ({"params": ...}, plus "obs_stats" with normalize_obs) for `env`."""
    obs_shape = env.observation_space(env_params).shape
    return network.init(key, jnp.zeros((1,) + tuple(obs_shape), jnp.float32))


def update_obs_stats(variables, obs):
    """`variables` with the running observation mean and variance updated by a batch of observations."""
    if "obs_stats" not in variables:
        return variables
    stats = variables["obs_stats"]
    batch = obs.reshape((-1,) + stats["mean"].shape).astype(jnp.float32)
    n = batch.shape[0]
    total = stats["count"] + n
    delta = batch.mean(axis=0) - stats["mean"]
    mean = stats["mean"] + delta * n / total
    # Chan et al.'s parallel combination of two sets' variances.
    var = (stats["var"] * stats["count"] + batch.var(axis=0) * n + delta**2 * stats["count"] * n / total) / total
    return {**variables, "obs_stats": {"mean": mean, "var": var, "count": total}}


def sample_action(pi, key):
    """One action per batch row from the policy output `pi`."""
    if isinstance(pi, tuple):
        mean, log_std = pi
        return mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)
    return jax.random.categorical(key, pi)


def log_prob(pi, action):
    """Log-probability (density for continuous actions) of `action` under `pi`, per batch row."""
    if isinstance(pi, tuple):
        mean, log_std = pi
        z = (action - mean) / jnp.exp(log_std)
        return jnp.sum(-0.5 * z**2 - log_std - 0.5 * jnp.log(2 * jnp.pi), axis=-1)
    logp = jax.nn.log_softmax(pi)
    return jnp.take_along_axis(logp, action[:, None], axis=-1)[:, 0]


def entropy(pi):
    """Entropy of `pi`, per batch row."""
    if isinstance(pi, tuple):
        _, log_std = pi
        return jnp.sum(log_std + 0.5 * jnp.log(2 * jnp.pi * jnp.e), axis=-1)
    logp = jax.nn.log_softmax(pi)
    return -jnp.sum(jnp.exp(logp) * logp, axis=-1)


# -- the evaluation's entry point ------------------------------------------------------------------

_evaluation = {}


def evaluation_policy(request):
    """What the evaluation asks of the policy, in a sandbox of its own (no file but this one, no secrets).

    {"op": "load", "config": config.yaml, "checkpoints": [variables, ...]}: build the network and keep
      the checkpoints' variables (each array sent as a (shape, float32 bytes) pair).
    {"op": "act", "obs": bytes, "dtype": str, "shape": [checkpoints, observations, ...]}: the policy's
      distribution for each checkpoint's observations, as flat lists in that order: [logits] for discrete
      actions, [mean, std] for continuous ones. The evaluation samples the actions and steps the
      environments itself.
    """
    if request["op"] == "load":
        return _load(request["config"], request["checkpoints"])
    return _act(np.frombuffer(request["obs"], np.dtype(request["dtype"])).reshape(request["shape"]))


def _load(config, checkpoints):
    import gymnax

    env, env_params = gymnax.make(config["env_name"])
    network = build_network(config.get("network"), env, env_params)
    expected = jax.eval_shape(lambda: init_params(network, env, env_params, jax.random.PRNGKey(0)))
    variables = [_unpack(c, expected, f"checkpoint {i}", "network") for i, c in enumerate(checkpoints)]
    stacked = jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *variables)
    _evaluation["policy"] = jax.jit(jax.vmap(lambda v, obs: network.apply(v, obs)[0]))
    _evaluation["variables"] = stacked
    return None


def _unpack(value, expected, name, where):
    """A checkpoint's variables as arrays, checked against the network's `expected` shapes."""
    if not hasattr(expected, "shape"):
        if not isinstance(value, dict) or set(value) != set(expected):
            raise ValueError(f"{name}: {where} does not match the network config.yaml describes (keys "
                             f"{sorted(value) if isinstance(value, dict) else type(value).__name__}, expected {sorted(expected)})")
        return {k: _unpack(value[k], expected[k], name, f"{where}/{k}") for k in expected}
    shape, data = value
    if tuple(shape) != tuple(expected.shape):
        raise ValueError(f"{name}: {where} has shape {tuple(shape)}; the network config.yaml describes needs a float "
                         f"array of shape {tuple(expected.shape)}")
    return jnp.asarray(np.frombuffer(data, np.float32).reshape(shape))


def _act(obs):
    pi = _evaluation["policy"](_evaluation["variables"], jnp.asarray(obs))
    if isinstance(pi, tuple):
        mean, log_std = pi
        return [np.asarray(mean).ravel().tolist(), np.asarray(jnp.exp(log_std)).ravel().tolist()]
    return [np.asarray(pi).ravel().tolist()]
