"""Graph-level functions: placeholders, functions, gradients, printing and scopes."""

import contextlib
import sys

import numpy as np

from .._dispatch import name_scopes, op
from ..dtypes import from_python
from . import node
from .function import function, gradients  # noqa: F401  (public K names)
from .tensor import placeholder  # noqa: F401  (a public K name)


@op
def stop_gradient(variables):
    """Return ``variables`` (a tensor or a list of tensors) unchanged, but blocking gradients.

    Args:
        variables: The variables (or tensors) to differentiate with respect to.

    >>> import kbackend as K
    >>> K.eval(K.stop_gradient(K.constant([1.0])))
    array([1.], dtype=float32)
    """
    if isinstance(variables, (list, tuple)):
        return [from_python(v) for v in variables]
    return from_python(variables)


@op
def print_tensor(x, message=""):
    """Return ``x`` unchanged and print ``message`` followed by its value (when it is evaluated).

    Args:
        message: The message printed before the value.

    >>> import kbackend as K
    >>> _ = K.print_tensor(K.constant([1.0, 2.0]), message='x = ')
    x = [1. 2.]
    """
    print(f"{message}{np.asarray(x)}", file=sys.stdout)
    return x


@contextlib.contextmanager
def name_scope(name):
    """Prefix the names of placeholders and symbolic tensors made inside the block with ``name/``.

    Args:
        name: The scope's name.

    Raises:
        ValueError: ``name`` is not a non-empty string.

    >>> import kbackend as K
    >>> with K.name_scope('block'):
    ...     K.placeholder((2,)).name.startswith('block/')
    True
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name_scope: argument `name` got {name!r}; expected a non-empty string")
    stack = name_scopes.__dict__.setdefault("stack", [])
    stack.append(name)
    try:
        yield name
    finally:
        stack.pop()


def control_dependencies(control_inputs):
    """Context manager: the computations recorded inside the block run after ``control_inputs``.

    Inside a graph, an update among ``control_inputs`` (``K.update_add(total, x)``) is applied before
    any node recorded in the block reads a variable, so ``total / count`` built inside sees this
    call's values, as a Keras 2 metric's result does.  Eager ops have already run in program order.

    Args:
        control_inputs: The tensors that must be computed first (nested lists allowed).

    Raises:
        TypeError: ``control_inputs`` is not None, a list or tuple, or a tensor.  Inside the list, values
            that are not symbolic tensors are ignored (eager values have already run).

    >>> import kbackend as K
    >>> with K.control_dependencies([]):
    ...     K.eval(K.constant(1.0))
    array(1., dtype=float32)
    """
    if not (control_inputs is None or isinstance(control_inputs, (list, tuple)) or hasattr(control_inputs, "shape")):
        raise TypeError(f"control_dependencies: argument `control_inputs` got {control_inputs!r}; expected a list "
                        "of tensors or operations")
    return node.control_dependencies(control_inputs)


def symbolic(func):
    """Decorator kept for Keras 2 code, where it ran ``func`` inside the Keras graph.

    Here a function runs the same way eagerly or on placeholders, so there is no graph to enter.

    Args:
        func: The function to wrap.

    Raises:
        Nothing: ``func`` is returned unchanged.
    """
    return func


def eager(func):
    """Decorator kept for Keras 2 code, where it ran ``func`` outside the Keras graph; the counterpart
    of :func:`symbolic`, and as that one, it leaves ``func`` as it is.

    Args:
        func: The function to wrap.

    Raises:
        Nothing: ``func`` is returned unchanged: it already runs eagerly on anything but placeholders.
    """
    return func


def clear_session():
    """Start a fresh session, as Keras 2's ``K.clear_session()`` did: leave graph mode (ops on variables
    run eagerly again until the next ``K.placeholder``), and reset the uid and tensor-name counters and
    the learning phase.  Placeholders and functions built before should not be used afterwards.

    >>> import kbackend as K
    >>> x = K.placeholder((2,))
    >>> v = K.variable([1.0, 2.0])
    >>> K.clear_session()
    >>> _ = K.update_add(v, 1.0); K.get_value(v)
    array([2., 3.], dtype=float32)
    """
    node.reset()
