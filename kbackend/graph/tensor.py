"""Symbolic tensors and the recording of op nodes.

A :class:`SymbolicTensor` is only a shape (None for unknown dims), a dtype name and the :class:`Node`
that produces it.  Every op called with a symbolic argument lands in :func:`record` (the one branch in
the dispatcher): composite ops run their K-call bodies on the symbolic values, so they decompose into
primitive nodes; primitive ops become nodes whose output shape and dtype come from running the NumPy
reference on stand-in arrays — the same code that computes eager results, so the two cannot disagree.
"""

import operator
import threading
import warnings

import numpy as np

from .. import config
from .._dispatch import OPS, active_backend, backend_scope, symbolic
from ..dtypes import canonical_dtype, numpy_dtype


class Node:
    """One recorded call: ``fn`` is an op name (dispatched on the backend) or a Python operator."""

    __slots__ = ("fn", "kwargs", "backend", "outputs", "name")

    def __init__(self, fn, kwargs, backend, name):
        self.fn = fn
        self.kwargs = kwargs
        self.backend = backend
        self.outputs = None
        self.name = name

    def inputs(self):
        """The symbolic tensors this node reads."""
        return [v for v in _leaves(self.kwargs) if isinstance(v, SymbolicTensor)]


def _leaves(value):
    if isinstance(value, SymbolicTensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value


def _map(fn, value):
    if isinstance(value, SymbolicTensor):
        return fn(value)
    if isinstance(value, list):
        return [_map(fn, v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_map(fn, v) for v in value)
    if isinstance(value, dict):
        return {k: _map(fn, v) for k, v in value.items()}
    return fn(value)


_names_lock = threading.Lock()
_name_counts = {}
_name_scopes = threading.local()


def unique_name(prefix):
    """'Placeholder_1:0', 'Cast_2:0', … (per-prefix counters, inside the current name scopes)."""
    scopes = getattr(_name_scopes, "stack", [])
    base = "/".join(scopes + [prefix])
    with _names_lock:
        count = _name_counts[base] = _name_counts.get(base, 0) + 1
    return f"{base}_{count}"


def _camel(name):
    return "".join(part.capitalize() for part in name.split("_"))


class SymbolicTensor:
    """A tensor known only by shape and dtype until :func:`kbackend.function` evaluates it."""

    __array_priority__ = 1000
    __array_ufunc__ = None  # NumPy operators defer to ours

    def __init__(self, shape, dtype, node=None, index=None, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node
        self.index = index  # path of this output inside the node's output structure
        self.name = name
        self.default = None  # placeholders with a default value (the learning phase)
        self.stand_ins = {}  # probe size → NumPy value computed at record time (see `infer`)
        self.dynamic = None in self.shape  # depends on an unknown dim (its shape or its values)

    def __repr__(self):
        return f"<kbackend.SymbolicTensor '{self.name}' shape={self.shape} dtype={self.dtype}>"

    ndim = property(lambda self: len(self.shape))

    def __len__(self):
        if not self.shape or self.shape[0] is None:
            raise TypeError(f"len() of symbolic tensor {self.name} with unknown first dimension")
        return self.shape[0]

    def __iter__(self):
        raise TypeError(f"symbolic tensor {self.name} is not iterable; index it or use K ops")

    def __bool__(self):
        raise TypeError(
            f"symbolic tensor {self.name} has no truth value; use K.switch / K.in_train_phase"
        )

    __hash__ = object.__hash__

    def __getitem__(self, index):
        return record_operator("getitem", operator.getitem, self, index)

    def eval(self):
        from .function import evaluate

        return evaluate(self)


def _binary(name, fn, reflected=False):
    if reflected:
        return lambda self, other: record_operator(name, fn, other, self)
    return lambda self, other: record_operator(name, fn, self, other)


for _name, _fn in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv), ("mod", operator.mod),
                   ("pow", operator.pow), ("matmul", operator.matmul)]:
    setattr(SymbolicTensor, f"__{_name}__", _binary(_name, _fn))
    setattr(SymbolicTensor, f"__r{_name}__", _binary(_name, _fn, reflected=True))
for _name, _fn in [("lt", operator.lt), ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge),
                   ("and", operator.and_), ("or", operator.or_), ("xor", operator.xor)]:
    setattr(SymbolicTensor, f"__{_name}__", _binary(_name, _fn))
for _name, _fn in [("neg", operator.neg), ("pos", operator.pos), ("abs", operator.abs),
                   ("invert", operator.invert)]:
    setattr(SymbolicTensor, f"__{_name}__", (lambda n, f: lambda self: record_operator(n, f, self))(_name, _fn))


def is_symbolic(value):
    return value.__class__ is SymbolicTensor


class SeedStream:
    """The seed of a random op inside a graph: each run of a function draws the next one, so dropout
    masks and noise change from step to step (as a seeded TensorFlow op does across session runs)
    while a given seed still reproduces the same sequence."""

    __slots__ = ("base", "count")

    def __init__(self, base):
        self.base = int(base)
        self.count = 0

    def next(self):
        self.count += 1
        return (self.base * 1_000_003 + self.count) % (2 ** 31 - 1)


# ---------------------------------------------------------------------------------------------------
# shape and dtype inference: run the NumPy reference on stand-ins


#: Sizes tried for unknown dims: two runs that agree on a dim make it static, else it is None.
_PROBES = (2, 3, 1, 4, 5, 6, 7, 8)

#: Unknown dims beyond the first (image sides, sequence lengths) also get a third, wide run: the first
#: axis keeps the first probe's size, the others take this one.  Strides and pools collapse 2 and 3 to
#: the same size (a fully convolutional net on ``(None, None, None, 3)`` would look 4x4); 64 keeps
#: five halvings apart.
_WIDE = 64


def _stand_in(value, probe, backend):
    if value.__class__ is SeedStream:
        return value.base
    if isinstance(value, SymbolicTensor):
        known = value.stand_ins.get(probe)
        if known is not None:
            return known
        if value.default is not None:
            return np.asarray(value.default, dtype=numpy_dtype(value.dtype))
        if probe.__class__ is tuple:  # the wide probe: (size of the first axis, size of the others)
            first, rest = probe
            shape = tuple(d if d is not None else first if i == 0 else rest for i, d in enumerate(value.shape))
        else:
            shape = tuple(probe if d is None else d for d in value.shape)
        return np.zeros(shape, dtype=numpy_dtype(value.dtype))
    if value.__class__ in symbolic.variable_types or (
            backend.name != "numpy" and _is_engine_tensor(value, backend)):
        return np.asarray(backend.eval(value))
    return value


def _is_engine_tensor(value, backend):
    if isinstance(value, (np.ndarray, np.generic, int, float, bool, str, type(None))):
        return False
    try:
        return bool(backend.is_tensor(value))
    except Exception:  # noqa: BLE001 - anything the engine cannot classify is passed through
        return False


def _run_reference(fn, kwargs, probe, backend):
    concrete = {k: _map(lambda v: _stand_in(v, probe, backend), v) for k, v in kwargs.items()}
    with symbolic.suspended(), backend_scope("numpy"), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(**concrete)


def _meta(value):
    if value is None or isinstance(value, (bool, int, float, str)) and not isinstance(value, np.generic):
        return value
    array = np.asarray(value)
    return array.shape, canonical_dtype(array.dtype)


def infer(fn, kwargs, backend):
    """Run ``fn`` on stand-ins; return (output structure with (shape, dtype) leaves, {probe: value}).

    Unknown dims become a probe size (2, then 3, …); dims that agree across two probes are static, the
    others None.  Each symbolic output keeps its stand-in values, so a later op fed with, say,
    ``K.shape(x)[0]`` sees the matching size rather than an arbitrary one.
    """
    has_unknown = any(isinstance(v, SymbolicTensor) and v.dynamic for v in _leaves(kwargs))
    wanted = 2 if has_unknown else 1
    values, error = {}, None
    for probe in _candidates(kwargs) if has_unknown else _PROBES[:1]:
        try:
            values[probe] = _run_reference(fn, kwargs, probe, backend)
        except Exception as exc:  # noqa: BLE001 - a size the op cannot take; try the next one
            error = error or exc
        if len(values) == wanted:
            break
    if not values:
        raise error
    if len(values) == 2 and any(isinstance(v, SymbolicTensor) and None in v.shape[1:] for v in _leaves(kwargs)):
        wide = (next(iter(values)), _WIDE)
        try:
            values[wide] = _run_reference(fn, kwargs, wide, backend)
        except Exception:  # noqa: BLE001 - sizes the op cannot take together: the two runs decide
            pass
    results = [_structure(v) for v in values.values()]
    merged = _merge(results[0], results[1] if len(results) > 1 else results[0])
    return (_merge(_unmerged(merged), results[2]) if len(results) > 2 else merged), values


def _unmerged(meta):
    """A merged structure back in the (shape, dtype) form that :func:`_merge` takes."""
    if isinstance(meta, tuple) and meta and meta[0] == "tensor":
        return meta[1], meta[2]
    if isinstance(meta, (list, tuple)):
        return type(meta)(_unmerged(m) for m in meta)
    return meta


def _candidates(kwargs):
    """Probe sizes: the defaults, then the static dims of the other inputs (an unknown batch dim
    often has to match another input's known one)."""
    static = set()
    for value in _leaves(kwargs):
        shape = value.shape if isinstance(value, SymbolicTensor) else getattr(value, "shape", ())
        static.update(d for d in shape if isinstance(d, int) and d > 0)
    return _PROBES + tuple(sorted(static - set(_PROBES)))


def _structure(value):
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_structure(v) for v in value)
    return _meta(value)


def _merge(a, b):
    if isinstance(a, (list, tuple)) and not (len(a) == 2 and isinstance(a[1], str)):
        return type(a)(_merge(x, y) for x, y in zip(a, b))
    if not isinstance(a, tuple):
        return a
    (shape_a, dtype), (shape_b, _) = a, b
    shape = tuple(None if x != y else x for x, y in zip(shape_a, shape_b))
    return ("tensor", shape, dtype)


def _outputs(node, meta, path=(), counter=None):
    counter = counter if counter is not None else [0]
    if isinstance(meta, tuple) and meta and meta[0] == "tensor":
        _, shape, dtype = meta
        tensor = SymbolicTensor(shape, dtype, node, path, f"{node.name}:{counter[0]}")
        counter[0] += 1
        return tensor
    if isinstance(meta, (list, tuple)):
        return type(meta)(_outputs(node, m, path + (i,), counter) for i, m in enumerate(meta))
    return meta


# ---------------------------------------------------------------------------------------------------
# recording


#: Ops answered from the symbolic tensor itself instead of recording a node.
STATIC = {
    "int_shape": lambda x: x.shape,
    "ndim": lambda x: len(x.shape),
    "dtype": lambda x: x.dtype,
    "is_tensor": lambda x: True,
    "is_variable": lambda x: False,
    "is_sparse": lambda tensor: False,
    "is_placeholder": lambda x: x.node is None,
    "is_keras_tensor": lambda x: hasattr(x, "_keras_history"),
    "count_params": lambda x: _count_params(x),
}


def _count_params(x):
    if None in x.shape:
        raise ValueError(f"count_params: argument `x` got {x!r}; expected a fully known shape")
    return int(np.prod(x.shape, dtype=np.int64))


def _static_arg(name, kwargs):
    spec = OPS[name]
    return kwargs[next(iter(spec.signature.parameters))]


#: Ops that act at once when their only deferred arguments are variables (no symbolic tensor).  The
#: updates are not among them: in graph mode ``K.update_add(iterations, 1)`` is an update op that
#: ``K.function(..., updates=[...])`` applies on every call (Keras 2 optimizers are written this way);
#: ``K.eval`` of it applies it once.
IMMEDIATE = frozenset(
    """variable constant set_value batch_set_value get_value batch_get_value eval is_sparse to_dense
    is_variable is_tensor is_keras_tensor is_placeholder int_shape ndim dtype count_params shape size
    zeros_like ones_like""".split()
)


def record(name, kwargs):
    """The dispatcher's symbolic branch: answer, decompose or record op ``name``."""
    if name in IMMEDIATE and not any(is_symbolic(v) for v in _leaves(kwargs)):
        return getattr(active_backend(), name)(*kwargs.values())
    if name in STATIC:
        return STATIC[name](_static_arg(name, kwargs))
    if name in ("eval", "get_value"):
        from .function import evaluate

        return evaluate(kwargs["x"])
    if name == "batch_get_value":
        from .function import evaluate

        return [evaluate(x) if is_symbolic(x) else active_backend().eval(x) for x in kwargs["ops"]]
    spec = OPS[name]
    rule = SPECIAL.get(name)
    if rule is not None:
        return rule(kwargs)
    if spec.composite:
        return spec.reference(**kwargs)
    if name in RANDOM_OPS and kwargs.get("seed") is not None:
        kwargs = dict(kwargs, seed=SeedStream(kwargs["seed"]))
    return record_node(name, kwargs, spec.reference)


def record_node(name, kwargs, reference, prefix=None):
    backend = active_backend()
    meta, values = infer(reference, kwargs, backend)
    node = Node(name, kwargs, backend, unique_name(prefix or _camel(name)))
    node.outputs = _outputs(node, meta)
    dynamic = len(values) > 1
    for probe, value in values.items():
        _attach(node.outputs, value, probe, dynamic)
    return node.outputs


def _attach(outputs, value, probe, dynamic):
    if isinstance(outputs, SymbolicTensor):
        outputs.stand_ins[probe] = np.asarray(value)
        outputs.dynamic = outputs.dynamic or dynamic
    elif isinstance(outputs, (list, tuple)) and isinstance(value, (list, tuple)):
        for o, v in zip(outputs, value):
            _attach(o, v, probe, dynamic)


def record_operator(name, fn, *args):
    """A Python operator applied to a symbolic tensor (``x + 1``, ``x[0]``, ``-x``)."""
    kwargs = {f"arg{i}": a for i, a in enumerate(args)}
    return record_node(fn, kwargs, lambda **kw: fn(*kw.values()), prefix=_camel(name))


def _update_rule(kind):
    def rule(kwargs):
        x = kwargs["x"]
        if not active_backend().is_variable(x):
            raise TypeError(f"{kind}: argument `x` got {type(x).__name__}; expected a variable (K.variable)")
        node = Node(kind, kwargs, active_backend(), unique_name(_camel(kind)))
        shape = tuple(x.shape)
        node.outputs = SymbolicTensor(shape, canonical_dtype(active_backend().dtype(x)), node, (), node.name + ":0")
        return node.outputs

    return rule


#: Ops whose ``seed`` becomes a :class:`SeedStream` inside a graph.
RANDOM_OPS = frozenset("dropout random_normal random_uniform random_bernoulli truncated_normal".split())


def _dropout_rule(kwargs):
    """Dropout always drops, as Keras 2's ``K.dropout`` (only ``in_train_phase`` reads the learning
    phase); its seed becomes a stream so that each call of a function draws a new mask."""
    if kwargs.get("seed") is not None:
        kwargs = dict(kwargs, seed=SeedStream(kwargs["seed"]))
    return record_node("dropout", kwargs, OPS["dropout"].reference)


def _switch_rule(kwargs):
    """A branch given as a callable is traced (called once on the graph's tensors) before recording."""
    branches = {k: kwargs[k]() if callable(kwargs[k]) else kwargs[k] for k in ("then_expression", "else_expression")}
    return record_node("switch", dict(kwargs, **branches), OPS["switch"].reference)


def _loop_rule(name, tensor_arg, axis):
    """Loops (map_fn, the folds, rnn) unroll into primitive nodes when their length is known; over an
    unknown length (a batch or time dimension that is None) they become one node that the engine runs
    on the fed values — a Python loop on NumPy and torch, ``lax.map``/``lax.scan`` under ``jax.jit``,
    ``tf.map_fn``/``tf.while_loop`` in TensorFlow — as Keras 2's ``tf.map_fn`` and ``K.rnn`` did."""

    def rule(kwargs):
        value = kwargs[tensor_arg]
        if not (is_symbolic(value) and len(value.shape) > axis and value.shape[axis] is None):
            return OPS[name].reference(**kwargs)
        loop = _Loop(name, _body_variables(name, kwargs))
        reference = OPS[name].reference
        return record_node(loop, dict(kwargs, captured=loop.variables),
                           lambda captured, **kw: reference(**kw), prefix=_camel(name))

    return rule


class _Loop:
    """The function of a loop node over an unknown length.  ``variables`` are the variables its body
    (a Python function) reads: they are arguments of the node, so graph walks see them (NumPy's
    gradient sweep refuses the node instead of missing them), and an engine that traces with variable
    values as inputs (JAX) has the body read those values while the loop runs."""

    def __init__(self, name, variables):
        self.name = self.__name__ = name
        self.variables = variables
        self.backend = active_backend()

    def __call__(self, *args):
        *args, values = args
        swapped = [(variable, value) for variable, value in zip(self.variables, values) if value is not variable]
        saved = [variable.value for variable, _ in swapped]
        for variable, value in swapped:
            variable.value = value
        try:
            return getattr(self.backend, self.name)(*args)
        finally:
            for (variable, _), value in zip(swapped, saved):
                variable.value = value


def _body_variables(name, kwargs):
    """Trace the loop body once on symbolic slices to find the variables it reads; a body that reads a
    symbolic tensor from outside (not through its arguments) is refused with a clear error."""
    if name == "rnn":
        inputs = kwargs["inputs"]
        states = list(kwargs["initial_states"] or ()) + list(kwargs["constants"] or ())
        outputs = kwargs["step_function"](inputs[:, 0], states)
    elif name == "map_fn":
        outputs = kwargs["fn"](kwargs["elems"][0])
    else:
        first = kwargs["elems"][0]
        start = kwargs["initializer"] if kwargs["initializer"] is not None else first
        outputs = kwargs["fn"](start, first)
    allowed = {id(t) for t in _leaves(kwargs) if is_symbolic(t)}
    backend = active_backend()
    variables, seen, stack = {}, set(), [t for t in _leaves(outputs) if is_symbolic(t)]
    while stack:
        tensor = stack.pop()
        if id(tensor) in allowed or id(tensor) in seen:
            continue
        seen.add(id(tensor))
        if tensor.node is None:
            raise NotImplementedError(
                f"{name}: over an unknown length, the loop body reads {tensor.name} from outside its "
                "arguments; pass it in (`constants` for K.rnn) or give the dimension a static size"
            )
        for value in _leaves(tensor.node.kwargs):
            if is_symbolic(value):
                stack.append(value)
            elif value.__class__ in symbolic.variable_types and backend.is_variable(value):
                variables[id(value)] = value
    return list(variables.values())


SPECIAL = {
    "map_fn": _loop_rule("map_fn", "elems", 0),
    "foldl": _loop_rule("foldl", "elems", 0),
    "foldr": _loop_rule("foldr", "elems", 0),
    "rnn": _loop_rule("rnn", "inputs", 1),
    "update": _update_rule("update"),
    "update_add": _update_rule("update_add"),
    "update_sub": _update_rule("update_sub"),
    "moving_average_update": _update_rule("moving_average_update"),
    "dropout": _dropout_rule,
    "switch": _switch_rule,
}


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """Return a symbolic input of ``shape`` (None for unknown dims) and ``dtype`` (default floatx()).

    With only ``ndim`` every dimension is unknown.  Feed it through :func:`kbackend.function`.

    >>> import kbackend as K
    >>> x = K.placeholder((2, 3), dtype='float32')
    >>> K.int_shape(x), K.dtype(x)
    ((2, 3), 'float32')
    """
    if shape is None:
        if ndim is None:
            raise ValueError("placeholder: arguments `shape` and `ndim` are both None; expected one of them")
        shape = (None,) * int(ndim)
    elif isinstance(shape, int):
        shape = (shape,)
    shape = tuple(None if d is None else int(d) for d in shape)
    if sparse:
        raise NotImplementedError("placeholder: sparse placeholders are not implemented")
    dtype = config._floatx if dtype is None else canonical_dtype(dtype)
    tensor = SymbolicTensor(shape, dtype, None, None, name or unique_name("Placeholder") + ":0")
    activate()
    return tensor


_phase_lock = threading.Lock()
_phase = []


def symbolic_learning_phase():
    """The scalar placeholder for the learning phase (default 0) that functions feed."""
    with _phase_lock:
        if not _phase:
            tensor = SymbolicTensor((), "int32", None, None, "keras_learning_phase:0")
            tensor.default = 0
            _phase.append(tensor)
        return _phase[0]


def reset():
    """Leave graph mode and forget the name counters, uids and learning phase (``K.clear_session``)."""
    symbolic.active = False
    with _names_lock:
        _name_counts.clear()
    config.reset_uids()
    config._learning_phase = None


def activate():
    symbolic.is_symbolic = is_symbolic
    symbolic.record = record
    symbolic.record_operator = record_operator
    symbolic.active = True

