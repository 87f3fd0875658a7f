"""Symbolic tensors and the nodes that produce them: the data of a recorded graph.

A :class:`SymbolicTensor` is only a shape (None for unknown dims), a dtype name and the :class:`Node`
that produces it.  This module holds the data types, the one walker over nested arguments
(:func:`leaves`, :func:`map_structure`) and the tensor names; recording ops into nodes is
:mod:`.tensor`'s work, which stands above it.  Python operators on a symbolic tensor reach the
recorder through the dispatcher's symbolic seam (``symbolic.record_operator``).
"""

import contextlib
import itertools
import threading

from .. import config
from .._dispatch import OPS, install_operators, name_scopes, symbolic


node_serials = itertools.count()  # creation order of nodes (a loop body's nodes come after its start)


class Node:
    """One recorded call: ``fn`` is an op name (dispatched on the backend) or a Python operator.

    ``deps`` are the tensors that must be computed first (:func:`control_dependencies` around the
    call): an update among them is applied before this node reads any variable."""

    __slots__ = ("fn", "kwargs", "backend", "outputs", "name", "deps", "serial", "reference")

    def __init__(self, fn, kwargs, backend, name):
        self.fn = fn
        self.kwargs = kwargs
        self.backend = backend
        self.outputs = None
        self.name = name
        self.deps = getattr(_control, "deps", ())
        self.serial = next(node_serials)
        self.reference = None  # the NumPy function shape inference runs on stand-ins (recorded nodes)

    def inputs(self):
        """The symbolic tensors this node reads or waits for."""
        found = [v for v in leaves(self.kwargs) if isinstance(v, SymbolicTensor)]
        return found + list(self.deps) if self.deps else found


#: This thread's control dependencies: ``deps``, the tensors every node recorded now waits for.
_control = threading.local()


@contextlib.contextmanager
def control_dependencies(control_inputs):
    """Nodes recorded inside the block wait for the symbolic tensors in ``control_inputs`` (nested
    lists allowed); eager values have already run, so they add nothing."""
    found = tuple(v for v in leaves(control_inputs or ()) if isinstance(v, SymbolicTensor))
    outer = getattr(_control, "deps", ())
    _control.deps = outer + tuple(v for v in found if all(v is not o for o in outer))
    try:
        yield
    finally:
        _control.deps = outer


def leaves(value):
    """The leaves of a nested argument (lists, tuples, namedtuples, dict values), depth first; a
    symbolic tensor is a leaf.  The one walker of the symbolic layer: :func:`map_structure` walks the
    same way."""
    if isinstance(value, SymbolicTensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    else:
        yield value


def map_structure(fn, value):
    """``value`` with ``fn`` applied to each leaf (see :func:`leaves`); lists, tuples, namedtuples
    (rebuilt as their own type) and dicts keep their structure."""
    if isinstance(value, SymbolicTensor):
        return fn(value)
    if isinstance(value, list):
        return [map_structure(fn, v) for v in value]
    if isinstance(value, tuple):
        items = [map_structure(fn, v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        return {k: map_structure(fn, v) for k, v in value.items()}
    return fn(value)


_names_lock = threading.Lock()
_name_counts = {}
_name_scopes = name_scopes


def unique_name(prefix):
    """'Placeholder_1:0', 'Cast_2:0', … (per-prefix counters, inside the current name scopes)."""
    scopes = getattr(_name_scopes, "stack", [])
    base = "/".join(scopes + [prefix])
    with _names_lock:
        count = _name_counts[base] = _name_counts.get(base, 0) + 1
    return f"{base}_{count}"


class SymbolicTensor:
    """A tensor known only by shape and dtype until :func:`kbackend.function` evaluates it."""

    __array_priority__ = 1000

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        """An array operator meeting a symbolic tensor is recorded (``array * tensor``).  In place,
        ``array *= tensor`` cannot store a graph value in the array: it gives the recorded product, and
        Python binds the name to it, as ``tensor *= tensor`` does on every engine (Keras 2's recurrent
        cells multiply an eager state by a dropout mask of the learning phase this way)."""
        names = _UFUNC_OPERATORS.get(ufunc.__name__)
        if method != "__call__" or names is None or kwargs or len(inputs) != len(names):
            return NotImplemented
        if len(inputs) == 1:
            return getattr(self, names[0])()
        left, right = inputs
        if left is self:
            return getattr(self, names[0])(right)
        return getattr(self, names[1])(left)

    def __init__(self, shape, dtype, node=None, index=None, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node
        self.index = index  # path of this output inside the node's output structure
        self.name = name
        self.default = None  # placeholders with a default value (the learning phase)
        self.stand_ins = {}  # probe → value computed at record time, or (shape, dtype) if large (see `infer`)
        self.dynamic = None in self.shape  # depends on an unknown dim (its shape or its values)
        self.ruled = False  # its shape came from its op's rule (see graph/shapes.shaped_by_rule)

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

    def eval(self):
        return OPS["eval"].public(self)


install_operators(SymbolicTensor)  # every operator records a node

#: NumPy's operator ufuncs → (the tensor's method when it is the left operand, when it is the right).
_UFUNC_OPERATORS = {
    "add": ("__add__", "__radd__"), "subtract": ("__sub__", "__rsub__"), "multiply": ("__mul__", "__rmul__"),
    "divide": ("__truediv__", "__rtruediv__"), "true_divide": ("__truediv__", "__rtruediv__"),
    "floor_divide": ("__floordiv__", "__rfloordiv__"), "remainder": ("__mod__", "__rmod__"),
    "power": ("__pow__", "__rpow__"), "matmul": ("__matmul__", "__rmatmul__"),
    "bitwise_and": ("__and__", "__rand__"), "bitwise_or": ("__or__", "__ror__"),
    "bitwise_xor": ("__xor__", "__rxor__"),
    "less": ("__lt__", "__gt__"), "less_equal": ("__le__", "__ge__"), "greater": ("__gt__", "__lt__"),
    "greater_equal": ("__ge__", "__le__"),
    "negative": ("__neg__",), "positive": ("__pos__",), "absolute": ("__abs__",), "invert": ("__invert__",),
}


def is_symbolic(value):
    return value.__class__ is SymbolicTensor


class _Unavailable:
    """The stand-in of a tensor whose node failed at a probe size: the ops computed from it skip that
    probe (see graph/tensor.py ``infer``)."""

    def __repr__(self):
        return "<unavailable>"


UNAVAILABLE = _Unavailable()


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


def existing_learning_phase():
    """The learning-phase placeholder if one was made in this session, else None."""
    return _phase[0] if _phase else None


def reset():
    """Leave graph mode and forget the name counters, uids and learning phase (``K.clear_session``)."""
    symbolic.leave()
    with _names_lock:
        _name_counts.clear()
    config.reset_uids()
    config.clear_learning_phase()


def graph_learning_phase():
    """The learning-phase placeholder while the calling thread builds graphs, else None
    (installed as :func:`kbackend.config.graph_learning_phase`)."""
    if symbolic.active and symbolic.recording():
        return symbolic_learning_phase()
    return None


config.graph_learning_phase = graph_learning_phase
