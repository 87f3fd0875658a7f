"""The NumPy variable: a named, mutable holder of an ndarray that works wherever an array does."""

import operator

import numpy as np

from .._dispatch import symbolic


def unwrap(value):
    return value.value if value.__class__ is Variable else value


class Variable:
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

    def __hash__(self):
        return id(self)

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    T = property(lambda self: self.value.T)

    def __len__(self):
        return len(self.value)

    def __getitem__(self, index):
        # recorded like the operators below: Keras metrics index their accumulators in graph mode
        # (``self.true_positives[min_index]``), and the read must happen when the function runs
        if symbolic.active and symbolic.recording():
            return symbolic.record_operator("getitem", operator.getitem, self, index)
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


def _operator(name, fn, reflected=False):
    """A Python operator: eager on the current value, or recorded while graphs are being built."""

    def method(self, *others):
        args = (others[0], self) if reflected else (self,) + others
        if symbolic.active and symbolic.recording():
            return symbolic.record_operator(name, fn, *args)
        return fn(*(unwrap(a) for a in args))

    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


for _name, _fn in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv), ("mod", operator.mod),
                   ("pow", operator.pow), ("matmul", operator.matmul)]:
    setattr(Variable, f"__{_name}__", _operator(_name, _fn))
    setattr(Variable, f"__r{_name}__", _operator(_name, _fn, reflected=True))
for _name, _fn in [("lt", operator.lt), ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge),
                   ("eq", operator.eq), ("ne", operator.ne), ("and", operator.and_), ("or", operator.or_)]:
    setattr(Variable, f"__{_name}__", _operator(_name, _fn))
for _name, _fn in [("neg", operator.neg), ("pos", operator.pos), ("abs", operator.abs), ("invert", operator.invert)]:
    setattr(Variable, f"__{_name}__", _operator(_name, _fn))
