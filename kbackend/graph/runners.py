"""How each engine runs a :class:`~kbackend.graph.function.Function`.

A runner takes the ``(placeholder, value)`` feeds, returns the output values (engine tensors) and
assigns the variable updates.  All runners interpret the same recorded graph with
:func:`~kbackend.graph.function.replay`; they differ in how gradients are taken and what compiles it.
"""

import contextlib

from .function import GRADIENT, replay, topological
from .tensor import is_symbolic


def make_runner(fn, compile=False, jit=True):
    name = fn.backend.name
    if name == "torch":
        return _torch_runner(fn, compile)
    if name == "jax":
        return _jax_runner(fn, jit)
    if name == "tensorflow":
        return _tensorflow_runner(fn, jit)
    return _eager_runner(fn)


def _has_gradients(fn):
    return any(node.fn == GRADIENT for node in fn.nodes)


def _convert(fn, feeds):
    """The run's environment: fed values as engine tensors, then this run's seeds."""
    backend = fn.backend
    env = {id(tensor): backend.constant(value, tensor.dtype, None, None) for tensor, value in feeds}
    for stream in fn.seed_streams:
        env[id(stream)] = stream.next()
    return env


def _outputs(fn, env):
    return [env[id(o)] if is_symbolic(o) else o for o in fn.outputs]


def _loss_nodes(fn, node):
    """Nodes that compute a gradient node's loss (cached on the function)."""
    cache = fn.__dict__.setdefault("_loss_nodes", {})
    key = id(node)
    if key not in cache:
        cache[key] = topological(node.kwargs["loss"])
    return cache[key]


def _targets(fn, node):
    """Ids of everything the function differentiates against the loss of gradient node ``node``."""
    cache = fn.__dict__.setdefault("_targets", {})
    loss = node.kwargs["loss"]
    if id(loss) not in cache:
        cache[id(loss)] = {id(n.kwargs["wrt"]) for n in fn.nodes
                           if n.fn == GRADIENT and n.kwargs["loss"] is loss}
    return cache[id(loss)]


# ---------------------------------------------------------------------------------------------------
# NumPy (and any engine without autodiff of its own): eager replay, gradients by the rules in vjp.py


def _eager_runner(fn):
    backend = fn.backend

    def gradient(node, env):
        from .vjp import backprop

        return backprop(node, env, _loss_nodes(fn, node), backend, _targets(fn, node))

    def run(feeds):
        env = _convert(fn, feeds)
        replay(fn.nodes, env, backend, gradient)
        new_values = [(variable, env[id(t)]) for variable, t in fn.updates]
        outputs = _outputs(fn, env)
        for variable, value in new_values:
            backend.update(variable, value)
        return outputs

    return run


# ---------------------------------------------------------------------------------------------------
# PyTorch: eager replay under autograd; torch.compile on request


def _torch_runner(fn, compile):
    import torch

    backend = fn.backend
    with_grad = _has_gradients(fn)

    def gradient(node, env):
        loss = node.kwargs["loss"]
        wrt = node.kwargs["wrt"]
        loss_value = env[id(loss)]
        wrt_value = env[id(wrt)] if is_symbolic(wrt) else wrt
        if loss_value.requires_grad and wrt_value.requires_grad:
            grad, = torch.autograd.grad(loss_value.sum(), [wrt_value], retain_graph=True, allow_unused=True)
            if grad is not None:
                return grad
        return torch.zeros_like(wrt_value)

    def run(feeds):
        env = _convert(fn, feeds)
        if with_grad:
            for key, value in env.items():
                if isinstance(value, torch.Tensor) and value.is_floating_point():
                    env[key] = value.detach().requires_grad_(True)
        context = torch.enable_grad() if with_grad else torch.no_grad()
        with context:
            replay(fn.nodes, env, backend, gradient)
        outputs = [o.detach() if isinstance(o, torch.Tensor) else o for o in _outputs(fn, env)]
        with torch.no_grad():
            for variable, t in fn.updates:
                backend.update(variable, env[id(t)].detach())
        return outputs

    if compile:
        return torch.compile(run)
    return run


# ---------------------------------------------------------------------------------------------------
# JAX: a pure function of (variable values, inputs) under jax.jit; gradients by jax.grad


def _jax_runner(fn, jit):
    import jax
    import jax.numpy as jnp

    backend = fn.backend
    variables = fn.variables
    feed_order = []

    def pure(variable_values, feed_values):
        substitute = {id(v): value for v, value in zip(variables, variable_values)}
        env = {key: value for key, value in zip(feed_order, feed_values)}

        def gradient(node, env):
            loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
            loss_nodes = _loss_nodes(fn, node)
            key = id(wrt)
            current = env[key] if is_symbolic(wrt) else substitute[key]
            producer = wrt.node if is_symbolic(wrt) else None

            def loss_of(value):
                local_env = {k: v for k, v in env.items() if k in feed_keys}
                local_sub = dict(substitute)
                if is_symbolic(wrt):
                    local_env[key] = value
                    nodes = [n for n in loss_nodes if n is not producer]
                else:
                    local_sub[key] = value
                    nodes = loss_nodes
                replay(nodes, local_env, backend, gradient, local_sub)
                return jnp.sum(local_env[id(loss)])

            return jax.grad(loss_of)(current)

        feed_keys = set(env)
        replay(fn.nodes, env, backend, gradient, substitute)
        outputs = _outputs(fn, env)
        new_values = [env[id(t)] for _, t in fn.updates]
        return outputs, new_values

    compiled = jax.jit(pure) if jit else pure

    def run(feeds):
        # Traced with x64 on, so float64/int64 values stay 64-bit inside the graph (the ops fix their
        # own output dtypes, so float32 graphs are unchanged); the user's JAX setting is not touched.
        with jax.enable_x64(True):
            converted = _convert(fn, feeds)
            feed_order[:] = list(converted)
            values = [_jax_value(v) for v in variables]
            fed = [jnp.asarray(v, dtype=jnp.uint32) if isinstance(v, int) else v for v in converted.values()]
            outputs, new_values = compiled(values, fed)
        for (variable, _), value in zip(fn.updates, new_values):
            backend.update(variable, value)
        return outputs

    return run


def _jax_value(variable):
    return variable.value if hasattr(variable, "value") else variable


# ---------------------------------------------------------------------------------------------------
# TensorFlow: the replay traced by tf.function; gradients from a GradientTape around it


def _tensorflow_runner(fn, jit):
    import tensorflow as tf

    backend = fn.backend
    with_grad = _has_gradients(fn)
    feed_order = []

    def inner(*feed_values):
        env = dict(zip(feed_order, feed_values))
        tape = tf.GradientTape(persistent=True) if with_grad else None

        def gradient(node, env):
            loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
            wrt_value = env[id(wrt)] if is_symbolic(wrt) else wrt
            with tape.stop_recording():
                grad = tape.gradient(env[id(loss)], wrt_value)
            return tf.zeros_like(wrt_value) if grad is None else tf.convert_to_tensor(grad)

        with (tape if tape is not None else contextlib.nullcontext()):
            if tape is not None:
                for value in feed_values:
                    if value.dtype.is_floating:
                        tape.watch(value)
                for variable in fn.variables:
                    tape.watch(variable)
            replay(fn.nodes, env, backend, gradient)
        outputs = _outputs(fn, env)
        for variable, t in fn.updates:
            variable.assign(env[id(t)])
        return outputs

    compiled = tf.function(inner, reduce_retracing=True) if jit else inner

    def run(feeds):
        converted = _convert(fn, feeds)
        feed_order[:] = list(converted)
        return compiled(*[tf.constant(v, tf.int64) if isinstance(v, int) else v for v in converted.values()])

    return run

