"""JAX arrays: the variable, input conversion and the 64-bit scope every op runs through (the K
functions of the variables topic are in :mod:`.variables`).

JAX arrays are immutable, so a :class:`Variable` is a named holder whose one attribute ``value`` is
rebound by ``update``/``set_value``; a tracing layer can substitute tracers for ``value`` and take
``jax.grad`` of a function of the variables.  Variables are also pytree nodes (their one leaf is
``value``), so ``jax.jit``/``jax.grad`` accept and return them.
"""

import numbers

import numpy as np

import jax
import jax.numpy as jnp
from jax import Array as _JaxArray

from ... import config
from ..._dispatch import compile_function, install_operators
from ...dtypes import canonical_dtype
from ...dtypes import from_python as python_array
from ...ops.namespace import namespace
from ...ops.variable import HeldValue

ArrayImpl = type(jnp.zeros(()))
_enable_x64 = jax.enable_x64
_matmul_precision = jax.default_matmul_precision

#: Canonical dtype names that JAX only honours while x64 is enabled.
WIDE_NAMES = frozenset(("float64", "int64", "uint64", "complex128"))


def x64_enabled():
    return _enable_x64.value


class Variable(HeldValue):
    """A named, trainable holder of a ``jax.Array``; every op and Python operator sees its ``value``."""

    __array_priority__ = 100
    __array_ufunc__ = None  # NumPy operators defer to the reflected methods below

    def __init__(self, value, name, constraint=None, trainable=True):
        self.value = value
        self.name = name
        self.constraint = constraint
        self.trainable = trainable

    def __jax_array__(self):
        return self.value

    def __array__(self, dtype=None, copy=None):
        array = np.asarray(self.value)
        if dtype is not None and dtype != array.dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __index__(self):
        return self.value.__index__()

    def numpy(self):
        return np.array(self.value)

    def assign(self, value):
        """Replace the held value by ``value`` cast and broadcast to this variable's dtype and shape."""
        value = jnp.asarray(unwrap(value), dtype=self.value.dtype)
        if value.shape != self.value.shape:
            value = jnp.broadcast_to(value, self.value.shape)
        self.value = value
        return self

    def __repr__(self):
        body = np.array2string(np.asarray(self.value), separator=", ", prefix="  ")
        return (f"<kbackend.Variable {self.name!r} shape={self.value.shape} "
                f"dtype={canonical_dtype(self.value.dtype)}\n  {body}>")


jax.tree_util.register_pytree_node(
    Variable,
    lambda v: ((v.value,), (v.name, v.constraint, v.trainable)),
    lambda aux, children: Variable(children[0], *aux),
)


def unwrap(value):
    return value.value if value.__class__ is Variable else value


def _eager(name, python_operator, reflected):
    """Operator ``name`` on the held value, through ``jax.numpy`` in the 64-bit scope of its operands."""
    if name == "getitem":
        return lambda self, index: self.value[index]
    fn = scoped(_JNP[name])
    if name in ("neg", "pos", "abs", "invert"):
        return lambda self: fn(self.value)

    def method(self, other):
        other = unwrap(other)
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        return fn(other, self.value) if reflected else fn(self.value, other)

    return method


# ---------------------------------------------------------------------------------------------------
# conversion


def to_jax(x):
    """A ``jax.Array`` (or tracer) for any input: arrays pass, variables unwrap, the rest converts."""
    cls = x.__class__
    if cls is ArrayImpl:
        return x
    if cls is Variable:
        return x.value
    if isinstance(x, _JaxArray):
        return x
    if cls is np.ndarray or isinstance(x, np.generic) or hasattr(x, "__jax_array__"):
        return jnp.asarray(x)
    return from_python(x)


def is_tracer(x):
    """True for a value being traced by ``jax.jit``/``grad``/``scan`` (a ``jax.Array`` with no data)."""
    return x.__class__ is not ArrayImpl and isinstance(x, _JaxArray)


def operand(x):
    """An operand of a ``promote`` op: a Python number stays weakly typed in JAX (it takes the other
    operand's dtype, which the policy made sure it fits)."""
    return x if x.__class__ in (int, float, bool) else to_jax(x)


_INT32 = np.iinfo(np.int32)


def cast(x, dtype):
    """``x`` as ``dtype``; no op at all when it already is (``astype`` costs a dispatch even then)."""
    if x.__class__ in (bool, int, float, complex):  # a Python scalar, as to_jax leaves it
        return jnp.asarray(x, dtype=dtype)
    return x if x.dtype == dtype else x.astype(dtype)


#: CPUs multiply float32 at full precision whatever is asked; accelerators would use TF32 by default.
_ACCELERATED = jax.default_backend() != "cpu"


def precision():
    """Matrix products and convolutions keep float32 accuracy on accelerators unless the user chose a
    precision through JAX's own ``jax_default_matmul_precision``."""
    if _ACCELERATED and _matmul_precision.value is None:
        return jax.lax.Precision.HIGHEST
    return None


def from_python(value):
    """A Python number or (nested) list as a tensor: floats become ``floatx()``, ints int32 (as in TF)."""
    array = np.asarray(value)
    if array.dtype == np.float64:
        return jnp.asarray(array, dtype=jax_dtype(config._floatx))
    if array.dtype == np.int64 and (array.size == 0 or _INT32.min <= array.min() and array.max() <= _INT32.max):
        return jnp.asarray(array, dtype=jnp.int32)
    return jnp.asarray(array)


_DTYPES = {}


def jax_dtype(name):
    """The JAX dtype for a canonical dtype name."""
    try:
        return _DTYPES[name]
    except KeyError:
        if name == "string":
            raise TypeError("the jax backend has no string tensors") from None
        dtype = _DTYPES[name] = jnp.dtype(name)
        return dtype


#: jax.numpy mirrors NumPy: the reference bodies written against ``xp`` run on it unchanged.
JAX = namespace("jax.numpy", jnp, tensor=to_jax, owned=to_jax, value=operand, out=lambda result: result, cast=cast,
                log_softmax=jax.nn.log_softmax)


def dtype_name(x):
    """Canonical dtype name of a tensor, variable or array-like."""
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        dtype = python_array(x).dtype  # Python values take Keras 2's types
    return canonical_dtype(dtype)


# ---------------------------------------------------------------------------------------------------
# the 64-bit scope


def _is_wide(value):
    cls = value.__class__
    if cls is ArrayImpl or cls is np.ndarray:
        return value.dtype.itemsize == 8 and value.dtype.kind != "c" or value.dtype.itemsize == 16
    if cls is Variable:
        return _is_wide(value.value)
    if cls is str:
        return value in WIDE_NAMES
    if cls is list or cls is tuple:
        for item in value:
            if item.__class__ is not int and item is not None and _is_wide(item):
                return True
        return False
    if cls is float:
        return config._floatx == "float64"
    if cls is int or cls is bool or value is None:
        return False
    dtype = getattr(value, "dtype", None)
    if dtype is not None and not callable(dtype):
        try:
            return canonical_dtype(dtype) in WIDE_NAMES
        except TypeError:
            return False
    if cls is dict:
        return any(_is_wide(v) for v in value.values())
    return False


def scoped(fn):
    """Wrap a backend function: it runs with x64 enabled when any argument is 64-bit, else as it is."""

    def run(*args):
        for arg in args:
            cls = arg.__class__
            if cls is ArrayImpl:
                if arg.dtype.itemsize < 8:
                    continue
            elif cls is int or cls is bool or arg is None:
                continue
            if _is_wide(arg):
                if _enable_x64.value or _tracing(args):
                    break
                with _enable_x64(True):
                    return fn(*args)
        return fn(*args)

    run.__name__ = run.__qualname__ = fn.__name__
    run.__wrapped__ = fn
    return run


def always_x64(fn):
    """Mark a backend function whose result is 64-bit whatever its inputs (e.g. argmax → int64)."""
    fn._kbackend_scope = "x64"
    return fn


def unscoped(fn):
    """Mark a backend function that computes nothing on device (introspection), so needs no scope."""
    fn._kbackend_scope = "none"
    return fn


def _tracing(args):
    """Whether a trace started outside the 64-bit scope is under way: entering the scope in the middle
    would give it 64-bit values it cannot lower, so such a trace keeps JAX's 32-bit rule."""
    for arg in args:
        if is_tracer(arg) or arg.__class__ in (list, tuple) and any(is_tracer(a) for a in arg):
            return True
    return False


def in_x64(fn):
    def run(*args):
        if _enable_x64.value or _tracing(args):
            return fn(*args)
        with _enable_x64(True):
            return fn(*args)

    run.__name__ = fn.__name__
    run.__wrapped__ = fn
    return run


def _fast_scoped(fn, spec):
    """:func:`scoped` behind a check generated for op ``spec``'s signature: when every tensor argument
    is a ``jax.Array`` of at most 32 bits (or None, or a Python int) and no ``dtype`` argument names a
    64-bit type, ``fn`` is called at once; anything else takes the full check."""
    slow = scoped(fn)
    params = spec.signature.parameters
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params.values()):
        return slow
    header, call, tests, namespace = [], [], [], {"fn": fn, "slow": slow, "_A": ArrayImpl,
                                                  "_WIDE": WIDE_NAMES, "_PLAIN": (int, bool, type(None))}
    for i, (name, param) in enumerate(params.items()):
        arg = f"a{i}"
        call.append(arg)
        if param.default is param.empty:
            header.append(arg)
        else:
            namespace[f"_default{i}"] = param.default
            header.append(f"{arg}=_default{i}")
        if name == "dtype":
            tests.append(f"{arg} not in _WIDE")
        elif name in spec.tensor_params:
            tests.append(f"({arg}.__class__ is _A and {arg}.dtype.itemsize < 8 or {arg}.__class__ in _PLAIN)")
    args = ", ".join(call)
    source = (f"def {spec.name}({', '.join(header)}):\n"
              f"    if {' and '.join(tests) or 'True'}:\n"
              f"        return fn({args})\n"
              f"    return slow({args})\n")
    run = compile_function(source, spec.name, namespace, fn)
    run.__module__ = fn.__module__
    run.__qualname__ = fn.__qualname__
    run.__doc__ = fn.__doc__
    run.__wrapped__ = fn
    return run


def wrap(fn, spec):
    """The scope backend function ``fn`` of op ``spec`` runs in, chosen once when the backend loads."""
    scope = getattr(fn, "_kbackend_scope", None)
    if scope == "none":
        return fn
    if scope == "x64":
        return in_x64(fn)
    return _fast_scoped(fn, spec)


_OPERANDS = (_JaxArray, np.ndarray, np.generic, numbers.Number, list, tuple)

#: The ``jax.numpy`` function of each operator of :data:`kbackend._dispatch.OPERATORS`, and of ==, !=.
_JNP = {"add": jnp.add, "sub": jnp.subtract, "mul": jnp.multiply, "truediv": jnp.true_divide,
        "floordiv": jnp.floor_divide, "mod": jnp.remainder, "pow": jnp.power, "matmul": jnp.matmul,
        "and": jnp.bitwise_and, "or": jnp.bitwise_or, "xor": jnp.bitwise_xor, "lt": jnp.less,
        "le": jnp.less_equal, "gt": jnp.greater, "ge": jnp.greater_equal, "eq": jnp.equal,
        "ne": jnp.not_equal, "neg": jnp.negative, "pos": jnp.positive, "abs": jnp.abs, "invert": jnp.invert}

install_operators(Variable, _eager)
# == and != compare the held values and are never recorded (see OPERATORS).
Variable.__eq__ = _eager("eq", None, False)
Variable.__ne__ = _eager("ne", None, False)
