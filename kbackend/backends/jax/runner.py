"""How JAX runs a function as one pure function of (variable values, inputs) under ``jax.jit``;
gradients by ``jax.grad``.

Imported with the backend package, which hands :func:`make_runner` to :mod:`kbackend.graph.runners`
(see there for what every runner shares).
"""

import jax
import jax.numpy as jnp

from ...graph.node import is_symbolic
from ...graph.program import compile_program, replay
from ...graph.runners import Gradients, combined, converter, function_outputs, value_of


def make_runner(fn, compile=False, jit=True):
    backend = fn.backend
    convert = converter(fn)
    variables = fn.variables
    grads = Gradients(fn.nodes)
    program = compile_program(fn.nodes, backend, early=fn.early)
    early_variables = [v for v in variables if any(n.kwargs["x"] is v for n in fn.nodes if id(n) in fn.early)]
    loss_programs = {}
    feed_order = []

    def loss_program(loss, skip=None):
        key = (id(loss), id(skip))
        if key not in loss_programs:
            loss_programs[key] = compile_program([n for n in grads.loss_nodes(loss) if n is not skip], backend)
        return loss_programs[key]

    def pure(variable_values, feed_values):
        substitute = {id(v): value for v, value in zip(variables, variable_values)}
        env = {key: value for key, value in zip(feed_order, feed_values)}
        feed_keys = set(env)
        env[_SUBSTITUTE] = substitute  # each (nested) replay carries its own variable values

        def differentiate(loss, targets, values, env_now):
            """jax.grad of sum(loss) with respect to ``targets`` (fed values or variables), at ``values``,
            everything else as in ``env_now`` (so a gradient of a gradient differentiates through it)."""

            def loss_of(values):
                local_env = {k: v for k, v in env_now.items() if k in feed_keys}
                local_sub = local_env[_SUBSTITUTE] = dict(env_now[_SUBSTITUTE])
                skip = None
                for target, value in zip(targets, values):
                    if is_symbolic(target):
                        local_env[id(target)] = value
                        skip = target.node  # an intermediate target: its value is fed, not computed
                    else:
                        local_sub[id(target)] = value
                replay(loss_program(loss, skip), local_env, gradient, local_sub)
                return jnp.sum(local_env[id(loss)])

            return jax.grad(loss_of)(values)

        def gradient(node, env_now):
            loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
            sub = env_now[_SUBSTITUTE]
            current = env_now[id(wrt)] if is_symbolic(wrt) else sub[id(wrt)]
            if not jnp.issubdtype(jnp.result_type(current), jnp.inexact):
                return jnp.zeros_like(current)
            if is_symbolic(wrt) and wrt.node is not None:  # intermediate: its own pass, its producer skipped
                return differentiate(loss, [wrt], [current], env_now)[0]
            key = ("grads", id(loss))
            found = env_now.get(key)
            if found is None:  # every fed or variable target of this loss in one jax.grad
                leaves = [t for t in grads.targets(loss) if not (is_symbolic(t) and t.node is not None)]
                values = [env_now[id(t)] if is_symbolic(t) else sub[id(t)] for t in leaves]
                pairs = [(t, v) for t, v in zip(leaves, values) if jnp.issubdtype(jnp.result_type(v), jnp.inexact)]
                results = differentiate(loss, [t for t, _ in pairs], [v for _, v in pairs], env_now) if pairs else []
                found = env_now[key] = {id(t): g for (t, _), g in zip(pairs, results)}
            return found[id(wrt)]

        def apply(variable, value, substitute_now):
            current = substitute_now[id(variable)]
            value = jnp.broadcast_to(jnp.asarray(value, dtype=current.dtype), current.shape)
            substitute_now[id(variable)] = value
            return value

        gradient.apply = apply
        replay(program, env, gradient, substitute)
        outputs = [substitute.get(id(o), o) for o in function_outputs(fn, env)]  # variables: their value now
        new_values = [combined(kind, substitute[id(variable)], substitute.get(id(value), value_of(value, env)),
                                scale) for variable, kind, value, scale in fn.assignments]
        return outputs, new_values + [substitute[id(v)] for v in early_variables]

    compiled = jax.jit(pure) if jit else pure
    # A graph where a computed tensor decides a shape (Keras's confusion-matrix metrics tile by
    # ``K.stack([1, K.size(y_pred)])``) cannot be traced by jax.jit, which needs every shape static;
    # such a function is replayed op by op instead, from its first call on.
    untraceable = (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
                   jax.errors.TracerIntegerConversionError)

    def run(feeds):
        nonlocal compiled
        # Traced with x64 on, so float64/int64 values stay 64-bit inside the graph (the ops fix their
        # own output dtypes, so float32 graphs are unchanged); the user's JAX setting is not touched.
        with jax.enable_x64(True):
            converted = convert(feeds)
            feed_order[:] = list(converted)
            values = [_jax_value(v) for v in variables]
            fed = [jnp.asarray(v, dtype=jnp.uint32) if isinstance(v, int) else v for v in converted.values()]
            try:
                outputs, new_values = compiled(values, fed)
            except untraceable:
                if compiled is pure:
                    raise
                compiled = pure
                outputs, new_values = compiled(values, fed)
        targets = [a[0] for a in fn.assignments] + early_variables
        for variable, value in zip(targets, new_values):
            _assign_jax(variable, value, backend)
        return outputs

    return run


_SUBSTITUTE = ("substitute",)  # key of the variable values in a JAX replay's environment


def _jax_value(variable):
    return variable.value if hasattr(variable, "value") else variable


def _assign_jax(variable, value, backend):
    """Store an update computed by the compiled function; it already has the variable's dtype and
    shape unless the graph broadcast or cast it, which ``K.update`` then does."""
    current = getattr(variable, "value", None)
    if current is not None and value.dtype == current.dtype and value.shape == current.shape:
        variable.value = value
    else:
        backend.update(variable, value)
