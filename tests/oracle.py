"""Run a conformance case on tf_keras.backend, the maintained Keras 2 implementation."""

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def oracle_backend():
    from tf_keras.src import backend

    return backend


def has_op(name):
    return hasattr(oracle_backend(), name)


def run_oracle(case, inputs):
    from cases import Arr, Ints, Rand

    KT = oracle_backend()
    np_args, np_kwargs = inputs

    def convert(spec, value):
        if isinstance(spec, (Rand, Ints, Arr)):
            if isinstance(spec, Rand) and spec.variable:
                return KT.variable(value, dtype=value.dtype.name)
            return KT.constant(value, dtype=value.dtype.name)
        if isinstance(spec, list):
            return [convert(s, v) for s, v in zip(spec, value)]
        return value

    args = [convert(s, v) for s, v in zip(case.args, np_args)]
    kwargs = {k: convert(case.kwargs[k], v) for k, v in np_kwargs.items()}
    return _evaluate(KT, getattr(KT, case.op)(*args, **kwargs))


def _evaluate(KT, out):
    if all(hasattr(out, a) for a in ("indices", "values", "dense_shape")) and not isinstance(out, tuple):
        return tuple(_evaluate(KT, getattr(out, a)) for a in ("indices", "values", "dense_shape"))
    if isinstance(out, (list, tuple)):
        return type(out)(_evaluate(KT, o) for o in out)
    if out is None or isinstance(out, (bool, int, float, str)):
        return out
    if hasattr(out, "numpy"):
        return np.asarray(out.numpy())
    return np.asarray(KT.eval(out))
