"""How PyTensor runs a function as its replay traced into one graph and compiled by one
``pytensor.function``; gradients by ``pytensor.grad``, variable updates passed as its ``updates``.

Imported with the backend package, which hands :func:`make_runner` to :mod:`kbackend.graph.runners`
(see there for what every runner shares).
"""

import operator

import numpy as np
import pytensor
import pytensor.tensor as pt

from ..._dispatch import symbolic
from ...dtypes import numpy_dtype
from ...graph.node import SymbolicTensor, is_symbolic, map_structure
from ...graph.program import FED, GRADIENT, UPDATE_KINDS, UPDATED_VALUE
from ...graph.runners import Gradients, combined, function_outputs, value_of
from .arrays import FUNCTION_MODE, HALF_FUNCTION_MODE, as_type as cast, is_graph, to_pt, tracing, weak_operands
from .variables import feed


def make_runner(fn, compile=False, jit=True):
    backend = fn.backend
    grads = Gradients(fn.nodes)
    streams = fn.seed_streams
    fed = list(fn.inputs) + list(fn.defaults)
    env = {}
    inputs = []
    for tensor in fed:
        if id(tensor) not in env:
            variable = pt.tensor(name=tensor.name, dtype=str(np.dtype(numpy_dtype(tensor.dtype))), shape=tensor.shape)
            env[id(tensor)] = variable
            inputs.append(variable)
    for stream in streams:
        env[id(stream)] = pt.scalar(dtype="int64")
        inputs.append(env[id(stream)])

    def gradient(node, env):
        loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
        key = ("grads", id(loss))
        found = env.get(key)
        if found is None:  # every target of this loss from one pytensor.grad
            cost = env[id(loss)]
            cost = pt.sum(cost) if cost.ndim else cost
            targets = [t for t in grads.targets(loss) if not is_symbolic(t) or id(t) in env]
            values = [value_of(t, env) for t in targets]
            floats = [(t, v) for t, v in zip(targets, values) if is_graph(v) and v.dtype.startswith("float")]
            results = pytensor.grad(cost, [v for _, v in floats], disconnected_inputs="ignore",
                                    return_disconnected="zero") if floats else []
            found = env[key] = {id(t): g for (t, _), g in zip(floats, results)}
        target = to_pt(value_of(wrt, env))
        grad = found.get(id(wrt))
        return pt.zeros_like(target) if grad is None else cast(grad, target.dtype)

    early = getattr(fn, "early", frozenset())
    updates = []
    applied = {}  # id(variable) → its new value, for the nodes after an update they wait for

    def lookup(value):
        return env[id(value)] if value.__class__ in FED else applied.get(id(value), value)

    with tracing(), symbolic.suspended():
        for node in fn.nodes:
            if node.fn == GRADIENT:
                env[id(node.outputs)] = gradient(node, env)
                continue
            args = [map_structure(lookup, a) for a in node.kwargs.values()]
            if node.fn in UPDATE_KINDS:
                value = UPDATED_VALUE[node.fn](*weak_operands([to_pt(a) if not isinstance(a, (int, float)) else a
                                                                for a in args]))
                if id(node) in early:  # K.control_dependencies: what follows reads the new value
                    variable = node.kwargs["x"]
                    value = variable.type.filter_variable(cast(to_pt(value), variable.dtype), allow_convert=True)
                    updates.append((variable, value))
                    applied[id(variable)] = value
            elif isinstance(node.fn, str):
                value = getattr(backend, node.fn)(*args)
            elif isinstance(node.fn, (type(operator.add), type(len))) or node.fn is operator.getitem:
                value = node.fn(*(weak_operands(args) if node.fn is not operator.getitem else args))
            else:  # a loop over an unknown length: its body replays here, traced into pytensor.scan
                value = node.fn(*args)
            _bind_cast(node.outputs, value, env, cast, to_pt)

        outputs = function_outputs(fn, env)
        for variable, kind, value, scale in fn.assignments:
            amount = to_pt(value_of(value, env))
            if scale is not None:  # the learning rate in the amount's dtype, not PyTensor's float64
                amount, scale = weak_operands([amount, scale])
            new = combined(kind, variable, amount, scale)
            updates.append((variable, variable.type.filter_variable(cast(to_pt(new), variable.dtype),
                                                                    allow_convert=True)))
    graph_outputs = [(i, o) for i, o in enumerate(outputs) if is_graph(o)]
    try:
        from pytensor.graph.traversal import ancestors
    except ImportError:  # PyTensor before 2.32
        from pytensor.graph.basic import ancestors
    half = any(getattr(v, "dtype", None) == "float16"
               for v in ancestors([o for _, o in graph_outputs] + [u for _, u in updates]))
    mode = HALF_FUNCTION_MODE if half else FUNCTION_MODE
    compiled = pytensor.function(inputs, [o for _, o in graph_outputs], updates=updates, mode=mode,
                                 on_unused_input="ignore", accept_inplace=True)

    def run(feeds):
        values = {id(tensor): value for tensor, value in feeds}
        arguments = [feed(values[id(t)], t.dtype) for t in fed]
        arguments += [np.int64(stream.next()) for stream in streams]
        results = compiled(*arguments)
        final = list(outputs)
        for (i, _), value in zip(graph_outputs, results):
            final[i] = value
        return final

    run.compiled = compiled  # the pytensor.function, for inspection (pytensor.dprint)
    return run


def _bind_cast(outputs, value, env, cast, to_pt):
    """Store a node's result under its output tensors, cast to the dtypes the graph recorded (the
    reference's), so PyTensor's own promotion rules never leak into a result."""
    if isinstance(outputs, SymbolicTensor):
        if not isinstance(value, (int, float, bool)) and value is not None:
            value = to_pt(value)
            dtype = str(np.dtype(numpy_dtype(outputs.dtype))) if outputs.dtype != "bfloat16" else value.dtype
            value = cast(value, dtype)
        env[id(outputs)] = value
    elif isinstance(outputs, (list, tuple)):
        for o, v in zip(outputs, value):
            _bind_cast(o, v, env, cast, to_pt)
