"""Output shapes and dtypes of recorded ops from their declared rules.

An op that declares ``shape_rule=`` (:func:`kbackend._dispatch.op`) is recorded without running anything:
its rule gives the output shape from the inputs' static shapes (None for unknown dims), and its dtype
policy gives the output dtype (:func:`kbackend.dtypes.result_dtype`), as eager dispatch applies it.  The
arithmetic Python operators have their rules here, by operator name.

:func:`declared` answers None, and the stand-in probes of :mod:`.tensor` decide as for an op without a
rule, when the rule declines (it raises for arguments it does not decide, a bad call among them, so the
reference raises the op's own error), when the output is an int (int tensors carry shape arithmetic
such as ``K.shape(x)[0]``, whose values later ops read), and when an input holds such values.

A tensor recorded by a rule keeps no stand-in values: where a later op is probed, :func:`fill_stand_ins`
gives it the shape it takes at that probe, by the same rules along the graph back to tensors that have
one, so a dim derived from the batch (a reshape to ``(-1, 2)``) stays consistent with it.
"""

import operator

import numpy as np

from .._dispatch import OPS, symbolic
from ..dtypes import FLOATS, canonical_dtype, numpy_dtype, result_dtype
from ..ops.math_rules import broadcast, unchanged
from .node import UNAVAILABLE, SymbolicTensor, leaves, map_structure

#: The Python operators with a shape rule, by function; the others (``getitem``, ``matmul``, the
#: comparisons and bitwise operators) are probed.
OPERATOR_SHAPES = {
    operator.add: broadcast, operator.sub: broadcast, operator.mul: broadcast, operator.truediv: broadcast,
    operator.floordiv: broadcast, operator.mod: broadcast, operator.pow: broadcast,
    operator.neg: unchanged, operator.pos: unchanged, operator.abs: unchanged,
}

_NUMBERS = (int, float, bool)

#: Output dtypes a rule decides alone.  An int output may be shape arithmetic whose values later ops
#: read; a bool one (a comparison, a mask) is read for its shape only, and a comparison of tensors
#: whose unknown dims are independent (``K.equal(K.argmax(y_true), K.argmax(y_pred))`` on Keras's
#: all-None target) has no probe size that fits both, so only the rule can give its shape.
DECIDED = frozenset(FLOATS) | {"bool"}


class Operand:
    """What a rule reads of a tensor argument that is not symbolic (a variable, an array, an engine
    tensor): its static shape and its dtype name."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = shape
        self.dtype = dtype


def rule_of(fn):
    """The shape rule of a node's function (an op name or a Python operator), or None."""
    if fn.__class__ is str:
        spec = OPS.get(fn)
        return spec.shape_rule if spec is not None else None
    try:
        return OPERATOR_SHAPES.get(fn)
    except TypeError:  # an unhashable callable
        return None


def declared(fn, kwargs, backend):
    """``(decided, found)``: ``found`` is the ``("tensor", shape, dtype)`` that the rule of ``fn`` gives
    for ``kwargs`` (None without a rule, or when it declines); ``decided`` is ``found`` when the rule
    decides alone, None when the probes must run (see the module's docstring), and then ``found``
    still tells them which dims are free."""
    if rule_of(fn) is None:
        return None, None
    found = rule_output(fn, kwargs, backend)
    if found is None or found[2] not in DECIDED or any(_holds_values(v) for v in leaves(kwargs)):
        return None, found
    return found, found


def rule_output(fn, kwargs, backend):
    """``("tensor", shape, dtype)`` that the rule of ``fn`` and its dtype policy give for ``kwargs``, any
    dtype; None when the rule declines or the policy does not decide the dtype."""
    rule = rule_of(fn)
    args = {name: map_structure(lambda v: _operand(v, backend), value) for name, value in kwargs.items()}
    if rule is None or any(v is _UNREADABLE for v in leaves(args)):
        return None
    if fn.__class__ is str:
        spec = OPS[fn]
        dtype = result_dtype(spec.policy, [v.dtype for name in spec.tensor_params for v in leaves(args[name])
                                           if v.__class__ is SymbolicTensor or v.__class__ is Operand])
    else:
        dtype = _operator_dtype(list(leaves(args)))
    if dtype is None:
        return None
    try:
        shape = rule(*args.values())
    except (ValueError, TypeError, IndexError):
        return None
    return "tensor", tuple(shape), dtype


#: An argument a rule cannot read (a leaf whose shape is not known): the probes decide.
_UNREADABLE = object()


def _operand(value, backend):
    if value.__class__ is SymbolicTensor or value is None or value.__class__ in _NUMBERS:
        return value
    if value.__class__ is np.ndarray:
        try:
            return Operand(value.shape, canonical_dtype(value.dtype))
        except TypeError:  # strings, objects
            return _UNREADABLE
    if value.__class__ in symbolic.variable_types or is_engine_tensor(value, backend):
        try:
            return Operand(tuple(backend.int_shape(value)), backend.dtype(value))
        except Exception:  # noqa: BLE001 - a value the engine cannot describe statically
            return _UNREADABLE
    return value


def is_engine_tensor(value, backend):
    """True when ``value`` is a tensor of ``backend``'s engine (never on NumPy, whose tensors are arrays)."""
    if backend.name == "numpy" or isinstance(value, _PLAIN):
        return False
    try:
        return bool(backend.is_tensor(value))
    except Exception:  # noqa: BLE001 - anything the engine cannot classify is passed through
        return False


_PLAIN = (np.ndarray, np.generic, int, float, bool, str, bytes, tuple, list, dict, type(None))


def _operator_dtype(values):
    """The dtype of a Python operator applied to the stand-ins (NumPy's): the tensors' dtype when they
    share one and the other values are Python numbers (weak); None otherwise."""
    names = {v.dtype for v in values if v.__class__ is SymbolicTensor or v.__class__ is Operand}
    if len(names) != 1 or not all(v.__class__ in _NUMBERS or v.__class__ in (SymbolicTensor, Operand)
                                  for v in values):
        return None
    return names.pop()


def _holds_values(tensor):
    """True when ``tensor`` carries stand-in values other than zeros (shape arithmetic, constants)."""
    if tensor.__class__ is not SymbolicTensor:
        return False
    if tensor.default is not None:
        return bool(np.any(tensor.default))
    return any(v.__class__ is np.ndarray and v.any() for v in tensor.stand_ins.values())


# ---------------------------------------------------------------------------------------------------
# shapes at a probe


def fill_stand_ins(kwargs, probe, backend):
    """Give each symbolic tensor in ``kwargs`` recorded by a rule its shape at ``probe`` (a
    ``(shape, dtype)`` stand-in, zeros when read), computed by the rules of the nodes it comes from."""
    for leaf in leaves(kwargs):
        if leaf.__class__ is SymbolicTensor and probe not in leaf.stand_ins and _ruled(leaf):
            _resolve(leaf, probe, backend)


def _ruled(tensor):
    return tensor.node is not None and tensor.index == () and rule_of(tensor.node.fn) is not None


def shaped_by_rule(tensor):
    """True when ``tensor``'s shape came from its op's rule and it carries no values that later ops
    read (a float or bool output): at a probe its node cannot run at (a comparison of tensors whose
    unknown dims are independent in fact but take one probe size), zeros of its shape with the unknown
    dims at the probe's size stand in for it."""
    return tensor.ruled and tensor.dtype in DECIDED and _ruled(tensor)


def _resolve(tensor, probe, backend):
    """Walk back from ``tensor`` (without recursion: a deep network's chain has thousands of nodes) and
    fill the probe's shape of every ruled tensor on the way, inputs first."""
    pending = [tensor]
    while pending:
        current = pending[-1]
        if probe in current.stand_ins:
            pending.pop()
            continue
        missing = [v for v in leaves(current.node.kwargs)
                   if v.__class__ is SymbolicTensor and probe not in v.stand_ins and _ruled(v)]
        if missing:
            pending.extend(missing)
            continue
        pending.pop()
        if None in current.shape and any(v.__class__ is SymbolicTensor and v.stand_ins.get(probe) is UNAVAILABLE
                                         for v in leaves(current.node.kwargs)):
            current.stand_ins[probe] = UNAVAILABLE  # an input cannot take this size: neither can it
        else:
            current.stand_ins[probe] = (_shape_at(current, probe, backend), numpy_dtype(current.dtype))


def _shape_at(tensor, probe, backend):
    """The shape of ``tensor`` when its inputs take their shapes at ``probe`` (its rule's answer; the
    static shape with the probe's sizes when the rule declines)."""
    def concrete(value):
        if value.__class__ is SymbolicTensor:
            return Operand(probe_shape(value, probe), value.dtype)
        return _operand(value, backend)

    args = [map_structure(concrete, v) for v in tensor.node.kwargs.values()]
    try:
        return tuple(rule_of(tensor.node.fn)(*args))
    except (ValueError, TypeError, IndexError):
        return substituted(tensor.shape, probe)


def probe_shape(tensor, probe):
    """The shape of ``tensor``'s stand-in at ``probe``."""
    known = tensor.stand_ins.get(probe)
    if known is UNAVAILABLE:
        if None not in tensor.shape or shaped_by_rule(tensor):
            return substituted(tensor.shape, probe)
        raise ValueError(f"{tensor.name} cannot be computed with unknown dims of size {probe}")
    if known is not None:
        return known.shape if known.__class__ is np.ndarray else tuple(known[0])
    if tensor.default is not None:
        return np.shape(tensor.default)
    return substituted(tensor.shape, probe)


def substituted(shape, probe):
    """``shape`` with its unknown dims at the probe's size (the wide probe ``(first, rest)``: the first
    axis takes ``first``, the others ``rest``)."""
    if probe.__class__ is tuple:
        first, rest = probe
        return tuple(d if d is not None else first if i == 0 else rest for i, d in enumerate(shape))
    return tuple(probe if d is None else d for d in shape)
