"""Ops PyTensor has no kernel for, composed from the reference rules.

PyTensor lacks CTC, seeded random draws keyed by an integer (its generators are shared state) and a
few layer-specific kernels.  For those, :func:`reference_op` puts the op's NumPy reference into the
graph as one PyTensor ``Op`` (its ``perform`` runs the reference on the values), and its gradient is
the op's NumPy VJP rule (:mod:`kbackend.graph.vjp`) as a second such ``Op``, so ``pytensor.grad``
differentiates through it to first order.  Eagerly the reference runs directly (there is nothing to
compile).  Random ops take their seed as an input, so a ``K.function`` draws the same values as the
NumPy engine for the same seed stream.
"""

import contextlib
import io

import numpy as np

import pytensor.tensor as pt
from pytensor.gradient import grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from ..._dispatch import OPS, backend_scope
from .arrays import _GraphVariable, _LEAF, concrete, is_tracing, rebuild, to_pt

_PROBES = (2, 3, 1, 4)


def _split(value, leaves):
    """The argument with graph variables replaced by a marker, collected into ``leaves``."""
    if isinstance(value, _GraphVariable):
        leaves.append(value)
        return _LEAF
    if value.__class__ in (list, tuple):
        return value.__class__(_split(v, leaves) for v in value)
    return value


def _reference(name, args):
    with backend_scope("numpy"), np.errstate(all="ignore"):
        return OPS[name].reference(*args)


def _plain(name, params, args):
    """Concrete arguments for the reference: 0-d integer seeds become ints."""
    return [int(a) if p == "seed" and isinstance(a, np.ndarray) else a for p, a in zip(params, args)]


class ReferenceOp(Op):
    """Op ``name``'s NumPy reference as one PyTensor op over its tensor arguments."""

    def __init__(self, name, template, params):
        self.name = name
        self.template = template
        self.params = params

    def __str__(self):
        return f"Reference{{{self.name}}}"

    def _run(self, values):
        it = iter(values)
        args = [_fill(t, it) for t in self.template]
        return _reference(self.name, _plain(self.name, self.params, args))

    def make_node(self, *inputs):
        inputs = [pt.as_tensor_variable(i) for i in inputs]
        probe = None
        for size in _PROBES:
            try:
                values = [np.zeros([size if d is None else d for d in i.type.shape], dtype=i.dtype) for i in inputs]
                with contextlib.redirect_stdout(io.StringIO()):  # print_tensor prints when run, not here
                    probe = self._run(values)
                break
            except Exception:  # noqa: BLE001 - a size the op cannot take: try the next one
                continue
        if probe is None:
            raise NotImplementedError(f"{self.name} could not be typed on the pytensor backend")
        # Static output shapes only from static input shapes, and never beside an integer input: a
        # shape, a length or labels, whose values (zeros here) can set the output's sizes
        # (K.random_normal(K.shape(x)), K.ctc_decode).
        known = all(None not in i.type.shape and not i.dtype.startswith(("int", "uint")) for i in inputs)
        leaves = []
        self.out_template = _out_structure(probe, leaves)
        outputs = [pt.tensor(dtype=leaf.dtype, shape=leaf.shape if known else (None,) * leaf.ndim)
                   for leaf in leaves]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        result = self._run(list(inputs))
        leaves = []
        _out_structure(result, leaves)
        for storage, leaf, out in zip(output_storage, leaves, node.outputs):
            storage[0] = np.asarray(leaf, dtype=out.dtype).copy()

    def grad(self, inputs, output_grads):
        if len(output_grads) != 1 or self.name not in _rules():
            return [grad_not_implemented(self, i, x) for i, x in enumerate(inputs)]
        forward = self(*inputs)
        vjp = VJPOp(self)
        grads = vjp(*inputs, forward, output_grads[0])
        grads = grads if isinstance(grads, (list, tuple)) else [grads]
        return [g if x.dtype.startswith("float") else x.zeros_like().astype("float64")
                for g, x in zip(grads, inputs)]


def _fill(template, values):
    if template is _LEAF:
        return next(values)
    if template.__class__ in (list, tuple):
        return template.__class__(_fill(t, values) for t in template)
    return template


def _out_structure(result, leaves):
    if isinstance(result, (list, tuple)):
        return type(result)(_out_structure(r, leaves) for r in result)
    if result is None or isinstance(result, (bool, int, float, str)) and not isinstance(result, np.generic):
        return result
    leaves.append(np.asarray(concrete(result)))
    return _LEAF


def _rules():
    from ...graph.vjp import RULES

    return RULES


def _paths(template, path=()):
    """The (parameter index, position in a list) of each tensor leaf of ``template``, in order."""
    found = []
    for index, value in enumerate(template):
        if value is _LEAF:
            found.append((index, None))
        elif value.__class__ in (list, tuple):
            found.extend((index, j) for j, v in enumerate(value) if v is _LEAF)
    return found


class VJPOp(Op):
    """The NumPy VJP rule of a :class:`ReferenceOp`: cotangents of its tensor inputs."""

    def __init__(self, forward):
        self.forward = forward

    def make_node(self, *inputs):
        inputs = [pt.as_tensor_variable(i) for i in inputs]
        count = len(inputs) - 2
        outputs = [pt.tensor(dtype=i.dtype, shape=i.type.shape) for i in inputs[:count]]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        *values, out, g = inputs
        forward = self.forward
        it = iter(values)
        args = _plain(forward.name, forward.params, [_fill(t, it) for t in forward.template])
        kwargs = dict(zip(forward.params, args))
        result = _rules()[forward.name](np.asarray(g), out, **kwargs)
        for storage, (index, position), value in zip(output_storage, _paths(forward.template), values):
            grad = result.get(forward.params[index])
            if callable(grad):
                grad = grad()
            if position is not None and grad is not None:
                grad = grad[position]
            storage[0] = (np.zeros_like(value) if grad is None else
                          np.broadcast_to(np.asarray(grad), value.shape).astype(value.dtype))


def reference_op(name):
    """Op ``name`` run by its NumPy reference: directly when eager, as a :class:`ReferenceOp` traced."""
    spec = OPS[name]
    params = list(spec.signature.parameters)

    def run(*args):
        if not is_tracing():
            return _reference(name, [_to_numpy(a) for a in args])
        if not any(_has_graph(a) for a in args):
            args = [to_pt(a) if _is_array(a) else a for a in args]
        leaves = []
        template = [_split(a, leaves) for a in args]
        if not leaves:
            return _reference(name, args)
        op = ReferenceOp(name, template, params)
        outputs = op(*leaves)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return rebuild(op.out_template, iter(outputs))

    run.__name__ = run.__qualname__ = name
    return run


def _to_numpy(value):
    if value.__class__ in (list, tuple):
        return value.__class__(_to_numpy(v) for v in value)
    return concrete(value)


def _has_graph(value):
    if isinstance(value, _GraphVariable):
        return True
    if value.__class__ in (list, tuple):
        return any(_has_graph(v) for v in value)
    return False


def _is_array(value):
    return isinstance(value, (np.ndarray, np.generic))


__all__ = ["ReferenceOp", "VJPOp", "reference_op"]
