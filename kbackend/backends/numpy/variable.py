"""The NumPy variable: a named, mutable holder of an ndarray that works wherever an array does."""

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin


def unwrap(value):
    return value.value if value.__class__ is Variable else value


class Variable(NDArrayOperatorsMixin):
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
        inputs = tuple(unwrap(v) for v in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(unwrap(v) for v in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        args = [unwrap(a) if a.__class__ is not list else [unwrap(v) for v in a] for a in args]
        kwargs = {k: unwrap(v) for k, v in kwargs.items()}
        return func(*args, **kwargs)

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    T = property(lambda self: self.value.T)

    def __len__(self):
        return len(self.value)

    def __getitem__(self, index):
        return self.value[index]

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __bool__(self):
        return bool(self.value)

    def __iter__(self):
        return iter(self.value)

    def numpy(self):
        return self.value.copy()

    def assign(self, value):
        self.value[...] = value
        return self

    def __repr__(self):
        body = np.array2string(self.value, separator=", ", prefix="  ")
        return f"<kbackend.Variable {self.name!r} shape={self.value.shape} dtype={self.value.dtype.name}\n  {body}>"
