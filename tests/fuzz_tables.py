"""The tables of the bad-input fuzz suite (``tests/test_fuzz.py``).

A fuzz call starts from a valid call — a record of the conformance table (``tests/cases``) or a seed
below for the ops that table does not cover — and swaps one argument for an adversarial value chosen by
the parameter's kind: wrong type, bad shape, axis out of range, bad dtype, NaN/inf, empty, huge.

:func:`calls` lists every call, in a fixed order, as ``(call id, op, seed, parameter, mutation)``;
:func:`build` makes its arguments for the active engine.  Both run in the worker process
(``tests/fuzz_worker.py``), so that an engine that aborts takes only the worker down.
"""

import hashlib
import inspect
import math

import numpy as np

import kbackend as K
from cases import Arr, Case, Ints, Rand, all_cases
from kbackend._dispatch import OPS, TENSOR_PARAMS


class Var:
    """A variable made from ``Rand(shape)`` (for the update ops)."""

    def __init__(self, shape):
        self.shape = shape

    def __repr__(self):
        return f"Var{self.shape}"


#: Valid calls of the ops the conformance table does not cover.
EXTRA_SEEDS = [
    Case("is_sparse", (Rand((2, 3)),)),
    Case("to_dense", (Rand((2, 3)),)),
    Case("variable", (Arr(np.ones((2, 3))),)),
    Case("is_variable", (Rand((2, 3)),)),
    Case("is_tensor", (Rand((2, 3)),)),
    Case("is_keras_tensor", (Rand((2, 3)),)),
    Case("is_placeholder", (Rand((2, 3)),)),
    Case("stop_gradient", (Rand((2, 3)),)),
    Case("print_tensor", (Rand((2, 3)),), {"message": "x"}),
    Case("update", (Var((2, 3)), Rand((2, 3)))),
    Case("update_add", (Var((2, 3)), Rand((2, 3)))),
    Case("update_sub", (Var((2, 3)), Rand((2, 3)))),
    Case("moving_average_update", (Var((2, 3)), Rand((2, 3)), 0.9)),
    Case("batch_get_value", ([Var((2, 3))],)),
    Case("set_value", (Var((2, 3)), Arr(np.ones((2, 3))))),
]

# ---------------------------------------------------------------------------------------------------
# adversarial values by parameter kind


class Like:
    """A mutation of a tensor argument: ``make(array)`` → the new NumPy value (converted to a tensor of
    the engine under test), or a plain value when ``raw``."""

    def __init__(self, make, raw=False):
        self.make = make
        self.raw = raw


def _full(fill):
    def make(a):
        a = np.asarray(a)
        if a.dtype.kind not in "fc" and str(a.dtype) != "bfloat16":
            return None
        return np.full(a.shape, fill, a.dtype)

    return make


def _some_nan(a):
    a = np.asarray(a)
    if a.dtype.kind not in "fc" or a.size == 0:
        return None
    b = a.copy().reshape(-1)
    b[:: 2] = np.nan
    if b.size > 1:
        b[1] = np.inf
    return b.reshape(a.shape)


TENSOR_MUTATIONS = {
    "none": Like(lambda a: None, raw=True),
    "str": Like(lambda a: "abc", raw=True),
    "dict": Like(lambda a: {"a": 1}, raw=True),
    "empty": Like(lambda a: np.zeros((0,) + np.shape(a)[1:], np.asarray(a).dtype)),
    "empty-all": Like(lambda a: np.zeros((0,) * max(np.ndim(a), 1), np.asarray(a).dtype)),
    "scalar": Like(lambda a: np.asarray(a).reshape(-1)[:1].reshape(()) if np.size(a) else None),
    "rank+2": Like(lambda a: np.asarray(a)[None, None]),
    "rank1": Like(lambda a: np.asarray(a).reshape(-1)),
    "nan": Like(_full(np.nan)),
    "inf": Like(_full(np.inf)),
    "-inf": Like(_full(-np.inf)),
    "nan-inf-mix": Like(_some_nan),
    "huge": Like(lambda a: _full(np.finfo(np.asarray(a).dtype).max if np.asarray(a).dtype.kind == "f" else 0)(a)),
    "int32": Like(lambda a: np.asarray(np.asarray(a) * 3).astype(np.int32)),
    "bool": Like(lambda a: np.asarray(a) > 0),
    "float64": Like(lambda a: np.asarray(a).astype(np.float64)),
    "float16": Like(lambda a: np.asarray(a).astype(np.float16)),
    "pylist": Like(lambda a: np.asarray(a).tolist(), raw=True),
    "pyfloat": Like(lambda a: 2.5, raw=True),
    "pyint-huge": Like(lambda a: 10**30, raw=True),
}

AXIS_MUTATIONS = {"huge": 10**9, "-huge": -10**9, "str": "1", "float": 1.5, "none": None, "empty": [],
                  "nparray": np.arange(1), "bool": True, "repeated": [0, 0], "nested": [[0]], "3": 3, "-4": -4}
DTYPE_MUTATIONS = {"string": "string", "unknown": "foo", "int": 5, "bool": "bool", "int8": "int8",
                   "float16": "float16", "complex": "complex64", "type": float}
SHAPE_MUTATIONS = {"-1": -1, "str": "3", "float": 2.5, "bool-entry": (True, 2), "huge": 10**12,
                   "huge-2d": (2**31, 2**31), "none": None, "zero": (0,), "0": 0, "float-entry": (2.5,),
                   "negative-entry": (2, -3), "huge-entry": (10**6, 10**6)}
NUMBER_MUTATIONS = {"nan": math.nan, "inf": math.inf, "-1": -1, "huge": 10**30, "str": "x", "none": None,
                    "bool": True, "0": 0, "hugefloat": 1e308, "array": np.ones(3)}
CHOICE_MUTATIONS = {"empty": "", "upper": "VALID", "int": 5, "none": None, "bogus": "bogus"}
TUPLE_MUTATIONS = {"0": 0, "-1": -1, "short": (1,), "float": 1.5, "str": "1", "huge": (10**9, 10**9),
                   "none": None, "long": (1, 1, 1, 1, 1)}
OTHER_MUTATIONS = {"none": None, "str": "x", "huge": 10**30, "-1": -1, "float": 1.5, "list": [1, 2]}

_CHOICE = {"padding", "data_format", "pool_mode", "interpolation"}
_TUPLES = {"strides", "dilation_rate", "pool_size", "kernel_size", "output_shape", "pattern", "axes_pair",
           "padding_pairs"}
_SHAPES = {"shape", "size", "num_classes", "n", "rep", "noise_shape", "start_size"}
_NUMBERS = {"alpha", "max_value", "threshold", "p", "level", "rate", "mean", "stddev", "minval", "maxval",
            "low", "high", "scale", "momentum", "epsilon", "min_value", "value_", "beam_width", "top_paths",
            "k", "height_factor", "width_factor", "depth_factor", "depth_multiplier"}


def kind_of(op, param, value):
    """The mutation table for ``param`` of ``op`` whose valid value is ``value``."""
    if isinstance(value, (Rand, Ints, Arr, Var)) or isinstance(value, list) and value and \
            all(isinstance(v, (Rand, Ints, Arr, Var)) for v in value):
        return "tensor", TENSOR_MUTATIONS
    if param in ("axis", "axes") or param.endswith("_axis"):
        return "axis", AXIS_MUTATIONS
    if param == "dtype":
        return "dtype", DTYPE_MUTATIONS
    if param in _CHOICE:
        return "choice", CHOICE_MUTATIONS
    if param in _TUPLES or param == "padding" and isinstance(value, (tuple, list)):
        return "tuple", TUPLE_MUTATIONS
    if param in _SHAPES:
        return "shape", SHAPE_MUTATIONS
    if param in _NUMBERS or isinstance(value, float):
        return "number", NUMBER_MUTATIONS
    if param in TENSOR_PARAMS and not callable(value):
        return "tensor", TENSOR_MUTATIONS
    return "other", OTHER_MUTATIONS


# ---------------------------------------------------------------------------------------------------
# the calls


def seeds():
    """One valid call per op first (the CI slice), then the other conformance records."""
    public = [n for n in OPS if not n.startswith("_")]
    table = [c for c in all_cases() if c.op in OPS] + EXTRA_SEEDS
    first, rest, seen = [], [], set()
    for case in table:
        if case.op in public and case.op not in seen and "float32" in case.dtypes:
            seen.add(case.op)
            first.append(case)
        elif case.op in public and "float32" in case.dtypes:
            rest.append(case)
    return first, rest


def _bound(case):
    """The seed's arguments by parameter name (positional ones named from the op's signature)."""
    params = list(OPS[case.op].signature.parameters.values())
    named = {}
    for param, value in zip(params, case.args):
        if param.kind is param.VAR_POSITIONAL:
            break
        named[param.name] = value
    named.update(case.kwargs)
    for param in params:  # parameters left at their default are mutated too
        if param.name not in named and param.default is not param.empty and param.name != "name":
            named[param.name] = _Default(param.default)
    return named


class _Default:
    def __init__(self, value):
        self.value = value


def calls(full=False):
    """Every fuzz call: ``(call id, case, parameter or None, mutation name or None, mutation value)``.

    The CI slice (``full=False``) takes the first record of each op and, for each of its parameters,
    a few mutations picked by a fixed hash; the full sweep takes every record and every mutation."""
    first, rest = seeds()
    out = []
    for index, case in enumerate(first + (rest if full else [])):
        tag = case.id if not any(c is case for c in rest) else f"{case.id}#{index}"
        out.append((f"{case.op}/{tag}/valid", case, None, None, None))
        for param, value in _bound(case).items():
            raw = value.value if isinstance(value, _Default) else value
            kind, table = kind_of(case.op, param, raw)
            names = sorted(table)
            if not full:
                names = [n for n in names if _pick(case.op, param, n, kind)]
            for name in names:
                out.append((f"{case.op}/{tag}/{param}={name}", case, param, name, table[name]))
    return out


def _pick(op, param, name, kind):
    """About a third of the mutations of each parameter, the same on every run."""
    digest = hashlib.sha256(f"{op}/{param}/{name}".encode()).digest()
    always = {"tensor": {"none", "empty", "nan-inf-mix", "int32", "pylist"}, "axis": {"huge", "str", "nparray"},
              "shape": {"huge-2d", "str", "negative-entry", "huge-entry"}}.get(kind, set())
    return name in always or digest[0] < 80


# ---------------------------------------------------------------------------------------------------
# making the arguments


def _rng(call_id):
    digest = hashlib.sha256(call_id.encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def numpy_value(spec, rng, dtype="float32"):
    """The NumPy value of a conformance spec (plain values as they are)."""
    from kbackend.dtypes import numpy_dtype

    if isinstance(spec, (Rand, Var)):
        shape = spec.shape
        low, high = (getattr(spec, "low", -1.0), getattr(spec, "high", 1.0))
        return rng.uniform(low, high, size=shape).astype(numpy_dtype(getattr(spec, "dtype", None) or dtype))
    if isinstance(spec, Ints):
        return rng.integers(spec.low, spec.high, size=spec.shape).astype(spec.dtype)
    if isinstance(spec, Arr):
        value = np.asarray(spec.value)
        if spec.dtype:
            return value.astype(numpy_dtype(spec.dtype))
        return value.astype(numpy_dtype(dtype)) if spec.floating else value
    if isinstance(spec, list):
        return [numpy_value(s, rng, dtype) for s in spec]
    if isinstance(spec, _Default):
        return spec.value
    return spec


def to_engine(spec, value):
    """``value`` for the active engine: tensors (variables for :class:`Var` and variable specs)."""
    if isinstance(spec, list) and isinstance(value, list):
        return [to_engine(s, v) for s, v in zip(spec, value)]
    if isinstance(value, np.ndarray) and isinstance(spec, (Rand, Ints, Arr, Var, _Tensor)):
        if isinstance(spec, Var) or isinstance(spec, Rand) and spec.variable:
            return K.variable(value, dtype=K.dtype(value))
        try:
            return K.constant(value, dtype=K.dtype(value))
        except (TypeError, ValueError, MemoryError):
            return value
    return value


class _Tensor:
    """Marks a mutated value that is passed as a tensor of the engine under test."""


def build(call):
    """``(args, kwargs)`` of ``call`` for the active engine, plus the NumPy versions (for the record)."""
    call_id, case, param, name, mutation = call
    rng = _rng(call_id.split("/")[0] + "/" + call_id.split("/")[1])
    specs = _bound(case)
    values = {p: numpy_value(s, rng) for p, s in specs.items()}
    if param is not None:
        if isinstance(mutation, Like):
            try:
                new = mutation.make(values[param] if not isinstance(values[param], list) else values[param][0])
            except (TypeError, ValueError, AttributeError, IndexError):
                return None  # the mutation does not apply to this value (an empty list of states…)
            if new is None and not mutation.raw:
                return None  # the mutation does not apply (NaN for an int tensor)
            values[param] = new
            specs = dict(specs, **{param: _Tensor() if not mutation.raw else None})
        else:
            values[param] = mutation
            specs = dict(specs, **{param: None})
    positional = []
    signature = OPS[case.op].signature.parameters
    kwargs = {}
    for p, value in values.items():
        if isinstance(specs.get(p), _Default) and p != param:
            continue  # left at its default
        converted = to_engine(specs.get(p), value)
        kind = signature[p].kind if p in signature else None
        if kind is inspect.Parameter.POSITIONAL_ONLY:
            positional.append(converted)
        else:
            kwargs[p] = converted
    return positional, kwargs


def compare_mode(case, param):
    """How the engines' answers are compared with NumPy's: random ops by shape and dtype only, cases the
    conformance table does not compare not at all."""
    if case.compare == "none":
        return "none"
    return "shape" if case.compare != "value" or case.op.startswith("random") or case.op in (
        "truncated_normal", "dropout") else "value"
