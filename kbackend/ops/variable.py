"""The NumPy variable: a named, mutable holder of an ndarray that works wherever an array does."""

import numpy as np

from .._dispatch import OPERATORS, install_operators, symbolic


def unwrap(value):
    return value.value if value.__class__ is Variable else value


class HeldValue:
    """A holder of an array ``value`` (a variable) that answers as that array: its shape, dtype, rank,
    size, transpose, length, items and Python truth and number; hashed by identity, as it is mutable."""

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    T = property(lambda self: self.value.T)

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return iter(self.value)

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __bool__(self):
        return bool(self.value)

    def __hash__(self):
        return id(self)


class Variable(HeldValue):
    """A mutable array with a name.  Python operators and NumPy functions see its current value."""

    __array_priority__ = 100

    def __init__(self, value, name, constraint=None, trainable=True):
        self.value = value
        self.name = name
        self.constraint = constraint
        self.trainable = trainable

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.value.dtype:
            return self.value.astype(dtype)
        return self.value.copy() if copy else self.value

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if symbolic.active and method == "__call__" and not kwargs and ufunc in _UFUNC_OPERATORS and \
                symbolic.recording():  # ``array @ variable`` while graphs are built: read when run
            name, fn = _UFUNC_OPERATORS[ufunc]
            return symbolic.record_operator(name, fn, *inputs)
        inputs = tuple(unwrap(v) for v in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(unwrap(v) for v in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        args = [unwrap(a) if a.__class__ is not list else [unwrap(v) for v in a] for a in args]
        kwargs = {k: unwrap(v) for k, v in kwargs.items()}
        return func(*args, **kwargs)

    def numpy(self):
        return self.value.copy()

    def assign(self, value):
        self.value[...] = value
        return self

    def __repr__(self):
        body = np.array2string(self.value, separator=", ", prefix="  ")
        return f"<kbackend.Variable {self.name!r} shape={self.value.shape} dtype={self.value.dtype.name}\n  {body}>"


def _eager(name, fn, reflected):
    """Operator ``name`` on the current values (an index, a variable among them, included)."""
    if reflected:
        return lambda self, other: fn(unwrap(other), self.value)
    return lambda self, *others: fn(self.value, *(unwrap(o) for o in others))


# Recorded while graphs are built (Keras metrics index their accumulators in graph mode,
# ``self.true_positives[min_index]``, and the read must happen when the function runs).
install_operators(Variable, _eager)
# == and != compare the current values and are never recorded (see OPERATORS).
Variable.__eq__ = lambda self, other: self.value == unwrap(other)
Variable.__ne__ = lambda self, other: self.value != unwrap(other)

_UFUNC_NAMES = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "true_divide",
                "floordiv": "floor_divide", "mod": "remainder", "pow": "power", "matmul": "matmul",
                "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor", "lt": "less", "le": "less_equal",
                "gt": "greater", "ge": "greater_equal", "neg": "negative", "pos": "positive", "abs": "absolute",
                "invert": "invert"}
#: The NumPy ufunc of each operator: an ndarray on the left of an operator calls it on the variable.
_UFUNC_OPERATORS = {getattr(np, _UFUNC_NAMES[name]): (name, fn) for name, fn, _ in OPERATORS if name in _UFUNC_NAMES}
