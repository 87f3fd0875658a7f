"""How an engine runs a :class:`~kbackend.graph.function.Function`: what every runner shares, and the
eager runner (NumPy, and any engine without a ``runner`` module of its own).

A runner takes the ``(placeholder, value)`` feeds, returns the output values (engine tensors) and
assigns the variable updates.  All runners execute the same compiled program
(:func:`~kbackend.graph.function.compile_program`); they differ in how gradients are taken and what
compiles it.  The gradient nodes of one loss (a training step asks for one per weight) are answered
by a single backward pass, whose results are kept in the run's environment under ``("grads", id)``.
"""

import numpy as np

from .node import is_symbolic
from .program import GRADIENT, compile_program, replay, topological
from .vjp import BackwardPlan


def make_runner(fn, compile=False, jit=True):
    """The runner of ``fn`` on its backend: the backend package's own ``make_runner(fn, compile, jit)``
    (``kbackend/backends/<engine>/runner.py``), else an eager replay with gradients by the rules in
    :mod:`.vjp` (NumPy, and any engine without autodiff of its own)."""
    engine_runner = getattr(fn.backend.module, "make_runner", None)
    if engine_runner is not None:
        return engine_runner(fn, compile=compile, jit=jit)
    return eager_runner(fn)


class Gradients:
    """The function's gradient nodes, grouped by loss."""

    def __init__(self, nodes):
        self.losses = {}  # id(loss) → loss
        self.by_loss = {}  # id(loss) → [targets], in the order they were asked for
        for node in nodes:
            if node.fn == GRADIENT:
                loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
                self.losses[id(loss)] = loss
                targets = self.by_loss.setdefault(id(loss), [])
                if all(t is not wrt for t in targets):
                    targets.append(wrt)
        self._loss_nodes = {}

    def __bool__(self):
        return bool(self.by_loss)

    def targets(self, loss):
        return self.by_loss[id(loss)]

    def loss_nodes(self, loss):
        """The nodes that compute ``loss`` (cached)."""
        nodes = self._loss_nodes.get(id(loss))
        if nodes is None:
            nodes = self._loss_nodes[id(loss)] = topological(loss)
        return nodes

    def nested(self):
        """True when a loss is itself computed from a gradient (second-order derivatives)."""
        return any(n.fn == GRADIENT for loss in self.losses.values() for n in self.loss_nodes(loss))

    def split(self, nodes):
        """``nodes`` parted into what the losses are computed from and the rest (gradients, updates,
        outputs no loss depends on), each in the original order."""
        first = {id(n) for loss in self.losses.values() for n in self.loss_nodes(loss)}
        return [n for n in nodes if id(n) in first], [n for n in nodes if id(n) not in first]

    def target_ids(self, where):
        """Ids of the symbolic targets for which ``where(tensor)`` holds."""
        return {id(t) for targets in self.by_loss.values() for t in targets if is_symbolic(t) and where(t)}


def feed_targets(tensor):
    return tensor.node is None


def intermediate_targets(tensor):
    return tensor.node is not None


def converter(fn):
    """The function that makes a run's environment: fed values as engine tensors (through the
    backend's non-copying ``feed`` where it has one), then this run's seeds."""
    backend = fn.backend
    feed = getattr(backend.module, "feed", None) or (lambda value, dtype: backend.constant(value, dtype, None, None))
    streams = fn.seed_streams

    def convert(feeds):
        env = {id(tensor): feed(value, tensor.dtype) for tensor, value in feeds}
        for stream in streams:
            env[id(stream)] = stream.next()
        return env

    return convert


def function_outputs(fn, env):
    return [env[id(o)] if is_symbolic(o) else o for o in fn.outputs]


def value_of(target, env):
    return env[id(target)] if is_symbolic(target) else target


# ---------------------------------------------------------------------------------------------------
# NumPy (and any engine without autodiff of its own): eager replay, gradients by the rules in vjp.py


def eager_runner(fn):
    backend = fn.backend
    convert = converter(fn)
    program = compile_program(fn.nodes, backend, early=fn.early)
    grads = Gradients(fn.nodes)
    plans = {}

    def gradient(node, env):
        loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
        key = ("grads", id(loss))
        cotangents = env.get(key)
        if cotangents is None:
            plan = plans.get(id(loss))
            if plan is None:
                plan = plans[id(loss)] = BackwardPlan(loss, grads.loss_nodes(loss), grads.targets(loss), backend)
            cotangents = env[key] = plan.sweep(env)
        return BackwardPlan.gradient(wrt, cotangents, env)

    def apply(variable, value, substitute):
        backend.update(variable, value)
        return variable.value.copy()

    gradient.apply = apply

    def run(feeds):
        env = convert(feeds)
        replay(program, env, gradient)
        outputs = [o.value if backend.is_variable(o) else o for o in function_outputs(fn, env)]
        if fn.assignments:
            values = [a[0].value for a in fn.assignments]
            outputs = [o.copy() if o.__class__ is np.ndarray and any(np.may_share_memory(o, v) for v in values)
                       else o for o in outputs]  # the values read, not the storage about to change
            for variable, kind, value, scale in fn.assignments:
                _assign_numpy(backend, variable, kind, value_of(value, env), scale)
        return outputs

    return run


def _assign_numpy(backend, variable, kind, value, scale):
    current = variable.value
    if value.__class__ is not np.ndarray and backend.is_variable(value):
        value = value.value
    if kind != "assign" and value.__class__ is np.ndarray and value.dtype == current.dtype \
            and value.shape == current.shape:
        (np.add if kind == "add" else np.subtract)(current, value if scale is None else value * scale, out=current)
    else:
        backend.update(variable, combined(kind, current, value, scale))


UPDATE_OPS = {"assign": "update", "add": "update_add", "sub": "update_sub"}


def combined(kind, current, value, scale=None):
    """The new value of a variable updated by ``kind`` with ``value`` (times ``scale``)."""
    if scale is not None:
        value = value * scale
    if kind == "add":
        return current + value
    if kind == "sub":
        return current - value
    return value
