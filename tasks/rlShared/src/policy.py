"""Proximal policy optimisation (clipped objective, generalised advantage estimation) on gymnax, in JAX.

PPO(config["train"], env, env_params, network).train(seed) trains one policy and returns its variables
and a log of training returns; src/train.py calls it once per seed. One jitted `update` (collect a
rollout from every environment, then several epochs of minibatch gradient steps) is compiled once and
reused for all seeds. JAX runs it on a GPU when jax[cuda12] is installed, else on the CPU.
"""
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from helpers import training_steps
from networks import entropy, init_params, log_prob, sample_action, update_obs_stats

TRAIN_DEFAULTS = {
    "num_envs": 64,  # environments stepped in parallel
    "rollout_steps": 128,  # steps per environment between updates
    "epochs": 4,  # passes over each rollout
    "minibatches": 4,  # gradient steps per pass
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_eps": 0.2,
    "lr_start": 5e-4,  # the learning rate decays linearly from lr_start to lr_end
    "lr_end": 5e-4,
    "max_grad_norm": 0.5,
    "entropy_coef": 0.01,
    "value_coef": 0.5,
    "log_every": 20,  # updates between progress lines
}


class Transition(NamedTuple):
    obs: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    reward: jax.Array
    done: jax.Array


class RunState(NamedTuple):
    variables: dict
    opt_state: optax.OptState
    env_state: object
    obs: jax.Array
    episode_return: jax.Array  # running return of each environment's current episode
    key: jax.Array


def advantages(batch, last_value, gamma, lam):
    """GAE advantages and value targets for a rollout (time-major arrays)."""

    def backward(carry, t):
        next_adv, next_value = carry
        live = 1.0 - t.done
        delta = t.reward + gamma * next_value * live - t.value
        adv = delta + gamma * lam * live * next_adv
        return (adv, t.value), adv

    _, adv = jax.lax.scan(backward, (jnp.zeros_like(last_value), last_value), batch, reverse=True)
    return adv, adv + batch.value


class PPO:
    """PPO for one environment and network; `train_config` is config.yaml's `train` section (TRAIN_DEFAULTS)."""

    def __init__(self, train_config, env, env_params, network):
        unknown = sorted(set(train_config) - set(TRAIN_DEFAULTS) - {"total_steps"})
        if unknown:
            raise ValueError(f"config.yaml: unknown train setting(s) {unknown}")
        self.c = {**TRAIN_DEFAULTS, **train_config}
        self.env, self.env_params, self.network = env, env_params, network
        c = self.c
        self.batch_size = c["num_envs"] * c["rollout_steps"]
        if self.batch_size % c["minibatches"]:
            raise ValueError("config.yaml: num_envs * rollout_steps must be divisible by minibatches")
        self.num_updates = max(1, training_steps(c) // self.batch_size)
        gradient_steps = self.num_updates * c["epochs"] * c["minibatches"]
        schedule = optax.linear_schedule(c["lr_start"], c["lr_end"], gradient_steps)
        self.optimizer = optax.chain(optax.clip_by_global_norm(c["max_grad_norm"]), optax.adam(schedule, eps=1e-5))
        self.update = jax.jit(self._update)

    def reset(self, key):
        k_init, k_env, key = jax.random.split(key, 3)
        variables = init_params(self.network, self.env, self.env_params, k_init)
        reset_keys = jax.random.split(k_env, self.c["num_envs"])
        obs, env_state = jax.vmap(self.env.reset, in_axes=(0, None))(reset_keys, self.env_params)
        episode_return = jnp.zeros(self.c["num_envs"])
        return RunState(variables, self.optimizer.init(variables["params"]), env_state, obs, episode_return, key)

    def _env_step(self, run, _):
        key, k_act, k_step = jax.random.split(run.key, 3)
        pi, value = self.network.apply(run.variables, run.obs)
        action = sample_action(pi, k_act)
        step_keys = jax.random.split(k_step, self.c["num_envs"])
        obs, env_state, reward, terminated, truncated, info = jax.vmap(self.env.step, in_axes=(0, 0, 0, None))(
            step_keys, run.env_state, action, self.env_params
        )
        done = jnp.logical_or(terminated, truncated).astype(jnp.float32)
        episode_return = run.episode_return + reward
        finished = (jnp.sum(episode_return * done), jnp.sum(done))
        # An episode cut by the time limit did not end: bootstrap from its last state's value.
        _, final_value = self.network.apply(run.variables, info["final_observation"])
        cut = jnp.logical_and(truncated, jnp.logical_not(terminated))
        learn_reward = reward + self.c["gamma"] * final_value * cut
        transition = Transition(run.obs, action, log_prob(pi, action), value, learn_reward, done)
        run = run._replace(env_state=env_state, obs=obs, episode_return=episode_return * (1 - done), key=key)
        return run, (transition, finished)

    def _loss(self, params, variables, batch, adv, target):
        c = self.c
        pi, value = self.network.apply({**variables, "params": params}, batch.obs)
        ratio = jnp.exp(log_prob(pi, batch.action) - batch.log_prob)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        clipped_ratio = jnp.clip(ratio, 1 - c["clip_eps"], 1 + c["clip_eps"])
        policy_loss = -jnp.mean(jnp.minimum(ratio * adv, clipped_ratio * adv))
        clipped_value = batch.value + jnp.clip(value - batch.value, -c["clip_eps"], c["clip_eps"])
        value_loss = 0.5 * jnp.mean(jnp.maximum((value - target) ** 2, (clipped_value - target) ** 2))
        ent = jnp.mean(entropy(pi))
        return policy_loss + c["value_coef"] * value_loss - c["entropy_coef"] * ent, (value_loss, ent)

    def _minibatch_step(self, variables, carry, minibatch):
        params, opt_state = carry
        grads, (value_loss, ent) = jax.grad(self._loss, has_aux=True)(params, variables, *minibatch)
        updates, opt_state = self.optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), (value_loss, ent)

    def _epoch(self, variables, carry, key, data):
        n = self.c["minibatches"]
        order = jax.random.permutation(key, self.batch_size)
        shuffled = jax.tree_util.tree_map(lambda x: x[order].reshape((n, -1) + x.shape[1:]), data)
        return jax.lax.scan(lambda carry, mb: self._minibatch_step(variables, carry, mb), carry, shuffled)

    def _update(self, run):
        c = self.c
        run, (batch, (return_sum, episodes)) = jax.lax.scan(self._env_step, run, None, c["rollout_steps"])
        _, last_value = self.network.apply(run.variables, run.obs)
        adv, target = advantages(batch, last_value, c["gamma"], c["gae_lambda"])
        # Flatten (time, env) into one batch axis for the minibatches.
        data = jax.tree_util.tree_map(lambda x: x.reshape((self.batch_size,) + x.shape[2:]), (batch, adv, target))
        key, k_epochs = jax.random.split(run.key)
        epoch_keys = jax.random.split(k_epochs, c["epochs"])
        (params, opt_state), (value_loss, ent) = jax.lax.scan(
            lambda carry, k: self._epoch(run.variables, carry, k, data),
            (run.variables["params"], run.opt_state),
            epoch_keys,
        )
        # The next rollout and its update see the observation statistics including this rollout.
        variables = update_obs_stats({**run.variables, "params": params}, batch.obs)
        run = run._replace(variables=variables, opt_state=opt_state, key=key)
        stats = {"return_sum": return_sum.sum(), "episodes": episodes.sum()}
        return run, {**stats, "value_loss": value_loss.mean(), "entropy": ent.mean()}

    def train(self, seed, log=print):
        """Train from `seed`; returns the final variables and [(env steps, mean training return)]."""
        run = self.reset(jax.random.PRNGKey(seed))
        history, return_sum, episodes = [], 0.0, 0.0
        for i in range(1, self.num_updates + 1):
            run, stats = self.update(run)
            return_sum += stats["return_sum"]
            episodes += stats["episodes"]
            if i % self.c["log_every"] == 0 or i == self.num_updates:
                mean_return = float(return_sum / episodes) if episodes else float("nan")
                history.append((i * self.batch_size, mean_return))
                log(f"seed {seed}: {i * self.batch_size:>10,} steps  mean training return {mean_return:9.3f}"
                    f"  entropy {float(stats['entropy']):.3f}  value loss {float(stats['value_loss']):.4f}")
                return_sum, episodes = 0.0, 0.0
        return run.variables, history
