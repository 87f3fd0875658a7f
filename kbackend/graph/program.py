"""Graphs as programs: traversal of recorded nodes, and the compiled step list every engine replays.

:func:`compile_program` resolves each node's backend function once; :func:`replay` runs the steps in
topological order.  Engines wrap that replay their own way (see :mod:`.runners` and each backend's
``runner`` module).
"""

from .._dispatch import symbolic
from .node import SeedStream, SymbolicTensor, is_symbolic, leaves, map_structure

GRADIENT = "gradient"
UPDATE_KINDS = ("update", "update_add", "update_sub", "moving_average_update")


# ---------------------------------------------------------------------------------------------------
# graph traversal


def topological(roots):
    """Nodes needed for ``roots`` (symbolic structures), inputs first."""
    order, seen = [], set()
    stack = [(t, False) for t in leaves(roots) if is_symbolic(t)]
    while stack:
        tensor, expanded = stack.pop()
        node = tensor.node if isinstance(tensor, SymbolicTensor) else tensor
        if node is None or (id(node) in seen and not expanded):
            continue
        if expanded:
            if id(node) not in seen:
                seen.add(id(node))
                order.append(node)
            continue
        stack.append((node, True))
        for parent in reversed(node.inputs()):
            if parent.node is not None and id(parent.node) not in seen:
                stack.append((parent, False))
    return order


def early_updates(nodes):
    """Ids of the update nodes among ``nodes`` that another node waits for."""
    return frozenset(id(d.node) for n in nodes for d in n.deps
                     if d.node is not None and d.node.fn in UPDATE_KINDS)


def placeholders_of(nodes, roots=()):
    found = {}
    for value in list(leaves(roots)) + [v for n in nodes for v in n.inputs()]:
        if is_symbolic(value) and value.node is None:
            found[id(value)] = value
    return list(found.values())


def bind_outputs(node, value, env):
    """Store ``value`` (the node's result) under each output tensor of the node."""

    def walk(out, val):
        if isinstance(out, SymbolicTensor):
            env[id(out)] = val
        elif isinstance(out, (list, tuple)):
            if not isinstance(val, (list, tuple)) and hasattr(val, "dense_shape"):  # an engine's sparse tensor
                val = (val.indices, val.values, val.dense_shape)
            for o, v in zip(out, val):
                walk(o, v)

    walk(node.outputs, value)


def replay(program, env, gradient, substitute=None):
    """Evaluate a :func:`compile_program` result into ``env`` (id of tensor → value).

    ``substitute`` maps id(variable) → value, for engines that trace with variable values as inputs;
    ``gradient(node, env)`` evaluates gradient nodes, and ``gradient.apply(variable, value,
    substitute)`` applies an update that other nodes wait for (returning the value stored).
    """
    with symbolic.suspended():
        return _replay(program, env, gradient, substitute)


# Step kinds of a compiled program: a plain call with one output, a gradient, anything else,
# anything else whose output the engine must track for a gradient, and an update applied in place.
_PLAIN, _GRADIENT, _GENERAL, _WATCHED, _APPLIED = range(5)


def compile_program(nodes, backend, watch=(), early=frozenset()):
    """Turn ``nodes`` (topological order) into steps that :func:`replay` runs without re-reading kwargs.

    Each step is ``(kind, node, call, template, fed, out)``: ``call(*args)`` is the resolved backend
    function, ``template`` its positional arguments with the constants in place, ``fed`` the
    (position, tensor id) pairs filled from the run's environment and ``out`` the id its output is
    stored under.  Plain steps (one output, no symbolic value nested in a list) take the fast path;
    the others (several outputs, nested arguments, outputs whose ids are in ``watch`` — gradient
    targets the engine must be told to track) take the general one.
    """
    steps = []
    operators = getattr(backend.module, "OPERATORS", {})
    for node in nodes:
        if node.fn == GRADIENT:
            steps.append((_GRADIENT, node, None, None, (), id(node.outputs)))
            continue
        template = list(node.kwargs.values())
        fed = tuple((i, id(v)) for i, v in enumerate(template) if v.__class__ in FED)
        nested = any(v.__class__ not in FED and isinstance(v, (list, tuple, dict))
                     and any(leaf.__class__ in FED for leaf in leaves(v)) for v in template)
        if node.fn in UPDATE_KINDS:
            call = UPDATED_VALUE[node.fn]
        elif isinstance(node.fn, str):
            call = getattr(backend, node.fn)
        else:  # a Python operator, as the engine runs it (torch: NumPy operands, negative steps)
            call = operators.get(node.fn, node.fn)
        out = id(node.outputs) if node.outputs.__class__ is SymbolicTensor else None
        kind = _WATCHED if out is not None and out in watch else _GENERAL if nested or out is None else _PLAIN
        if id(node) in early:
            kind = _APPLIED
        steps.append((kind, node, call, template, fed, out))
    return steps


def _replay(program, env, gradient, substitute):
    for kind, node, call, template, fed, out in program:
        if kind == _PLAIN and not substitute:
            args = template.copy()
            for i, key in fed:
                args[i] = env[key]
            env[out] = call(*args)
            continue
        if kind == _GRADIENT:
            env[out] = gradient(node, env)
            continue
        args = [map_structure(lambda v: env[id(v)] if v.__class__ in FED else v, a) for a in template]
        if substitute:
            args = [map_structure(lambda v: substitute.get(id(v), v), a) for a in args]
        value = call(*args)
        if kind == _APPLIED:
            env[out] = gradient.apply(node.kwargs["x"], value, substitute)
        elif out is None:
            bind_outputs(node, value, env)
        else:
            env[out] = gradient.watch(value) if kind == _WATCHED else value
    return env


FED = (SymbolicTensor, SeedStream)  # values looked up in the run's environment


def seed_streams(nodes):
    """The seed streams of the random ops among ``nodes``."""
    return list({id(v): v for n in nodes for v in leaves(n.kwargs) if v.__class__ is SeedStream}.values())


#: The new value each kind of update assigns, computed functionally (assigned after the outputs).
UPDATED_VALUE = {
    "update": lambda x, new_x: new_x,
    "update_add": lambda x, increment: x + increment,
    "update_sub": lambda x, decrement: x - decrement,
    "moving_average_update": lambda x, value, momentum: x - (x - value) * (1 - momentum),
}
