"""The PyTensor variable, conversions, and the two ways every op runs: traced or eager.

PyTensor is graph-first: an op applied to ``pytensor.tensor`` variables builds a graph, and only
``pytensor.function`` computes.  Each backend function here is written once, on PyTensor variables.

* **Traced** (inside ``K.function``'s runner, :func:`tracing`): the function is called on PyTensor
  variables and returns PyTensor variables; the runner compiles the whole graph into one
  ``pytensor.function``.
* **Eager** (everywhere else): :func:`eager` builds the op's graph on typed stand-in inputs (one per
  tensor argument: dtype and shape), compiles it once with the Python linker and no graph rewriting
  (about 5 ms, no C compiler involved), caches it under the op, the inputs' dtypes and shapes and the
  other (static) arguments, and calls it on the values.  Eager results are NumPy arrays; a repeated call
  costs a cache look-up and one call of the compiled function (about 30–40 µs).

Variables are PyTensor shared variables (:class:`Variable`); their Python operators act on the current
value when eager, build PyTensor graph when traced, and are recorded in graph mode.
"""

import contextlib
import numbers
import threading

import numpy as np

import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import Mode
from pytensor.graph.basic import Variable as _GraphVariable
from pytensor.tensor.sharedvar import TensorSharedVariable
from pytensor.tensor.special import log_softmax

from ... import config
from ..._dispatch import OPS, backend_scope, install_operators
from ...dtypes import canonical_dtype, numpy_dtype
from ...ops.namespace import namespace
from ...sparse import is_scipy_sparse

#: Eager one-op graphs: no rewrites, Python implementations (a C compile per op would cost seconds).
EAGER_MODE = Mode(linker="py", optimizer="fast_compile")
#: ``K.function``: the full rewrite pipeline and the C virtual machine, as Theano compiled Keras 2 graphs.
FUNCTION_MODE = Mode(linker="cvm", optimizer="fast_run")
#: Graphs with float16 values: PyTensor 3.0.7's C code for a reduction fused with the elementwise ops
#: before it (``local_careduce_fusion``) sums float16 wrongly (10% off), so that rewrite is left out.
HALF_FUNCTION_MODE = FUNCTION_MODE.excluding("local_careduce_fusion")

_state = threading.local()


def is_tracing():
    return getattr(_state, "depth", 0) > 0


@contextlib.contextmanager
def tracing():
    """Backend functions called in this block build PyTensor graph instead of computing."""
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1


def is_graph(x):
    """True for a PyTensor graph variable (shared variables included)."""
    return isinstance(x, _GraphVariable)


# ---------------------------------------------------------------------------------------------------
# the variable


class Variable(TensorSharedVariable):
    """A named, trainable PyTensor shared variable."""

    __array_priority__ = 2000
    __array_ufunc__ = None  # NumPy operators defer to the reflected methods below

    constraint = None
    trainable = True

    @property
    def value(self):
        return self.get_value(borrow=True)

    @value.setter
    def value(self, new):
        self.set_value(new, borrow=True)

    def __array__(self, dtype=None, copy=None):
        array = self.get_value(borrow=True)
        if dtype is not None and dtype != array.dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    shape = property(lambda self: self.get_value(borrow=True).shape if not is_tracing() else
                     TensorSharedVariable.shape.fget(self))
    ndim = property(lambda self: self.type.ndim)
    size = property(lambda self: self.get_value(borrow=True).size if not is_tracing() else
                    TensorSharedVariable.size.fget(self))

    def __len__(self):
        return len(self.get_value(borrow=True))

    def __float__(self):
        return float(self.get_value(borrow=True))

    def __int__(self):
        return int(self.get_value(borrow=True))

    def __index__(self):
        return self.get_value(borrow=True).__index__()

    def __bool__(self):
        return bool(self.get_value(borrow=True))

    __hash__ = TensorSharedVariable.__hash__

    def numpy(self):
        return np.array(self.get_value(borrow=True))

    def __repr__(self):
        value = self.get_value(borrow=True)
        body = np.array2string(value, separator=", ", prefix="  ")
        return (f"<kbackend.Variable {self.name!r} shape={value.shape} "
                f"dtype={canonical_dtype(value.dtype)}\n  {body}>")


def new_variable(array, name, constraint=None):
    array = np.asarray(array)
    if array.dtype.kind == "V":
        raise TypeError(f"variable: the pytensor backend has no {array.dtype} variables (PyTensor has no such "
                        "type); expected float16, float32 or float64")
    variable = Variable(type=pt.TensorType(array.dtype, shape=array.shape), value=array.copy(), strict=False,
                        name=name)
    variable.constraint = constraint
    return variable


def _eager(name, fn, reflected):
    """Operator ``name`` outside graph recording: PyTensor graph while a function is traced, else
    computed on the current value."""
    graph = getattr(TensorSharedVariable, f"__{'r' if reflected else ''}{name}__", None)

    def method(self, *others):
        if is_tracing():
            if name != "getitem":  # an index stays as it is
                others = tuple(weak_operands((self,) + others)[1:])
            return graph(self, *others) if graph is not None else fn(*((others[0], self) if reflected else
                                                                       (self,) + others))
        values = [concrete(v) for v in others]
        args = (values[0], self.get_value(borrow=True)) if reflected else (self.get_value(borrow=True),) + tuple(values)
        return fn(*args)

    return method


install_operators(Variable, _eager)  # recorded while graphs are built (see kbackend._dispatch.OPERATORS)


def concrete(value):
    """An eager value as NumPy: variables give their current value."""
    if value.__class__ is Variable:
        return value.get_value(borrow=True)
    return value


# ---------------------------------------------------------------------------------------------------
# conversion (traced)


_INT32 = np.iinfo(np.int32)


def from_python(value):
    """A Python number or (nested) list as an array: floats become ``floatx()``, ints int32 (as in TF)."""
    array = np.asarray(value)
    if array.dtype == np.float64:
        return array.astype(numpy_dtype(config._floatx))
    if array.dtype == np.int64 and (array.size == 0 or _INT32.min <= array.min() and array.max() <= _INT32.max):
        return array.astype(np.int32)
    return array


def to_pt(x):
    """A PyTensor variable for any input: graph variables pass, arrays become constants."""
    if isinstance(x, _GraphVariable):
        return x
    if isinstance(x, (np.ndarray, np.generic)):
        x = np.asarray(x)
        return pt.constant(x.astype(np.float32) if x.dtype.kind == "V" else x)  # no bfloat16 in PyTensor
    if is_scipy_sparse(x):
        return pt.constant(x.toarray())
    if isinstance(x, (list, tuple)) and any(isinstance(v, (_GraphVariable, list, tuple)) for v in x):
        return pt.stack(weak_operands([to_pt(v) if isinstance(v, (list, tuple)) else v for v in x]))
    if hasattr(x, "__array__") and not isinstance(x, (list, tuple, numbers.Number)):
        return pt.constant(np.asarray(x))
    return pt.constant(from_python(x))


def weak_operands(args):
    """Operands of a Python operator: a Python number beside a graph value takes its dtype (NumPy's
    weak scalars, the reference's rule), where PyTensor would compute ``0.1 * x`` in float64."""
    graphs = [a for a in args if isinstance(a, _GraphVariable)]
    if not graphs:
        return [to_pt(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in args]
    like = graphs[0].dtype
    out = []
    for a in args:
        if (a.__class__ is float and like.startswith("float")
                or a.__class__ is int and like.startswith(("int", "uint", "float"))):
            a = pt.constant(np.asarray(a, dtype=like))
        elif isinstance(a, (np.ndarray, np.generic)):
            a = to_pt(a)
        out.append(a)
    return out


def is_number(value):
    cls = value.__class__
    return cls is float or cls is int


def as_type(x, dtype):
    dtype = str(np.dtype(dtype)) if not isinstance(dtype, str) else dtype
    return x if x.dtype == dtype else pt.cast(x, dtype)


#: pytensor.tensor mirrors NumPy's names: the reference bodies written against ``xp`` build graphs on it.
PYTENSOR = namespace("pytensor.tensor", pt, tensor=to_pt, owned=to_pt, value=to_pt, out=lambda result: result,
                     cast=as_type, asarray=pt.as_tensor_variable, log_softmax=log_softmax)


def pt_dtype(name):
    """PyTensor's dtype string for a canonical dtype name."""
    if name == "bfloat16":  # no such PyTensor type: computed in float32 (eager results are cast back)
        return "float32"
    if name == "string":
        raise TypeError("the pytensor backend has no string tensors")
    return str(np.dtype(numpy_dtype(name)))


# ---------------------------------------------------------------------------------------------------
# eager execution: one cached pytensor.function per op and argument signature


def _is_eager_tensor(value):
    cls = value.__class__
    return cls is np.ndarray or cls is Variable or isinstance(value, np.generic)


def _key(value, tensors):
    """The cache key of one argument; tensor leaves are collected (by value) into ``tensors``."""
    if _is_eager_tensor(value):
        array = concrete(value)
        if array.__class__ is not np.ndarray:
            array = np.asarray(array)
        if array.dtype.kind == "V":  # bfloat16: PyTensor has no such type; computed in float32
            array = array.astype(np.float32)
            tensors.append(array)
            return ("T", "bfloat16", array.shape)
        tensors.append(array)
        return ("T", array.dtype.str, array.shape)
    cls = value.__class__
    if cls is list or cls is tuple:
        return (cls.__name__,) + tuple(_key(v, tensors) for v in value)
    if cls is float:
        return ("f", value)
    if value is None or cls in (int, bool, str):
        return value
    if is_scipy_sparse(value):
        array = value.toarray()
        tensors.append(array)
        return ("T", array.dtype.str, array.shape)
    if cls is dict:
        return ("d",) + tuple((k, _key(v, tensors)) for k, v in value.items())
    try:
        hash(value)
        return (cls, value)
    except TypeError:
        return (cls, id(value))


def _stand_ins(value, inputs):
    """The argument with each tensor leaf replaced by a typed PyTensor input (appended to ``inputs``)."""
    if _is_eager_tensor(value) or is_scipy_sparse(value):
        array = np.asarray(concrete(value)) if not is_scipy_sparse(value) else \
            value.toarray()
        if array.dtype.kind == "V":
            array = array.astype(np.float32)
        stand_in = pt.tensor(dtype=array.dtype, shape=array.shape)
        inputs.append(stand_in)
        return stand_in
    cls = value.__class__
    if cls is list or cls is tuple:
        return cls(_stand_ins(v, inputs) for v in value)
    if cls is dict:
        return {k: _stand_ins(v, inputs) for k, v in value.items()}
    return value


def flatten(value, leaves):
    """The structure of an op's result with its graph variables collected into ``leaves``."""
    if isinstance(value, _GraphVariable):
        leaves.append(value)
        return _LEAF
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(flatten(v, leaves) for v in value)
    return value


def rebuild(template, values):
    if template is _LEAF:
        return next(values)
    if isinstance(template, (list, tuple)):
        return type(template)(rebuild(t, values) for t in template)
    return template


class _Leaf:
    __slots__ = ()


_LEAF = _Leaf()


def expected_dtypes(name, args):
    """The output dtypes of the NumPy reference for these (eager) arguments, leaf by leaf."""
    plain = [_map_values(concrete, a) for a in args]
    with backend_scope("numpy"), np.errstate(all="ignore"):
        result = OPS[name].reference(*plain)
    found = []
    _collect_dtypes(result, found)
    return found


def _map_values(fn, value):
    if value.__class__ is list or value.__class__ is tuple:
        return value.__class__(_map_values(fn, v) for v in value)
    return fn(value)


def _collect_dtypes(value, found):
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        for v in value:
            _collect_dtypes(v, found)
    elif isinstance(value, (np.ndarray, np.generic)):
        found.append(value.dtype)
    elif hasattr(value, "value") and hasattr(value, "name"):  # a reference variable
        found.append(np.asarray(value.value).dtype)
    else:
        found.append(None)


def _is_bfloat16(dtype):
    return dtype is not None and (dtype.kind == "V" or dtype.name == "bfloat16")


class _Compiled:
    __slots__ = ("function", "template", "dtypes")

    def __init__(self, function, template, dtypes):
        self.function = function
        self.template = template
        self.dtypes = dtypes


def eager(fn, name):
    """The op ``name``'s public implementation: ``fn`` itself when traced or when an argument is a graph
    variable, else the cached compiled graph of ``fn`` run on the values."""
    cache = {}

    def run(*args):
        if is_tracing():
            return fn(*args)
        tensors = []
        key = tuple(_key(a, tensors) for a in args)
        compiled = cache.get(key)
        if compiled is None:
            compiled = cache[key] = _compile(fn, name, args)
        if compiled.function is None:
            return compiled.template
        outputs = compiled.function(*tensors)
        if compiled.dtypes is not None:  # bfloat16 results, cast from float32 by NumPy
            outputs = [o if d is None else o.astype(d) for o, d in zip(outputs, compiled.dtypes)]
        return rebuild(compiled.template, iter(outputs))

    run.__name__ = run.__qualname__ = name
    run.__wrapped__ = fn
    run.cache = cache
    return run


def _compile(fn, name, args):
    # The reference runs first on the values: it decides the result dtypes, and an argument it
    # refuses raises its error (the same on every engine) before any graph is built.
    dtypes = expected_dtypes(name, args)
    inputs = []
    stand_ins = [_stand_ins(a, inputs) for a in args]
    with tracing():
        result = fn(*stand_ins)
    leaves = []
    template = flatten(result, leaves)
    if not leaves:
        return _Compiled(None, template, None)
    post = None
    if len(dtypes) == len(leaves):
        leaves = [as_type(leaf, dtype) if dtype is not None and not _is_bfloat16(dtype) else leaf
                  for leaf, dtype in zip(leaves, dtypes)]
        if any(_is_bfloat16(d) for d in dtypes):
            post = [d if _is_bfloat16(d) else None for d in dtypes]
    function = pytensor.function(inputs, leaves, mode=EAGER_MODE, on_unused_input="ignore",
                                 accept_inplace=True)
    return _Compiled(function, template, post)


_graph_cache = {}


def evaluate_graph(x):
    """``K.eval`` of a PyTensor expression a user built: compiled once per expression."""
    function = _graph_cache.get(x)
    if function is None:
        function = _graph_cache[x] = pytensor.function([], x, mode=EAGER_MODE)
    return function()
