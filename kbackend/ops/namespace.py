"""The array namespace ``xp`` that reference bodies are written against, and how an engine binds them.

A reference body that an engine whose API mirrors NumPy's can run unchanged takes a keyword-only
``xp=NUMPY`` (array-api-compat's generic aliases) and reaches arrays only through it: the NumPy-named
functions of :data:`FUNCTIONS` and five conversion hooks,

* ``tensor(x)``: any input (array, variable, Python value) as an array, possibly sharing a variable's
  memory (for bodies whose result is a new array);
* ``owned(x)``: the same, never sharing a variable's memory (for bodies that may return a view);
* ``value(x)``: an operand of a ``promote`` op, where a Python number stays a number (weakly typed);
* ``out(result)``: what a reduction gives back, as a tensor (NumPy's scalars become 0-d arrays);
* ``cast(x, dtype)``: ``x`` in ``dtype`` as the engine spells it (another array's ``.dtype``), with no
  copy when it already is.

An engine names its namespace with :func:`namespace` and, when it loads, binds every such body it does
not override with :func:`bind`: a copy of the function whose ``xp`` default is the engine's namespace,
so a call costs what the reference costs on NumPy (no wrapper, no keyword argument per call).
"""

import types

import numpy as np

from ..dtypes import from_python
from .variable import Variable

#: The functions a reference body may call on ``xp``, named as NumPy names them (``log_softmax(z, axis)``,
#: which NumPy lacks, as ``jax.nn`` names it).
FUNCTIONS = ("max", "min", "any", "all", "sum", "mean", "var", "std", "square", "abs", "round", "sign",
             "sin", "cos", "exp", "log1p", "maximum", "minimum", "power", "equal", "not_equal", "greater",
             "greater_equal", "less", "less_equal", "take", "concatenate", "expand_dims", "stack", "repeat",
             "asarray", "argmax", "argmin", "transpose", "squeeze", "flip", "pad", "arange", "where", "take_along_axis",
             "expm1", "log_softmax")


def namespace(name, module, *, tensor, owned, value, out, cast, **functions):
    """The array namespace called ``name`` (as ``where`` reports it): each function of
    :data:`FUNCTIONS` taken from ``module`` unless ``functions`` gives it, and the five hooks."""
    table = {f: functions[f] if f in functions else getattr(module, f) for f in FUNCTIONS}
    unknown = set(functions) - set(FUNCTIONS)
    if unknown:
        raise TypeError(f"namespace: argument `functions` got {sorted(unknown)}; expected names of FUNCTIONS")
    return types.SimpleNamespace(name=name, tensor=tensor, owned=owned, value=value, out=out, cast=cast, **table)


def takes_namespace(fn):
    """Whether reference body ``fn`` is written against ``xp``."""
    return "xp" in (fn.__kwdefaults__ or ())


def bind(reference, xp):
    """``reference`` running on namespace ``xp``: the same code with ``xp`` as its default (made once)."""
    fn = types.FunctionType(reference.__code__, reference.__globals__, reference.__name__,
                            reference.__defaults__, reference.__closure__)
    fn.__kwdefaults__ = {**reference.__kwdefaults__, "xp": xp}
    fn.__qualname__ = reference.__qualname__
    fn.__module__ = reference.__module__
    fn.__doc__ = reference.__doc__
    fn.__wrapped__ = reference
    fn.namespace = xp.name
    return fn


# ---------------------------------------------------------------------------------------------------
# NumPy's namespace: the reference's own


def tensor(x):
    """A NumPy value of ``x``: arrays pass, variables unwrap, Python values take TensorFlow's types."""
    if x.__class__ is np.ndarray:
        return x
    if x.__class__ is Variable:
        return x.value
    return from_python(x)


def owned(x):
    """A NumPy value of ``x``; a variable's value is copied, since results must not follow its updates."""
    if x.__class__ is np.ndarray:
        return x
    if x.__class__ is Variable:
        return x.value.copy()
    return from_python(x)  # Python values take Keras 2's types (floatx, int32)


def value(x):
    """An operand of a ``promote`` op: a Python number stays a number (NumPy keeps it weak, so it takes
    the other operand's dtype); anything else becomes an array."""
    return x if x.__class__ in (int, float, bool) else tensor(x)


def out(result):
    """Reductions over every axis give NumPy scalars; the backend returns 0-d arrays."""
    return result if result.__class__ is np.ndarray else np.asarray(result)


def cast(x, dtype):
    return x.astype(dtype, copy=False)


def log_softmax(z, axis):
    """log(softmax(z)) along ``axis``."""
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))  # the sum is at least 1


NUMPY = namespace("numpy", np, tensor=tensor, owned=owned, value=value, out=out, cast=cast, log_softmax=log_softmax)
