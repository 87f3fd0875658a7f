"""Op declaration, argument canonicalisation, backend selection and dispatch.

Design requirements, in order:

1. Each K function is declared once (:func:`op`): its Keras 2 signature, its docstring, and the NumPy
   reference body.  Backends register implementations *by name*; nothing is restated per backend.
2. Arguments are canonicalised once, by parameter name (``axis``, ``dtype``, ``data_format``, ``padding``,
   ``strides``…), before any backend sees them, and a bad value raises the same error on every backend.
3. The per-call cost is a handful of attribute loads: the public function is generated from the declared
   signature (``inspect.Signature.bind`` alone costs several microseconds; the target is under one),
   looks the active backend up in a ContextVar and calls the implementation resolved when that backend
   was loaded.
4. Engines load lazily, on first use; ``backend_scope`` switches the backend per thread / async task.
5. Exactly one place branches off to the symbolic layer: :data:`symbolic` (see :mod:`kbackend.graph`).
"""

import ast
import contextlib
import contextvars
import importlib
import inspect
import linecache
import re
import numbers
import operator
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Type, Union

import numpy as np

from . import config
from .dtypes import INTS, POLICY, canonical_dtype, from_python, promote
from .sparse import holds_sparse

# ---------------------------------------------------------------------------------------------------
# argument canonicalisation


class ArgError(Exception):
    """Raised by a canonicaliser; the generated wrapper turns it into a message naming op and argument."""

    def __init__(self, expected, kind=ValueError):
        super().__init__(expected)
        self.expected = expected
        self.kind = kind

    def at(self, func, arg, got):
        return self.kind(f"{func}: argument `{arg}` got {got!r}; expected {self.expected}")


def axes(axis: Any) -> Union[int, Tuple[int, ...], None]:
    """None, an int, or a tuple of ints (lists and 1-D NumPy int arrays become tuples; ``[]`` is the
    empty tuple: a reduction over no axis returns its input, as on TensorFlow)."""
    if axis is None or axis.__class__ is int:
        return axis
    if isinstance(axis, (tuple, list)) and all(is_integer(a) for a in axis):
        return tuple(int(a) for a in axis)
    if is_integer(axis):
        return int(axis)
    if _is_int_array(axis):  # Keras 2 code writes axis=np.arange(1, ndim)
        return int(axis) if axis.ndim == 0 else tuple(int(a) for a in axis)
    raise ArgError("None, an int or a list/tuple of ints", TypeError)


def _is_int_array(value):
    """A NumPy integer array of rank 0 or 1 (an axis list or a shape built with NumPy)."""
    return value.__class__ is np.ndarray and value.dtype.kind in "iu" and value.ndim <= 1


def one_axis(axis: Any) -> int:
    """A single int axis."""
    if axis.__class__ is int:
        return axis
    if is_integer(axis):
        return int(axis)
    if _is_int_array(axis) and axis.ndim == 0:
        return int(axis)
    raise ArgError("an int", TypeError)


def is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# Shapes of new tensors: checked once here, so that no engine is asked for a tensor it cannot make
# (JAX aborts the process on some; torch accepted strings and floats).

_memory: List[int] = []


def memory_bytes() -> int:
    """The machine's physical memory (read once); a request above it cannot be met."""
    if not _memory:
        try:
            import os

            _memory.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        except (AttributeError, ValueError, OSError):
            _memory.append(1 << 40)
    return _memory[0]


def available_bytes() -> int:
    """The memory free now (one system call; only asked about requests above 1 GiB)."""
    try:
        import os

        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return memory_bytes()


def check_size(count: int, itemsize: int = 4) -> None:
    """Raise ``ArgError(MemoryError)`` when ``count`` elements of ``itemsize`` bytes cannot be allocated:
    above the machine's memory, or (for requests above 1 GiB) above the memory free now."""
    size = count * itemsize
    if size > memory_bytes():
        raise ArgError(f"a size that fits in memory ({count} elements of {itemsize} bytes exceed the "
                       f"{memory_bytes()} bytes of this machine)", MemoryError)
    if size > 1 << 30 and size > available_bytes():
        raise ArgError(f"a size that fits in memory ({count} elements of {itemsize} bytes exceed the "
                       f"{available_bytes()} bytes free now)", MemoryError)


def _dim(value):
    """One dimension: a non-negative int or a concrete int scalar tensor (``K.shape(x)[0]``)."""
    if is_integer(value):
        return int(value)
    if isinstance(value, (bool, float, str, bytes, tuple, list, dict, set)) or value is None:
        raise ArgError("a tuple of non-negative ints", TypeError)
    if symbolic.is_symbolic is not None and symbolic.is_symbolic(value):
        return value
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - a traced value: the engine reads it
        return value
    if array.ndim != 0 or array.dtype.kind not in "iu":
        raise ArgError("a tuple of non-negative ints", TypeError)
    return int(array)


def new_shape(value: Any) -> Tuple[Any, ...]:
    """The shape of a new tensor: an int, a list/tuple of ints (entries may be scalar int tensors), or a
    1-D int tensor → a tuple of non-negative ints whose size fits in memory; a symbolic or traced shape
    passes through (the engine checks it when it runs)."""
    if value.__class__ is tuple and all(v.__class__ is int and v >= 0 for v in value):
        dims = value
    elif is_integer(value):
        dims = (int(value),)
    elif isinstance(value, (tuple, list)):
        dims = tuple(_dim(v) for v in value)
        if not all(d.__class__ is int for d in dims):
            return value if value.__class__ is tuple else tuple(value)
    elif _is_int_array(value):
        dims = tuple(int(d) for d in value.reshape(-1))
    elif hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic):
        if symbolic.is_symbolic is not None and symbolic.is_symbolic(value):
            return value
        try:
            array = np.asarray(value)
        except Exception:  # noqa: BLE001 - traced inside a compiled function
            return value
        if array.ndim != 1 or array.dtype.kind not in "iu":
            raise ArgError("a tuple of non-negative ints or a 1-D int tensor", TypeError)
        dims = tuple(int(d) for d in array)
    else:
        raise ArgError("a tuple of non-negative ints", TypeError)
    if any(d < 0 for d in dims):
        raise ArgError("a tuple of non-negative ints")
    count = 1
    for d in dims:
        count *= d
    check_size(count)
    return dims


def new_shape_or_none(value: Any) -> Optional[Tuple[Any, ...]]:
    """None, or a :func:`new_shape`."""
    return None if value is None else new_shape(value)


def real(x: Any) -> Any:
    """The input of a float op (an activation): an int or bool tensor, or a Python number or list, is
    cast to floatx() first.  Keras 2 declares these ops on floats (TensorFlow refuses ints); casting
    gives every engine the same float answer instead of NumPy's truncated ints or an engine's refusal."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None:
        name = _REAL_KIND.get(dtype)
        if name is None:
            try:
                name = _REAL_KIND[dtype] = canonical_dtype(dtype) in _REAL_NAMES
            except TypeError:
                return x  # not a dtype we know: the op reports it
        if name:
            if x.__class__ is np.ndarray and _current.get().name != "numpy":
                return OPS["constant"].public(x, x.dtype)  # composites apply operators to it
            return x
    elif isinstance(x, (list, tuple, int, float, np.generic)) and not isinstance(x, (str, bytes)):
        try:
            return np.asarray(x, dtype=config._floatx)
        except (TypeError, ValueError):
            return x
    else:
        return x
    return OPS["cast"].public(x, config._floatx)


_REAL_NAMES = frozenset(("float16", "bfloat16", "float32", "float64", "complex64", "complex128"))
_REAL_KIND: Dict[Any, bool] = {}  # dtype object → is it real (a float or complex dtype)?


# ---------------------------------------------------------------------------------------------------
# the dtype policy (kbackend.dtypes.POLICY), applied by the generated function of each op


def _cast(x, name):
    return OPS["cast"].public(x, name)


_NUMBERS = (int, float, bool)
_INT_OR_BOOL = frozenset(INTS + ("bool",))
_WEAK = None  # the dtype name of a Python number: it takes the other operand's dtype


def _operand(value, dtype):
    """``(value, dtype name)``: a Python or NumPy scalar number is weak (name None); a list becomes an
    array with TensorFlow's types; a value the policy does not know is ``"?"`` (the op reports it)."""
    if dtype is None:
        if value.__class__ in _NUMBERS:
            return value, _WEAK
        if value.__class__ in (list, tuple):
            try:
                value = from_python(value)
            except (TypeError, ValueError):
                return value, "?"
            return value, canonical_dtype(value.dtype) if value.dtype.kind in "biuf" else "?"
        return value, "?"
    if isinstance(value, np.generic):
        if value.dtype.kind in "biuf":  # a NumPy scalar is weak too, as TensorFlow converts it (Keras 2)
            return value.item(), _WEAK
        return value, "?"
    try:
        return value, canonical_dtype(dtype)
    except TypeError:
        return value, "?"


def _meets_number(tensor, name, number):
    """A tensor of dtype ``name`` ready to meet a weak Python number: unchanged when the number takes its
    dtype; an int or bool tensor meeting a float is cast to ``floatx()`` (the float's own type as a
    tensor), a bool tensor meeting an int to int32 (the number would otherwise lose its fraction or its
    value)."""
    if number.__class__ is bool or name not in _INT_OR_BOOL:
        return tensor
    if number.__class__ is float:
        return _cast(tensor, config._floatx)
    return _cast(tensor, "int32") if name == "bool" else tensor


_TAKES_FLOAT = {}  # dtype object → whether a Python float takes that dtype (float and complex dtypes)
_TAKES_INT = {}  # dtype object → whether a Python int takes that dtype (every dtype but bool)


def _learn(dtype):
    """Fill the two tables above for ``dtype`` (an engine's dtype object), once."""
    try:
        if dtype is None or dtype in _TAKES_INT:
            return
        name = canonical_dtype(dtype)
    except TypeError:
        return
    _TAKES_FLOAT[dtype] = name not in _INT_OR_BOOL and name != "string"
    _TAKES_INT[dtype] = name != "bool" and name != "string"


def promote_pair(x, y):
    """The two operands of a ``promote`` op in the dtype they compute in: a Python (or NumPy scalar)
    number takes the tensor's dtype; two tensors of different dtypes meet in
    :func:`kbackend.dtypes.promote` (float32 + int32 → float32)."""
    a = getattr(x, "dtype", None)
    number = y.__class__
    if number is float or number is int:  # the common weak case, answered per dtype object
        try:
            if (_TAKES_FLOAT if number is float else _TAKES_INT).get(a):
                return x, y
        except TypeError:  # an unhashable dtype: the general path below
            pass
    b = getattr(y, "dtype", None)
    if a is b and a is not None:
        return x, y
    _learn(a)
    x, a = _operand(x, a)
    y, b = _operand(y, b)
    if a is _WEAK and b is _WEAK:  # two Python numbers: tensors of Keras 2's types (K.pow(2.5, 2) is float32)
        x, y = from_python(x), from_python(y)
        a, b = canonical_dtype(x.dtype), canonical_dtype(y.dtype)
    if a == b or a == "?" or b == "?":
        return x, y
    if a is _WEAK:
        return x, _meets_number(y, b, x)
    if b is _WEAK:
        return _meets_number(x, a, y), y
    target = promote(a, b)
    return (x if a == target else _cast(x, target)), (y if b == target else _cast(y, target))


def promote_all(values):
    """The tensors of an n-ary ``promote`` op (``concatenate``, ``batch_normalization``) in one dtype;
    None entries and Python numbers pass unchanged."""
    operands = [_operand(v, getattr(v, "dtype", None)) for v in values]
    names = {name for _, name in operands if name is not _WEAK and name != "?"}
    if len(names) < 2:
        return [v for v, _ in operands] if values.__class__ is list else tuple(v for v, _ in operands)
    target = None
    for name in names:
        target = name if target is None else promote(target, name)
    cast = [v if name is _WEAK or name == "?" or name == target else _cast(v, target) for v, name in operands]
    return cast if values.__class__ is list else tuple(cast)


_HALF_NAMES = {}  # dtype object → 'float16' / 'bfloat16', or None


def half_name(x):
    """'float16' or 'bfloat16' when ``x`` is a tensor of that dtype, else None (``accumulate-half``)."""
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return None
    try:
        return _HALF_NAMES[dtype]
    except KeyError:
        pass
    except TypeError:
        return None
    try:
        name = canonical_dtype(dtype)
    except TypeError:
        name = None
    _HALF_NAMES[dtype] = name if name in ("float16", "bfloat16") else None
    return _HALF_NAMES[dtype]


#: The parameters a ``promote`` op brings to one dtype, in the order they are checked.
PROMOTED_PARAMS = ("x", "y", "a", "mean", "var", "beta", "gamma")


def _policy_lines(spec, call):
    """Generated lines applying ``spec.policy`` to the (canonicalised) arguments; ``real`` is applied as
    the canonicaliser of ``x``."""
    params = spec.signature.parameters
    lines = []
    if "promote" in spec.policy:
        if "tensors" in params:
            lines.append("    tensors = _promote_all(tensors)")
        else:
            promoted = [n for n in PROMOTED_PARAMS if n in params]
            if len(promoted) == 2:
                lines.append(f"    {promoted[0]}, {promoted[1]} = _promote_pair({promoted[0]}, {promoted[1]})")
            else:
                joined = ", ".join(promoted)
                lines.append(f"    {joined} = _promote_all(({joined},))")
    if "accumulate-half" in spec.policy:
        wide = [n for n in ("x", "y", "output") if n in params]
        args = [f"_cast({n}, 'float32')" if n in wide else n for n in call]
        lines += [f"    _half = _half_name({wide[0]})",
                  "    if _half is not None:",
                  f"        return _cast({spec.name}({', '.join(args)}), _half)"]
    return lines


def dtype_or_floatx(dtype: Any) -> str:
    """None → floatx() at call time; anything else → its canonical name."""
    if dtype is None:
        return config._floatx
    try:
        return canonical_dtype(dtype)
    except TypeError:
        raise ArgError("a dtype name such as 'float32', 'int64' or 'bool'", TypeError) from None


def dtype_or_none(dtype: Any) -> Optional[str]:
    """None stays None (the op picks); anything else → its canonical name."""
    if dtype is None:
        return None
    return dtype_or_floatx(dtype)


def data_format(value: Optional[str]) -> str:
    """None → the global image data format; otherwise checked and lower-cased."""
    if value.__class__ is str and (value == "channels_last" or value == "channels_first"):  # the usual form
        return value
    normal = config.canonical_data_format(value)
    if normal is None:
        raise ArgError(config.DATA_FORMAT_EXPECTED)
    return normal


def _lowered_choice(value: Any, choices: Tuple[str, ...], expected: str) -> str:
    """``value`` lower-cased when it is one of ``choices``; an array or other non-string is refused by
    name (it would compare elementwise)."""
    normal = value.lower() if isinstance(value, str) else None
    if normal not in choices:
        raise ArgError(expected)
    return normal


def padding(value: str) -> str:
    """'valid' or 'same' (case-insensitive)."""
    if value.__class__ is str and (value == "valid" or value == "same"):  # the usual spelling: no call
        return value
    return _lowered_choice(value, ("valid", "same"), "'valid' or 'same'")


def causal_padding(value: str) -> str:
    """'valid', 'same' or 'causal' (case-insensitive)."""
    if value.__class__ is str and (value == "valid" or value == "same" or value == "causal"):
        return value
    return _lowered_choice(value, ("valid", "same", "causal"), "'valid', 'same' or 'causal'")


def pool_mode(value: str) -> str:
    if value.__class__ is not str or value not in ("max", "avg"):
        raise ArgError("'max' or 'avg'")
    return value


def int_tuple(n: int) -> Callable[[Any], Tuple[int, ...]]:
    """Canonicaliser factory: an int or a sequence of ``n`` positive ints → a tuple of ``n`` ints."""

    def canonical(value):
        if value.__class__ is tuple and len(value) == n:  # the usual form, checked without a generator
            for v in value:
                if v.__class__ is not int or v <= 0:
                    break
            else:
                return value
        if is_integer(value):
            value = (int(value),) * n
        elif isinstance(value, (tuple, list)) and len(value) == n and all(is_integer(v) for v in value):
            value = tuple(int(v) for v in value)
        else:
            raise ArgError(f"an int or a tuple of {n} ints", TypeError)
        if any(v <= 0 for v in value):
            raise ArgError(f"positive ints")
        return value

    canonical.__name__ = f"int_tuple_{n}"
    return canonical


#: Canonicalisers applied by parameter name unless an op overrides or disables them.
DEFAULT_CANONICALISERS = {
    "data_format": data_format,
    "padding": padding,
    "pool_mode": pool_mode,
}

# ---------------------------------------------------------------------------------------------------
# op registry and the generated public function


class OpSpec:
    """What is known about one K function: its declaration and how to call it."""

    __slots__ = ("name", "reference", "signature", "canonicalisers", "tensor_params", "composite", "policy",
                 "public", "check", "shape_rule", "sparse")

    def __init__(self, name, reference, signature, canonicalisers, tensor_params, composite, policy=(),
                 check=None, shape_rule=None, sparse=None):
        self.name = name
        self.sparse = sparse
        self.policy = policy
        self.check = check
        self.shape_rule = shape_rule
        self.reference = reference
        self.signature = signature
        self.canonicalisers = canonicalisers
        self.tensor_params = tensor_params
        self.composite = composite
        self.public = None


#: name → OpSpec, in declaration order.
OPS: Dict[str, OpSpec] = {}


class _Symbolic:
    """The one seam between eager dispatch and the symbolic layer.

    ``active`` stays False until :mod:`kbackend.graph` creates its first placeholder: it is the cheap
    process-wide pre-check.  Graph mode itself is per thread: a thread *builds graphs* once it has
    created a placeholder or passed a symbolic tensor to an op (until ``K.clear_session()``).  In such
    a thread, as in Keras 2's graph mode, an op that reads a symbolic tensor *or a variable* is handed
    to ``record`` (so expressions over variables are re-read when a function runs, never frozen at
    build time).  Any other thread stays eager: its ops on variables run, its updates apply.
    """

    __slots__ = ("active", "record", "record_operator", "is_symbolic", "variable_types", "_replaying",
                 "_building", "_generation")

    def __init__(self):
        self.active = False
        self.record = None
        self.record_operator = None  # for variable classes whose Python operators defer too
        self.is_symbolic = None
        self.variable_types = set()  # each backend registers its variable class when it loads
        self._replaying = threading.local()
        self._building = threading.local()
        self._generation = 0  # bumped by leave(): every thread's graph mode ends with the session

    def build_here(self):
        """Mark the calling thread as building graphs (a placeholder was made or a symbolic tensor used)."""
        self._building.generation = self._generation

    def leave(self):
        """Leave graph mode in every thread (``K.clear_session``)."""
        self.active = False
        self._generation += 1

    def building(self):
        """True when the calling thread builds graphs in the current session."""
        return getattr(self._building, "generation", -1) == self._generation

    def suspended(self):
        """Context: execute instead of recording on this thread (while a function replays its graph or
        shapes are inferred); other threads keep building their graphs."""
        return _Suspension(self._replaying)

    def recording(self):
        """True when an op on this thread with a variable argument is recorded: this thread builds
        graphs and is not replaying one.  Callers test the cheap ``active`` flag first."""
        return self.active and not getattr(self._replaying, "depth", 0) and self.building()

    def deferred(self, value):
        return self.is_symbolic(value) or value.__class__ in self.variable_types

    def any(self, values):
        if getattr(self._replaying, "depth", 0):
            return False
        if self.building():
            deferred = self.deferred
        else:  # an eager thread: only a symbolic argument records (and makes this thread build graphs)
            deferred = self.is_symbolic
        for value in values:
            if deferred(value) or (value.__class__ in (list, tuple) and any(deferred(v) for v in value)):
                if deferred is self.is_symbolic:
                    self.build_here()
                return True
        return False


class _Suspension:
    __slots__ = ("state",)

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        self.state.depth = getattr(self.state, "depth", 0) + 1

    def __exit__(self, *exc):
        self.state.depth -= 1


symbolic = _Symbolic()

#: The one table of Python operators that symbolic tensors and every engine's variable support:
#: ``(name, function, has a reflected form)``.  ``==`` and ``!=`` are not in it: a symbolic tensor
#: compares by identity (Keras keeps tensors in sets and tests ``x in list``), and a variable's own
#: comparison is never recorded, for the same reason.
OPERATORS = (
    ("add", operator.add, True), ("sub", operator.sub, True), ("mul", operator.mul, True),
    ("truediv", operator.truediv, True), ("floordiv", operator.floordiv, True), ("mod", operator.mod, True),
    ("pow", operator.pow, True), ("matmul", operator.matmul, True),
    ("and", operator.and_, True), ("or", operator.or_, True), ("xor", operator.xor, True),
    ("lt", operator.lt, False), ("le", operator.le, False), ("gt", operator.gt, False), ("ge", operator.ge, False),
    ("neg", operator.neg, False), ("pos", operator.pos, False), ("abs", operator.abs, False),
    ("invert", operator.invert, False), ("getitem", operator.getitem, False),
)


def install_operators(cls: type, eager: Optional[Callable[..., Any]] = None,
                      eager_class: Optional[type] = None) -> None:
    """Give ``cls`` every operator of :data:`OPERATORS`, generated here for all tensor types.

    While the calling thread builds graphs, an operator is recorded (``symbolic.record_operator``), so
    that an expression over a variable reads its value when a function runs.  Otherwise it runs
    eagerly: ``eager(name, function, reflected)`` returns the method that computes it on concrete
    values (or None to leave the operator out), or, with ``eager_class``, that class's own method is
    used.  With neither (a symbolic tensor), every operator is recorded.
    """
    for name, fn, reflectable in OPERATORS:
        for reflected in ((False, True) if reflectable else (False,)):
            dunder = f"__{'r' if reflected else ''}{name}__"
            if eager is not None:
                run = eager(name, fn, reflected)
            elif eager_class is not None:
                run = getattr(eager_class, dunder, None)
            else:
                run = _record_only(name, fn, reflected)
            if run is None:
                continue
            method = run if eager is None and eager_class is None else _recorded_or(run, name, fn, reflected)
            method.__name__ = method.__qualname__ = dunder
            setattr(cls, dunder, method)


def _record_only(name, fn, reflected):
    if reflected:
        return lambda self, other: symbolic.record_operator(name, fn, other, self)
    return lambda self, *others: symbolic.record_operator(name, fn, self, *others)


def _recorded_or(eager, name, fn, reflected):
    def method(self, *others):
        if symbolic.active and symbolic.recording():
            return symbolic.record_operator(name, fn, *((others[0], self) if reflected else (self,) + others))
        return eager(self, *others)

    return method


#: Parameters that carry tensors (checked for symbolic values); list-valued ones included.
TENSOR_PARAMS = frozenset(
    """x y tensor tensors reference indices target output kernel depthwise_kernel pointwise_kernel bias
    mean var beta gamma condition then_expression else_expression alt predictions targets labels
    label_lengths y_true y_pred input_length label_length inputs new_x increment decrement value
    elems initializer initial_states constants mask loss variables outputs start stop size shape
    min_value max_value a level training ops tuples momentum n""".split()
)


def op(fn: Optional[Callable[..., Any]] = None, *, composite: bool = False, policy: Any = (),
       check: Optional[Callable[..., Any]] = None, shape_rule: Optional[Callable[..., Any]] = None,
       sparse: Optional[Callable[..., Any]] = None, **canonicalisers: Optional[Callable[[Any], Any]]) -> Any:
    """Declare a K function: ``fn`` is its Keras 2 signature, docstring and NumPy reference body.

    ``canonicalisers`` maps parameter names to canonicalising callables (``None`` disables a default);
    ``composite=True`` marks a body written only in K calls, which then runs on every backend.
    ``check``, called with the canonical arguments (in signature order) before the symbolic branch and
    before dispatch, raises the op's errors that depend on the arguments' shapes, so that neither the
    reference body nor an engine restates them.
    ``policy`` names the op's dtype categories (:data:`kbackend.dtypes.POLICY`), applied by the generated
    function before the backend runs (see :func:`promote_pair`, :func:`real`, :func:`half_name`).
    ``shape_rule``, called like ``check`` on arguments whose tensors are symbolic (a ``shape`` tuple with
    None for unknown dims, a ``dtype`` name), returns the output shape, which a graph records without
    running the op; the output dtype follows from ``policy`` (:func:`kbackend.dtypes.result_dtype`).  The rule raises ``ValueError`` or ``TypeError``
    for arguments it does not decide; the graph then runs the reference on stand-ins, as for an op
    without a rule.
    ``sparse``, called with the canonical arguments when the op's first tensor argument holds a sparse
    value (:mod:`kbackend.sparse`), answers for the ops that keep values sparse on the engines without
    sparse tensors; it returns ``NotImplemented`` for calls it leaves to the engine.
    """
    if fn is None:
        return lambda f: op(f, composite=composite, policy=policy, check=check, shape_rule=shape_rule,
                            sparse=sparse, **canonicalisers)
    policy = (policy,) if isinstance(policy, str) else tuple(policy)
    unknown_policy = set(policy) - set(POLICY)
    if unknown_policy:
        raise TypeError(f"op {fn.__name__}: unknown dtype policy {sorted(unknown_policy)}; expected {POLICY}")
    signature = inspect.signature(fn)
    if "xp" in signature.parameters:  # the array namespace of a body engines share: not part of the API
        signature = signature.replace(parameters=[p for n, p in signature.parameters.items() if n != "xp"])
        fn.__signature__ = signature
    names = list(signature.parameters)
    chosen = {}
    if "real" in policy:
        chosen["x"] = real
    for name in names:
        if name in canonicalisers:
            if canonicalisers[name] is not None:
                chosen[name] = canonicalisers[name]
        elif name in DEFAULT_CANONICALISERS:
            chosen[name] = DEFAULT_CANONICALISERS[name]
    unknown = set(canonicalisers) - set(names)
    if unknown:
        raise TypeError(f"op {fn.__name__}: canonicalisers for unknown parameters {sorted(unknown)}")
    tensor_params = tuple(n for n in names if n in TENSOR_PARAMS)
    spec = OpSpec(fn.__name__, fn, signature, chosen, tensor_params, composite, policy, check, shape_rule, sparse)
    fn.__doc__ = with_raises(with_args(fn.__doc__, spec), raises_lines(spec))
    spec.public = _generate(spec)
    OPS[spec.name] = spec
    return spec.public


#: The Raises line a canonicaliser stands for, by its name (``{name}`` is the parameter); None: none.
#: Any other canonicaliser reads as :data:`RAISES_OTHERWISE`.
CANONICAL_RAISES = {
    "real": None,
    "saturation": None,
    "one_axis": "TypeError: ``{name}`` is not an int.",
    "axes": "TypeError: ``{name}`` is not None, an int or a list of ints.",
    "dtype_or_floatx": "TypeError: ``{name}`` is not a dtype name.",
    "dtype_or_none": "TypeError: ``{name}`` is not None or a dtype name.",
    "data_format": "ValueError: ``{name}`` is not 'channels_first' or 'channels_last'.",
    "padding": "ValueError: ``{name}`` is not 'valid' or 'same'.",
    "causal_padding": "ValueError: ``{name}`` is not 'valid', 'same' or 'causal'.",
    "pool_mode": "ValueError: ``{name}`` is not 'max' or 'avg'.",
    "new_shape": "TypeError: ``{name}`` is not a tuple of ints; a ValueError if an entry is negative, a "
                 "MemoryError if it cannot be allocated.",
    "new_shape_or_none": "TypeError: ``{name}`` is not None or a tuple of ints; a ValueError if an entry is "
                         "negative.",
}
RAISES_OTHERWISE = "TypeError: ``{name}`` has the wrong type (a ValueError when its value is out of range)."
RAISES_INT_TUPLE = ("TypeError: ``{name}`` is not an int or a tuple of {n} ints; a ValueError if one is not "
                    "positive.")
RAISES_ANY = "ValueError: an input the op cannot take; the message starts with ``{op}:``."


#: The Args entry of a common parameter, by name (or by name and canonicaliser), for ops that do not
#: word it themselves.
GLOSSARY = {
    "x": "Tensor, variable, NumPy array or Python number.",
    "y": "Tensor, variable, NumPy array or Python number; the second operand.",
    ("axis", "one_axis"): "An int axis (negative counts from the end).",
    ("axis", "axes"): "An int (negative counts from the end), a list of ints, or None for every axis.",
    "keepdims": "Keep each reduced axis with length 1 when True.",
    "data_format": "'channels_last', 'channels_first', or None for ``image_data_format()``.",
    "padding": "'valid' or 'same'.",
    "dtype": "A dtype name such as 'float32'; None means ``floatx()`` (or the input's dtype where stated).",
    "shape": "A tuple of non-negative ints (or a 1-D int tensor).",
    "seed": "An int seed for reproducible draws, or None.",
    "name": "Accepted for Keras 2 compatibility; names a variable or placeholder, otherwise unused.",
}


def glossary_entry(spec: "OpSpec", name: str) -> Optional[str]:
    """The shared Args entry of parameter ``name`` of ``spec``, if the glossary has one."""
    canonical = getattr(spec.canonicalisers.get(name), "__name__", None)
    return GLOSSARY.get((name, canonical), GLOSSARY.get(name))


def with_args(doc: Optional[str], spec: "OpSpec") -> str:
    """``doc`` (cleaned) with the glossary's entry for each parameter its Args section leaves out, in
    signature order (an Args section is added before Returns, Raises or the example when it has none)."""
    doc = inspect.cleandoc(doc or "")
    params = list(spec.signature.parameters)
    if not params:
        return doc
    paragraphs = doc.split("\n\n")
    at = next((i for i, p in enumerate(paragraphs) if p.startswith("Args:")), None)
    if at is None:
        at = next((i for i, p in enumerate(paragraphs) if p.startswith(("Returns:", "Raises:", ">>>"))),
                  len(paragraphs))
        paragraphs.insert(at, "Args:")
    entries = []  # (names, lines) as written
    for line in paragraphs[at].splitlines()[1:]:
        match = re.match(r"    ([*\w][\w, *]*):", line)
        if match:
            entries.append(({n.strip().lstrip("*") for n in match.group(1).split(",")}, [line]))
        elif entries:
            entries[-1][1].append(line)
    out, used = ["Args:"], set()
    for name in params:
        written = next((i for i, (names, _) in enumerate(entries) if name in names), None)
        if written is not None:
            if written not in used:
                used.add(written)
                out += entries[written][1]
        elif glossary_entry(spec, name):
            out.append(f"    {name}: {glossary_entry(spec, name)}")
    out += [line for i, (_, lines) in enumerate(entries) if i not in used for line in lines]
    if len(out) == 1:
        return doc
    paragraphs[at] = "\n".join(out)
    return "\n\n".join(paragraphs)


def raises_lines(spec: "OpSpec") -> List[str]:
    """The Raises entries every op of this kind shares: one per canonicalised argument, then the op's own."""
    lines = []
    for name, canonical in spec.canonicalisers.items():
        kind = getattr(canonical, "__name__", "")
        tuple_of = re.fullmatch(r"(?:int_tuple|window)_(\d)", kind)
        if tuple_of:
            line = RAISES_INT_TUPLE.format(name=name, n=tuple_of.group(1))
        else:
            line = CANONICAL_RAISES.get(kind, RAISES_OTHERWISE)
            line = line and line.format(name=name)
        if line:
            lines.append(line)
    return lines + [RAISES_ANY.format(op=spec.name)]


def with_raises(doc: Optional[str], lines: List[str]) -> str:
    """``doc`` (cleaned) with ``lines`` ending its Raises section (added before the example when it has none);
    a line the section already states, in any wrapping, is not repeated."""
    doc = inspect.cleandoc(doc or "")
    paragraphs = doc.split("\n\n")
    at = next((i for i, p in enumerate(paragraphs) if p.startswith("Raises:")), None)
    if at is None:
        at = next((i for i, p in enumerate(paragraphs) if p.startswith(">>>")), len(paragraphs))
        paragraphs.insert(at, "Raises:")
    stated = " ".join(paragraphs[at].split())
    missing = ["    " + line for line in lines if " ".join(line.split()) not in stated]
    paragraphs[at] = "\n".join([paragraphs[at], *missing])
    return "\n\n".join(paragraphs)


def _canonical_lines(spec, indent="    "):
    """Generated lines bringing each argument that has a canonicaliser to its canonical form."""
    lines = []
    for name in spec.canonicalisers:
        lines += [
            "try:",
            f"    {name} = _canon_{name}({name})",
            "except _ArgError as exc:",
            f"    raise exc.at({spec.name!r}, {name!r}, {name}) from None",
        ]
    return [indent + line for line in lines]


def _remembered_lines(spec, call):
    """For an op whose check is remembered (``ops.conv_rules.Remembered``): the generated prologue that
    looks the call's pattern up and, on a hit, takes the canonical arguments remembered for it instead
    of running the canonicalisers; and the body lines that run the check on a miss and file the call.

    The pattern is built inline: a call through ``*args`` alone would cost a third of the per-call
    budget.  It carries the image data format, which the ``data_format`` canonicaliser reads for None."""
    tensors, rest = call[:spec.check.tensors], call[spec.check.tensors:]
    state = "_config._image_data_format" if "data_format" in rest else "None"
    same = " and ".join(f"_call[{i}] is {name}" for i, name in enumerate(rest))
    prologue = [
        f"    _state = {state}",
        "    try:",
        f"        _call = _calls[({', '.join(t + '.shape' for t in tensors)}, {', '.join(rest)}, _state)]",
        "    except (KeyError, AttributeError, TypeError):  # a new pattern, no shape, or an unhashable argument",
        "        _call = None",
        f"    if _call is not None and {same}:",
        f"        {', '.join(rest)}, = _call[-1]",
        "    else:",
        f"        _raw = ({', '.join(rest)},)",
        *_canonical_lines(spec, indent="        "),
        "        _call = None",
    ]
    body = [
        "    if _call is None:",
        f"        _check({', '.join(call)})",
        f"        _remember_call(({', '.join(tensors)},), _raw, ({', '.join(rest)},), _state)",
    ]
    return prologue, body


def _generate(spec):
    """Compile the public function: canonicalise, branch to the symbolic layer, call the backend."""
    params = spec.signature.parameters
    header, call, defaults = [], [], {}
    for name, param in params.items():
        if param.kind is param.VAR_POSITIONAL:
            header.append(f"*{name}")
            call.append(f"*{name}")
        elif param.kind is param.VAR_KEYWORD:
            header.append(f"**{name}")
            call.append(f"**{name}")
        elif param.default is param.empty:
            header.append(name)
            call.append(name)
        else:
            defaults[f"_default_{name}"] = param.default
            header.append(f"{name}=_default_{name}")
            call.append(name)
    lines = [f"def {spec.name}({', '.join(header)}):"]
    if hasattr(spec.check, "remember_call"):
        prologue, body = _remembered_lines(spec, call)
        lines += prologue
    else:
        lines += _canonical_lines(spec)
        body = [f"    _check({', '.join(call)})"] if spec.check is not None else []
    if spec.sparse is not None:
        body = [f"    if _holds_sparse({spec.tensor_params[0]}):",
                f"        _result = _sparse({', '.join(call)})",
                "        if _result is not NotImplemented:",
                "            return _result"] + body
    body += _policy_lines(spec, call)
    if spec.tensor_params:
        probe = ", ".join(spec.tensor_params) + ","
        values = ", ".join(f"{n}={n}" for n in spec.signature.parameters if params[n].kind not in
                           (params[n].VAR_POSITIONAL, params[n].VAR_KEYWORD))
        # A loop whose function may read variables (map_fn's fn, rnn's step) is recorded in a thread that
        # builds graphs even over eager elements: what the function reads from a variable is a graph
        # tensor there, which an engine's own loop (tf.map_fn) could not hold.
        loops = any(n in REQUIRED_CALLBACKS for n in params)
        recording = "_symbolic.recording() or " if loops else ""
        body += [
            f"    if _symbolic.active and ({recording}_symbolic.any(({probe}))):",
            f"        return _symbolic.record({spec.name!r}, dict({values}))",
        ]
    body.append(f"    return _active().{spec.name}({', '.join(call)})")
    # The caller's callables (map_fn's fn, a switch branch…) are wrapped so that what they raise is
    # marked and reaches the caller untouched; a required one that is not callable is a TypeError.
    callbacks = [n for n in params if n in CALLBACK_PARAMS or n == "x" and "alt" in params]
    for name in callbacks:
        lines += [f"    if callable({name}):", f"        {name} = _callback({name})"]
        if name in REQUIRED_CALLBACKS:
            lines += ["    else:",
                      f"        raise TypeError(f\"{spec.name}: argument `{name}` got {{{name}!r}}; expected a "
                      f"callable\")"]
    # One place turns what an engine raises from inside into the op's named error (a try block costs
    # nothing on the happy path).
    lines += ["    try:", *("    " + line for line in body), "    except Exception as exc:",
              f"        named = _named({spec.name!r}, exc)",
              "        if named is exc:", "            raise",
              "        raise named from exc"]
    namespace = {"_ArgError": ArgError, "_symbolic": symbolic, "_active": _current.get, "_named": named_error,
                 "_callback": callback, "_promote_pair": promote_pair, "_promote_all": promote_all,
                 "_half_name": half_name, "_cast": _cast, **defaults}
    namespace.update({f"_canon_{n}": c for n, c in spec.canonicalisers.items()})
    if spec.check is not None:
        namespace["_check"] = spec.check
    if spec.sparse is not None:
        namespace.update(_holds_sparse=holds_sparse, _sparse=spec.sparse)
    if hasattr(spec.check, "remember_call"):
        namespace.update(_config=config, _calls=spec.check.calls, _remember_call=spec.check.remember_call)
    public = compile_function("\n".join(lines), spec.name, namespace, spec.reference)
    public.__doc__ = spec.reference.__doc__
    public.__module__ = "kbackend"
    public.__qualname__ = spec.name
    public.__wrapped__ = spec.reference
    public.__signature__ = spec.signature
    return public


def declaration_line(fn: Callable[..., Any]) -> Tuple[Optional[str], int]:
    """``(file, line)`` of the ``def`` statement of ``fn`` (below its decorators), or ``(None, 0)``
    when ``fn`` has no Python source file."""
    code = getattr(inspect.unwrap(fn), "__code__", None)
    if code is None:
        return None, 0
    filename, first = code.co_filename, code.co_firstlineno
    lines = linecache.getlines(filename)
    pattern = re.compile(rf"\s*(async\s+)?def\s+{re.escape(code.co_name)}\b")
    for number in range(first, min(first + 40, len(lines)) + 1):
        if pattern.match(lines[number - 1]):
            return filename, number
    return filename, first


def compile_function(source: str, name: str, namespace: Dict[str, Any],
                     origin: Callable[..., Any]) -> Callable[..., Any]:
    """Compile generated ``source``, which defines function ``name``, in ``namespace`` and return it.

    The generated code is attributed to ``origin``, the function it stands for: its file name is
    ``origin``'s source file and every line of it is ``origin``'s ``def`` line, so that tracebacks
    show the declaration and ``inspect.getsourcefile`` names the real file.  The generated text itself
    is kept in ``linecache`` under ``<kbackend generated NAME for FILE:LINE>`` for a reader who wants
    to see it (``linecache.getlines`` on the function's ``__kbackend_source__``).
    """
    filename, line = declaration_line(origin)
    tree = ast.parse(source)
    if filename is not None:
        text = linecache.getline(filename, line)
        start, end = len(text) - len(text.lstrip()), len(text.rstrip())  # the whole line: no carets
        for node in ast.walk(tree):
            if "lineno" in node._attributes:
                for attribute, value in (("lineno", line), ("end_lineno", line), ("col_offset", start),
                                         ("end_col_offset", end)):
                    setattr(node, attribute, value)
    code = compile(tree, filename or f"<kbackend generated {name}>", "exec")
    exec(code, namespace)
    function = namespace[name]
    generated = f"<kbackend generated {name} for {filename}:{line}>"
    linecache.cache[generated] = (len(source), None, source.splitlines(True), generated)
    function.__kbackend_source__ = generated
    return function


#: Parameters that take the caller's callables (their exceptions reach the caller untouched); with
#: ``alt``, ``x`` is one too (in_train_phase, in_test_phase).
CALLBACK_PARAMS = frozenset(("fn", "step_function", "then_expression", "else_expression", "alt"))
REQUIRED_CALLBACKS = frozenset(("fn", "step_function"))


def callback(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` wrapped so that an exception it raises is marked as the caller's own: the op that called
    it re-raises it untouched instead of naming it."""
    if getattr(fn, "_kbackend_callback", False):
        return fn

    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            try:
                exc._kbackend_callback = True
            except AttributeError:
                pass
            raise

    setattr(call, "_kbackend_callback", True)
    setattr(call, "__wrapped__", fn)
    call.__name__ = getattr(fn, "__name__", "callback")
    return call

#: What may reach the caller from an op: the error types of the public contract.
_CONTRACT = (ValueError, TypeError, NotImplementedError, MemoryError)


def named_error(name: str, exc: BaseException) -> BaseException:
    """The exception an op raises for ``exc`` raised inside it: ``exc`` itself when it is already a
    ``ValueError``/``TypeError``/``NotImplementedError``/``MemoryError`` whose message starts with the
    op's name (or an ImportError naming a missing engine), else one of those four whose message is
    ``"<op>: <the engine's words>"``.  An engine's RuntimeError, IndexError, KeyError, OverflowError,
    ZeroDivisionError, or its own error classes (TensorFlow's InvalidArgumentError, XLA's errors)
    become ``ValueError``; AttributeError becomes ``TypeError``; an engine out of memory ``MemoryError``."""
    if isinstance(exc, (ImportError, NameError)) or getattr(exc, "_kbackend_callback", False) or \
            getattr(exc, "_kbackend_configuration", False):
        return exc  # a missing engine, a bug of ours, the caller's callback, a bad configured backend
    message = str(exc)
    if isinstance(exc, _CONTRACT) and message.startswith(name + ":"):
        return exc
    if isinstance(exc, MemoryError) or "RESOURCE_EXHAUSTED" in message or \
            exc.__class__.__name__ == "ResourceExhaustedError":
        kind: Type[Exception] = MemoryError
    elif isinstance(exc, NotImplementedError):
        kind = NotImplementedError
    elif isinstance(exc, (TypeError, AttributeError)):
        kind = TypeError
    else:
        kind = ValueError
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        message = f"unknown key {exc.args[0]!r}"
    message = message.strip() or exc.__class__.__name__
    return kind(message if message.startswith(name + ":") else f"{name}: {message}")


# ---------------------------------------------------------------------------------------------------
# backends


_ENGINE_MODULES = {"torch": ("torch",), "jax": ("jax", "jaxlib"), "tensorflow": ("tensorflow",),
                   "pytensor": ("pytensor",)}


class Backend:
    """One engine: an attribute per op, resolved when the engine is first used.

    Until then the object is only a name; touching any op loads the engine module and fills every
    attribute, so later calls are a plain attribute load.
    """

    def __init__(self, name):
        self.name = name
        self.module = None
        self._lock = threading.Lock()

    def __repr__(self):
        state = "loaded" if self.module is not None else "not loaded"
        return f"<kbackend backend {self.name!r} ({state})>"

    def __getattr__(self, attr):
        if attr.startswith("__") or attr in ("_lock", "module") or self.module is not None:
            raise AttributeError(attr)
        self.load()
        return getattr(self, attr)

    def load(self):
        with self._lock:
            if self.module is not None:
                return self
            module = _import_backend_module(self.name)
            table = _implementations(self.name, module)
            for name, impl in table.items():
                setattr(self, name, impl)
            symbolic.variable_types.update(getattr(module, "VARIABLE_TYPES", ()))
            self.module = module
        return self


def _import_backend_module(name):
    if name in config.ENGINES:
        try:
            return importlib.import_module(f"kbackend.backends.{name}")
        except ImportError as exc:
            if exc.name == f"kbackend.backends.{name}":
                raise NotImplementedError(
                    f"the {name!r} backend is not implemented yet; available: numpy, torch, jax, tensorflow, pytensor"
                ) from None
            if exc.name and exc.name.split(".")[0] in _ENGINE_MODULES.get(name, ()):
                raise ImportError(
                    f"the {name!r} backend needs its engine, which is not installed: "
                    f"pip install 'kbackend[{name}]'"
                ) from exc
            raise
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise ValueError(
            f"Unable to import backend {name!r}: it is not one of {', '.join(config.ENGINES)} "
            f"and importing it as a module failed ({exc})"
        ) from exc
    missing = [entry for entry in ("placeholder", "variable", "function") if not hasattr(module, entry)]
    if missing:
        raise ValueError(f"Invalid backend {name!r}. Missing required entries: {', '.join(missing)}")
    return module


def _not_implemented(op_name, backend_name):
    def missing(*args, **kwargs):
        raise NotImplementedError(f"{op_name} is not implemented on the {backend_name} backend")

    missing.__name__ = op_name
    return missing


def _implementations(backend_name, module):
    """op name → callable for one backend: its own functions, then composites, then the reference."""
    if hasattr(module, "implementations"):
        own = module.implementations()
    else:  # an external backend module in the Keras 2 style: functions named like the ops
        own = {name: getattr(module, name) for name in OPS if callable(getattr(module, name, None))}
    reference = getattr(module, "REFERENCE", False)
    table = {}
    for name, spec in OPS.items():
        if name in own:
            table[name] = own[name]
        elif spec.composite or reference:
            table[name] = spec.reference
        else:
            table[name] = _not_implemented(name, backend_name)
    table["variable"] = _keras_variable(table["variable"])
    return table


#: This thread's ``K.name_scope`` stack (names of placeholders, nodes and named variables).
name_scopes = threading.local()


def _keras_variable(make):
    """Variables are named inside the current name scopes (``dense_1/kernel``, as TensorFlow named
    them) and carry the attributes Keras 2 reads on them (``_keras_shape``, ``_uses_learning_phase``),
    as its TensorFlow and Theano backends set them."""

    def variable(value, dtype=None, name=None, constraint=None):
        scopes = getattr(name_scopes, "stack", None)
        if scopes and name is not None:
            name = "/".join(scopes + [name])
        made = make(value, dtype, name, constraint)
        try:
            made._keras_shape = tuple(made.shape)
            made._uses_learning_phase = False
        except AttributeError:  # an external backend's variable type that takes no attributes
            pass
        return made

    variable.__name__ = "variable"
    return variable


def collect(*modules: Any, renames: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Build a backend's table from topic modules (functions named like ops) and a rename table."""
    table = dict(renames or {})
    for module in modules:
        for name in OPS:
            impl = module.__dict__.get(name)
            if impl is not None and callable(impl) and not _imported(impl, module):
                table[name] = impl
    return table


def _imported(impl, module):
    """Whether ``impl`` is a helper that ``module`` imported from a sibling module of its engine (jax's
    topic modules import ``arrays.cast``, a helper that is not the op ``cast``); bodies bound from
    ``kbackend.ops`` count as the module's own."""
    home = getattr(impl, "__module__", None) or ""
    package = module.__name__.rpartition(".")[0]
    return home != module.__name__ and home.startswith(package + ".")


_backends: Dict[str, "Backend"] = {}
_backends_lock = threading.Lock()


def get_backend(name: str) -> "Backend":
    """The (possibly not yet loaded) Backend object for ``name``."""
    name = config.canonical_backend_name(name, "backend_scope")
    backend = _backends.get(name)
    if backend is None:
        with _backends_lock:
            backend = _backends.setdefault(name, Backend(name))
    return backend


def _default_backend():
    """The configured backend, not yet loaded (the engine itself loads on first use).  A name that
    cannot be used fails there, and the error says where the name came from."""
    name, origin = config._backend_name, config.backend_origin
    note = f" (the backend name {name!r} comes from {origin})"
    try:
        config.canonical_backend_name(name, origin or "backend")
        default = get_backend(name)
    except ValueError as exc:  # e.g. cntk: every use raises the clear message instead of failing the import
        default = Backend(name)
        problem = str(exc)

        def refuse():
            error = ValueError(problem)
            error._kbackend_configuration = True  # names its own source: no op's name before it
            raise error

        default.load = refuse
        return default
    if origin is None:
        return default
    load = default.load

    def load_naming_origin():
        try:
            return load()
        except (ImportError, ValueError, NotImplementedError) as exc:
            if exc.args and isinstance(exc.args[0], str) and note not in exc.args[0]:
                exc.args = (exc.args[0] + note,) + exc.args[1:]
            exc._kbackend_configuration = True
            raise

    default.load = load_naming_origin
    return default


# `config.load()` has run by now (kbackend/__init__.py does it first).
_current = contextvars.ContextVar("kbackend_backend", default=_default_backend())


def active_backend() -> "Backend":
    """The Backend object in force for this thread / task."""
    return _current.get()


def backend() -> str:
    """Return the name of the backend chosen at import (``'numpy'`` unless configured).

    Inside :func:`backend_scope` this is the scoped backend.

    >>> import kbackend as K
    >>> K.backend() in ('numpy', 'torch', 'jax', 'tensorflow', 'pytensor') or True
    True
    """
    return _current.get().name


class Namespace:
    """The K functions by name, for op bodies written in K calls (``K.sum(K.square(x))``): every
    declared op, the configuration functions and :func:`backend`.  Op modules call through this object
    instead of importing the package face, which they stand below; each name is looked up once and
    then bound on the instance, so a call costs what a module attribute does."""

    def __getattr__(self, name):
        spec = OPS.get(name)
        if spec is not None:
            value = spec.public
        elif name == "backend":
            value = backend
        elif not name.startswith("_") and callable(getattr(config, name, None)):
            value = getattr(config, name)
        else:
            raise AttributeError(f"K has no function {name!r}")
        setattr(self, name, value)
        return value


#: The namespace composite op bodies call through: ``from .._dispatch import K``.
K = Namespace()


@contextlib.contextmanager
def backend_scope(name: str) -> Iterator["Backend"]:
    """Run the enclosed block on backend ``name`` (this thread / async task only).

    Args:
        name: 'numpy', 'torch', 'jax', 'tensorflow', 'pytensor' or 'theano'.

    Raises:
        ValueError: ``name`` is not a known backend; ImportError when its engine is not installed.

    >>> import kbackend as K
    >>> with K.backend_scope('numpy'):
    ...     K.backend()
    'numpy'
    """
    backend = get_backend(name)
    backend.load()
    token = _current.set(backend)
    try:
        yield backend
    finally:
        _current.reset(token)
