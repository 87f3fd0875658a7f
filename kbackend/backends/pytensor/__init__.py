"""The PyTensor backend (also named ``theano``): Keras 2's Theano engine on Theano's maintained successor.

As in Keras 2's ``theano_backend``, variables are shared variables (:class:`Variable`), ``K.function``
is one ``pytensor.function`` with the updates passed as ``updates`` and ``K.gradients`` is
``pytensor.grad``.  Eager calls compile the op's small graph once per argument signature and return
NumPy arrays (see :mod:`.arrays` for the cost).  Ops PyTensor has no kernel for run their NumPy
reference inside the graph (:mod:`.reference_op`).

PyTensor is imported only when this package is, i.e. when the backend is first used; its compile cache
is PyTensor's own (``~/.pytensor`` unless ``PYTENSOR_FLAGS=base_compiledir=...`` says otherwise).
"""

from ..._dispatch import OPS, collect
from ...ops.namespace import bind, takes_namespace
from . import control, conv, math, nn, shape, variables
from .reference_op import reference_op
from .runner import make_runner  # noqa: F401  (how K.function runs on this engine)
from .arrays import (FUNCTION_MODE, HALF_FUNCTION_MODE, PYTENSOR, Variable, as_type, eager, is_graph, to_pt, tracing,
                       weak_operands)
from .variables import DIRECT, feed

VARIABLE_TYPES = (Variable,)


def reference_ops():
    """The ops this engine runs as their NumPy reference inside the graph (PyTensor has no kernel)."""
    own = collect(variables, math, shape, nn, conv, control)
    return sorted(name for name, spec in OPS.items()
                  if name not in own and not spec.composite and not takes_namespace(spec.reference))


def implementations():
    own = collect(variables, math, shape, nn, conv, control)
    table = {}
    for name, spec in OPS.items():
        if name in DIRECT:
            table[name] = own[name]
        elif name in own:
            table[name] = eager(own[name], name)
        elif spec.composite:
            continue
        elif takes_namespace(spec.reference):  # the reference body, building graph on pytensor.tensor
            table[name] = eager(bind(spec.reference, PYTENSOR), name)
        else:
            table[name] = reference_op(name)
    return table


__all__ = ["FUNCTION_MODE", "HALF_FUNCTION_MODE", "VARIABLE_TYPES", "Variable", "as_type", "feed", "implementations",
           "is_graph", "reference_ops", "to_pt", "tracing", "weak_operands"]
