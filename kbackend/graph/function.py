"""``K.function`` and ``K.gradients``: turn a recorded graph into a callable, compiled per engine.

The graph is compiled once into a program (:func:`compile_program`: each node's backend function
resolved, its constant arguments in place) that :func:`replay` runs in topological order.  Each
engine wraps that replay its own way (see :mod:`.runners`): NumPy and PyTorch replay eagerly
(``compile=True`` asks torch for ``torch.compile``), JAX traces it under ``jax.jit`` with variable
values passed in as arguments, and TensorFlow traces it under ``tf.function``.  Gradients come from
the engine's own autodiff (torch.autograd, jax.grad, tf.GradientTape); on NumPy from the per-op
rules in :mod:`.vjp`.  Variable updates are computed with the outputs and assigned after them, as
Keras 2 did.
"""

import numbers
import operator

import numpy as np

from .. import config
from .._dispatch import active_backend, symbolic
from ..dtypes import canonical_dtype
from .tensor import (Node, SeedStream, SymbolicTensor, _leaves, _map, is_symbolic, symbolic_learning_phase,
                     unique_name)

GRADIENT = "gradient"
UPDATE_KINDS = ("update", "update_add", "update_sub", "moving_average_update")


def gradients(loss, variables):
    """Return the gradients of the scalar ``loss`` with respect to each of ``variables`` (symbolic).

    ``variables`` may be variables, placeholders or intermediate tensors; evaluate the result with
    :func:`function` (or ``K.eval`` when no placeholder is involved).

    >>> import kbackend as K
    >>> w = K.variable([1.0, 2.0]); x = K.placeholder((2,))
    >>> g, = K.gradients(K.sum(x * w * w), [w])
    >>> K.function([x], [g])([[1.0, 1.0]])[0]
    array([2., 4.], dtype=float32)
    """
    if not is_symbolic(loss):
        raise TypeError(
            f"gradients: argument `loss` got {type(loss).__name__}; expected a symbolic tensor built from "
            "K.placeholder / K ops (eager values carry no graph)"
        )
    symbolic.build_here()  # as a Keras 2 optimizer's get_updates expects, its updates that follow record
    single = not isinstance(variables, (list, tuple))
    wrt = [variables] if single else list(variables)
    backend = active_backend()
    grads = []
    for target in wrt:
        if is_symbolic(target):
            shape, dtype = target.shape, target.dtype
        elif backend.is_variable(target) or backend.is_tensor(target):
            shape, dtype = tuple(backend.int_shape(target)), backend.dtype(target)
        else:
            raise TypeError(f"gradients: argument `variables` got {type(target).__name__}; expected tensors or variables")
        node = Node(GRADIENT, {"loss": loss, "wrt": target}, backend, unique_name("Gradient"))
        node.outputs = SymbolicTensor(shape, dtype, node, (), node.name + ":0")
        grads.append(node.outputs)
    return grads[0] if single else grads


# ---------------------------------------------------------------------------------------------------
# graph traversal


def topological(roots):
    """Nodes needed for ``roots`` (symbolic structures), inputs first."""
    order, seen = [], set()
    stack = [(t, False) for t in _leaves(roots) if is_symbolic(t)]
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
    for value in list(_leaves(roots)) + [v for n in nodes for v in n.inputs()]:
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
        fed = tuple((i, id(v)) for i, v in enumerate(template) if v.__class__ in _FED)
        nested = any(v.__class__ not in _FED and isinstance(v, (list, tuple, dict))
                     and any(leaf.__class__ in _FED for leaf in _leaves(v)) for v in template)
        if node.fn in UPDATE_KINDS:
            call = _UPDATED_VALUE[node.fn]
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
        args = [_map(lambda v: env[id(v)] if v.__class__ in _FED else v, a) for a in template]
        if substitute:
            args = [_map(lambda v: substitute.get(id(v), v), a) for a in args]
        value = call(*args)
        if kind == _APPLIED:
            env[out] = gradient.apply(node.kwargs["x"], value, substitute)
        elif out is None:
            bind_outputs(node, value, env)
        else:
            env[out] = gradient.watch(value) if kind == _WATCHED else value
    return env


_FED = (SymbolicTensor, SeedStream)  # values looked up in the run's environment


def seed_streams(nodes):
    """The seed streams of the random ops among ``nodes``."""
    return list({id(v): v for n in nodes for v in _leaves(n.kwargs) if v.__class__ is SeedStream}.values())


#: The new value each kind of update assigns, computed functionally (assigned after the outputs).
_UPDATED_VALUE = {
    "update": lambda x, new_x: new_x,
    "update_add": lambda x, increment: x + increment,
    "update_sub": lambda x, decrement: x - decrement,
    "moving_average_update": lambda x, value, momentum: x - (x - value) * (1 - momentum),
}


# ---------------------------------------------------------------------------------------------------
# the function object


_FUNCTION_OPTIONS = {"name", "compile", "jit"}


class Function:
    """A compiled graph: call it with a list of input values, get a list of NumPy outputs."""

    def __init__(self, inputs, outputs, updates=None, name=None, **options):
        invalid = set(options) - _FUNCTION_OPTIONS
        if invalid:
            raise ValueError(
                f"function: invalid argument(s) {', '.join(sorted(invalid))} passed to K.function; "
                f"expected only {', '.join(sorted(_FUNCTION_OPTIONS))}"
            )
        self.backend = active_backend()
        self.backend.load()
        self.name = name
        self.single_output = not isinstance(outputs, (list, tuple))
        self.outputs = [outputs] if self.single_output else list(outputs)
        self.inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        for i, tensor in enumerate(self.inputs):
            if not is_symbolic(tensor) or tensor.node is not None:
                raise TypeError(
                    f"function: argument `inputs` got {type(tensor).__name__} at position {i}; "
                    "expected placeholders (K.placeholder)"
                )
        self.updates = [self._update(u) for u in (updates or [])]
        # Updates that other nodes wait for (K.control_dependencies) are applied where they stand in
        # the program, so what is computed after them reads the new values; the rest are applied
        # after the outputs are read.
        self.early = early_updates(topological([o for o in self.outputs if is_symbolic(o)]
                                               + [t for _, t in self.updates]))
        applied = [t for _, t in self.updates if id(t.node) in self.early]
        self.updates = [(v, t) for v, t in self.updates if id(t.node) not in self.early]
        self.assignments = self._assignments()
        roots = ([o for o in self.outputs if is_symbolic(o)] + applied
                 + [a[2] for a in self.assignments if is_symbolic(a[2])])
        self.nodes = topological(roots)
        needed = placeholders_of(self.nodes, roots)
        fed = {id(t) for t in self.inputs}
        self.defaults = [t for t in needed if id(t) not in fed and t.default is not None]
        missing = [t for t in needed if id(t) not in fed and t.default is None]
        if missing:
            raise ValueError(
                f"function: the outputs depend on placeholder(s) {', '.join(t.name for t in missing)} "
                "that are not among `inputs`"
            )
        self.variables = _variables_of(self.nodes, self.backend)
        for variable, _, value, _ in self.assignments:  # the updated ones, and amounts that are variables
            for candidate in (variable, value):
                if all(candidate is not v for v in self.variables) and _is_variable(self.backend, candidate):
                    self.variables.append(candidate)
        # An output that is a variable or a constant, or may be a view of one, is returned as a copy:
        # writing into it must not change the variable (nor what the next call returns).
        self.shared_outputs = [i for i, o in enumerate(self.outputs) if _may_share_storage(o)]
        self.seed_streams = seed_streams(self.nodes)
        from .runners import make_runner

        self.runner = make_runner(self, **{k: v for k, v in options.items() if k in ("compile", "jit")})

    def _assignments(self):
        """How each update is applied: ``(variable, "assign", new value, None)``, or ``(variable, "add"
        or "sub", amount, scale)`` when the new value is the variable plus or minus ``scale * amount``
        (scale None: 1), as in an SGD step or a counter.  The engines then apply it in place instead of
        building the new value and copying it.  A variable updated twice is assigned twice, each new
        value computed from the old one."""
        counts = {}
        for variable, _ in self.updates:
            counts[id(variable)] = counts.get(id(variable), 0) + 1
        plan = []
        for variable, tensor in self.updates:
            node = tensor.node
            kind, value = "assign", tensor
            if counts[id(variable)] == 1:
                if node.fn == "update_add":
                    kind, value = "add", node.kwargs["increment"]
                elif node.fn == "update_sub":
                    kind, value = "sub", node.kwargs["decrement"]
                elif node.fn == "update":
                    kind, value = _step_of(variable, node.kwargs["new_x"])
            scale = None
            if kind != "assign":
                value, scale = _scaled(value)
            plan.append((variable, kind, value, scale))
        return plan

    def _update(self, update):
        if isinstance(update, (tuple, list)) and len(update) == 2:
            variable, value = update
            node = Node("update", {"x": variable, "new_x": value}, self.backend, unique_name("Assign"))
            node.outputs = SymbolicTensor(tuple(self.backend.int_shape(variable)), self.backend.dtype(variable),
                                          node, (), node.name + ":0")
            return variable, node.outputs
        if is_symbolic(update) and update.node is not None and update.node.fn in UPDATE_KINDS:
            return update.node.kwargs["x"], update
        raise TypeError(
            f"function: argument `updates` got {update!r}; expected (variable, new value) pairs or "
            "K.update / K.update_add / K.update_sub / K.moving_average_update results"
        )

    def feed_values(self, values):
        if not isinstance(values, (list, tuple)):
            if len(self.inputs) == 1:
                values = [values]
            else:
                raise TypeError(
                    f"function: expected a list of {len(self.inputs)} input values, got {type(values).__name__}"
                )
        if len(values) != len(self.inputs):
            raise ValueError(f"function: expected {len(self.inputs)} input values, got {len(values)}")
        feeds = list(zip(self.inputs, values))
        for tensor, value in feeds:
            shape = getattr(value, "shape", None)
            if shape is not None and tensor.shape and not _fits(shape, tensor.shape):
                raise ValueError(
                    f"function: input {tensor.name} of shape {tensor.shape} got a value of shape {tuple(shape)}"
                )
        phase = config._learning_phase
        for tensor in self.defaults:
            feeds.append((tensor, tensor.default if phase is None else phase))
        return feeds

    def __call__(self, inputs):
        feeds = self.feed_values(inputs)
        outputs = self.runner(feeds)
        results = [np.asarray(self.backend.eval(o)) if not isinstance(o, (int, float, bool)) else o
                   for o in outputs]
        # Inputs are fed without copying; an output must never be (a view of) the caller's array.
        arrays = [value for _, value in feeds if value.__class__ is np.ndarray]
        if arrays:
            results = [r.copy() if r.__class__ is np.ndarray and any(np.may_share_memory(r, a) for a in arrays)
                       else r for r in results]
        for i in self.shared_outputs:
            if results[i].__class__ is np.ndarray:
                results[i] = results[i].copy()
        return results[0] if self.single_output else results


def _step_of(variable, new):
    """``("sub", e)`` for ``new = variable - e``, ``("add", e)`` for ``variable + e`` or ``e + variable``,
    else ``("assign", new)``."""
    node = new.node if is_symbolic(new) else None
    if node is not None and node.fn in (operator.add, operator.sub):
        first, second = node.kwargs["arg0"], node.kwargs["arg1"]
        if first is variable:
            return ("add" if node.fn is operator.add else "sub"), second
        if second is variable and node.fn is operator.add:
            return "add", first
    return "assign", new


def _scaled(amount):
    """``(g, c)`` for an amount ``c * g`` or ``g * c`` with a Python number ``c`` (a learning rate),
    which engines with a fused multiply-add apply in one pass; else ``(amount, None)``."""
    node = amount.node if is_symbolic(amount) else None
    if node is not None and node.fn is operator.mul:
        first, second = node.kwargs["arg0"], node.kwargs["arg1"]
        for scale, tensor in ((first, second), (second, first)):
            if scale.__class__ in (int, float) and is_symbolic(tensor):
                return tensor, scale
    return amount, None


def _fits(shape, expected):
    if len(shape) != len(expected):
        return False
    for d, e in zip(shape, expected):
        if e is not None and e != d:
            return False
    return True


#: Ops whose NumPy or PyTorch result may be their input itself or a view of it.
_MAY_RETURN_A_VIEW = frozenset(
    """identity stop_gradient reshape transpose permute_dimensions squeeze expand_dims slice reverse cast switch
    print_tensor""".split()
) | {operator.getitem, operator.pos}


def _may_share_storage(output):
    """True when ``output`` may not be computed afresh by each call: a variable or a constant, or a
    view of one through ops that may return views."""
    stack, seen = [output], set()
    while stack:
        value = stack.pop()
        if not is_symbolic(value):
            if not isinstance(value, (numbers.Number, str, bytes, type(None))):
                return True
            continue
        node = value.node
        if node is None or id(node) in seen or node.fn not in _MAY_RETURN_A_VIEW:
            continue
        seen.add(id(node))
        stack.extend(_leaves(node.kwargs))
    return False


def _variables_of(nodes, backend):
    found = {}
    for node in nodes:
        for value in _leaves(node.kwargs):
            if not is_symbolic(value) and value is not None and not isinstance(
                    value, (int, float, bool, str, np.ndarray)) and _is_variable(backend, value):
                found[id(value)] = value
        if node.fn == GRADIENT and not is_symbolic(node.kwargs["wrt"]):
            found[id(node.kwargs["wrt"])] = node.kwargs["wrt"]
    return list(found.values())


def _is_variable(backend, value):
    try:
        return bool(backend.is_variable(value))
    except Exception:  # noqa: BLE001 - callables and other non-tensors
        return False


def function(inputs, outputs, updates=None, **kwargs):
    """Return a callable that evaluates ``outputs`` from values fed to the placeholders ``inputs``.

    ``updates`` is a list of ``(variable, new_value)`` pairs or ``K.update*`` results, applied after the
    outputs are computed on each call.  The callable takes a list of NumPy (or engine) values and
    returns a list of NumPy arrays.  ``K.learning_phase()`` may be one of the inputs (fed 0 or 1);
    otherwise it is 0 unless set with ``K.set_learning_phase``.  Keyword ``compile=True`` asks
    PyTorch for ``torch.compile``; ``jit=False`` replays without ``jax.jit`` / ``tf.function``.

    >>> import kbackend as K
    >>> x = K.placeholder((None, 2))
    >>> f = K.function([x], [K.sum(x, axis=1)])
    >>> f([[[1.0, 2.0], [3.0, 4.0]]])[0]
    array([3., 7.], dtype=float32)
    """
    return Function(inputs, outputs, updates, **kwargs)


def evaluate(tensor):
    """``K.eval`` of a symbolic tensor: allowed when it depends on no placeholder without a default.
    An update op (``K.update_add(v, 1)`` recorded in graph mode) is applied, and its new value returned."""
    if tensor.node is not None and tensor.node.fn in UPDATE_KINDS:
        return Function([], [tensor], updates=[tensor])([])[0]
    return Function([], [tensor])([])[0]


def learning_phase_tensor():
    return symbolic_learning_phase()


def dtype_of(value, backend):
    return canonical_dtype(backend.dtype(value))
