"""How TensorFlow runs a function as its replay traced by ``tf.function``; gradients come from a
``GradientTape`` around it.

Imported with the backend package, which hands :func:`make_runner` to :mod:`kbackend.graph.runners`
(see there for what every runner shares).
"""

import contextlib

import tensorflow as tf

from ...graph.node import is_symbolic
from ...graph.program import compile_program, replay
from ...graph.runners import (UPDATE_OPS, Gradients, converter, feed_targets, function_outputs, intermediate_targets,
                              value_of)


def make_runner(fn, compile=False, jit=True):
    backend = fn.backend
    convert = converter(fn)
    grads = Gradients(fn.nodes)
    fed_targets = grads.target_ids(feed_targets)
    program = compile_program(fn.nodes, backend, watch=grads.target_ids(intermediate_targets), early=fn.early)
    higher_order = grads.nested()
    variable_types = tuple(getattr(backend.module, "VARIABLE_TYPES", ()))
    feed_order = []

    def inner(*feed_values):
        env = dict(zip(feed_order, feed_values))
        tape = tf.GradientTape(persistent=len(grads.by_loss) > 1 or higher_order) if grads else None

        def gradient(node, env):
            loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
            key = ("grads", id(loss))
            found = env.get(key)
            if found is None:
                targets = [t for t in grads.targets(loss) if not is_symbolic(t) or id(t) in env]
                # A gradient that another loss is computed from stays on the tape (second order).
                with contextlib.nullcontext() if higher_order else tape.stop_recording():
                    results = tape.gradient(env[id(loss)], [value_of(t, env) for t in targets])
                found = env[key] = {id(t): g for t, g in zip(targets, results) if g is not None}
            grad = found.get(id(wrt))
            return tf.zeros_like(value_of(wrt, env)) if grad is None else tf.convert_to_tensor(grad)

        def watch(value):
            tape.watch(value)
            return value

        def apply(variable, value, substitute):
            backend.update(variable, value)
            return variable.read_value()

        gradient.watch = watch
        gradient.apply = apply
        with (tape if tape is not None else contextlib.nullcontext()):
            if tape is not None:
                for key in fed_targets:
                    if env[key].dtype.is_floating:
                        tape.watch(env[key])
                for variable in fn.variables:
                    if variable.dtype.is_floating:  # not Keras's int64 step counter
                        tape.watch(variable)
            replay(program, env, gradient)
        # Variables among the outputs are read here; tf.function orders the reads before the updates.
        outputs = [tf.identity(o) if o.__class__ in variable_types else o for o in function_outputs(fn, env)]
        for variable, kind, value, scale in fn.assignments:
            value = value_of(value, env)
            getattr(backend, UPDATE_OPS[kind])(variable, value if scale is None else value * scale)
        return outputs

    # No autograph: the replay is plain Python over recorded nodes, as a Keras 2 graph was.
    compiled = tf.function(inner, reduce_retracing=True, autograph=False) if jit else inner

    def run(feeds):
        converted = convert(feeds)
        feed_order[:] = list(converted)
        return compiled(*[tf.constant(v, tf.int64) if isinstance(v, int) else v for v in converted.values()])

    return run
