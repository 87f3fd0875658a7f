"""Tensor conversion, dtypes, the torch Variable, and the variable / introspection ops.

The other topic modules import their conversion helpers from here: ``to_tensor`` (any input → tensor,
no copy where possible), ``DTYPES`` (canonical name → torch dtype) and ``NAMES`` (the reverse).
"""


import numpy as np
import torch

from ... import config
from ...dtypes import canonical_dtype, from_python, numpy_dtype
from ...ops.array_bodies import filled_ops, keras_tensor_ops
from ...sparse import is_scipy_sparse

Tensor = torch.Tensor

DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64,
    "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
    "uint8": torch.uint8, "uint16": torch.uint16, "uint32": torch.uint32, "uint64": torch.uint64,
    "bool": torch.bool, "complex64": torch.complex64, "complex128": torch.complex128,
}
NAMES = {torch_dtype: name for name, torch_dtype in DTYPES.items()}
_INT32 = np.iinfo(np.int32)


def _bfloat16():
    import ml_dtypes

    return np.dtype(ml_dtypes.bfloat16)


def from_numpy(array, device=None):
    """A tensor sharing memory with ``array`` where torch allows it (bfloat16 through an int16 view)."""
    if not array.flags.writeable or any(s < 0 for s in array.strides):
        array = array.copy()
    if array.dtype.kind == "V" and array.dtype.name == "bfloat16":
        return torch.as_tensor(array.view(np.int16), device=device).view(torch.bfloat16)
    if array.dtype.kind in "OSU":
        raise TypeError(f"kbackend torch: cannot make a tensor from a NumPy array of dtype {array.dtype}")
    return torch.as_tensor(array, device=device)


def to_tensor(x, device=None):
    """``x`` as a tensor: tensors (variables included) pass through, NumPy arrays and scalars keep their
    dtype, Python numbers and lists take TensorFlow's types (floats → ``floatx()``, ints → int32)."""
    if isinstance(x, Tensor):
        return x
    if x.__class__ is np.ndarray or isinstance(x, np.generic):
        return from_numpy(np.asarray(x), device)
    if is_scipy_sparse(x):
        return from_numpy(x.toarray(), device)
    if x.__class__ in (list, tuple) and any(isinstance(v, Tensor) for v in x):
        return torch.stack([to_tensor(v, device) for v in x])
    if hasattr(x, "__array__"):
        return from_numpy(np.asarray(x), device)
    array = np.asarray(x)
    if array.dtype == np.float64:
        return from_numpy(array, device).to(DTYPES[config._floatx])
    if array.dtype == np.int64 and (array.size == 0 or _INT32.min <= array.min() and array.max() <= _INT32.max):
        return from_numpy(array, device).to(torch.int32)
    return from_numpy(array, device)


def as_numpy_tensor(x):
    """``x`` as a tensor, converting non-tensors exactly as ``np.asarray`` does (Python floats → float64)."""
    if isinstance(x, Tensor):
        return x
    if is_scipy_sparse(x):
        x = x.toarray()
    return from_numpy(np.asarray(x))


def to_numpy(x):
    """The value of tensor ``x`` as a NumPy array (shares memory with a CPU tensor)."""
    if x.requires_grad:
        x = x.detach()
    try:
        return x.numpy()
    except (TypeError, RuntimeError):
        pass
    if x.layout is not torch.strided:
        x = x.to_dense()
    if x.device.type != "cpu":
        x = x.cpu()
    if x.dtype is torch.bfloat16:
        return x.view(torch.int16).numpy().view(_bfloat16())
    return x.resolve_conj().resolve_neg().numpy()


class Variable(torch.nn.Parameter):
    """A named, mutable tensor: a ``torch.nn.Parameter`` (so autograd and ``nn.Module`` see it) that
    requires grad when trainable and floating.  Operators and torch functions return plain tensors."""

    # TensorBase.name is a read-only slot; a plain class attribute here lets each variable carry its own.
    name = None

    def __new__(cls, data, name, constraint=None, trainable=True):
        requires_grad = bool(trainable) and (data.is_floating_point() or data.is_complex())
        self = Tensor._make_subclass(cls, data.detach(), requires_grad)
        self.name = name
        self.constraint = constraint
        self.trainable = trainable
        return self

    def __init__(self, *args, **kwargs):
        pass

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            data = self.data.clone(memory_format=torch.preserve_format)
            memo[id(self)] = Variable(data, self.name, self.constraint, self.trainable)
        return memo[id(self)]

    def __reduce_ex__(self, proto):
        return _rebuild_variable, (self.data, self.name, self.constraint, self.trainable)

    def __array__(self, dtype=None, copy=None):
        array = to_numpy(self)
        if dtype is not None and dtype != array.dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __repr__(self):
        return (f"<kbackend.Variable {self.name!r} shape={tuple(self.shape)} dtype={NAMES[self.dtype]}\n"
                f"  {self.data!r}>")



def _rebuild_variable(data, name, constraint, trainable):
    return Variable(data, name, constraint, trainable)


def _name(name, prefix):
    return name if name is not None else f"{prefix}_{config.get_uid(prefix)}"


def _fresh(value, dtype):
    """A new tensor (never aliasing ``value``) of ``dtype``; tensors keep their device, the rest go to
    torch's default device."""
    return as_numpy_tensor(value).detach().to(DTYPES[dtype], copy=True)


def feed(value, dtype):
    """A value fed to ``K.function`` as a tensor of the placeholder's dtype, sharing memory with a
    NumPy array where it can (the graph never writes to its inputs)."""
    if value.__class__ is np.ndarray and value.dtype is _FEEDABLE.get(dtype) and value.flags.writeable:
        try:
            return torch.as_tensor(value)
        except ValueError:  # negative strides
            pass
    return as_numpy_tensor(value).to(DTYPES[dtype])


#: NumPy dtypes that torch takes as they are (bfloat16 has no NumPy counterpart in torch).
_FEEDABLE = {name: np.dtype(name) for name in DTYPES if name not in ("bfloat16", "uint16", "uint32", "uint64")}


def is_sparse(tensor):
    return isinstance(tensor, Tensor) and tensor.layout is not torch.strided


# torch: sparse layouts densify through to_dense
def to_dense(tensor):
    if isinstance(tensor, Tensor) and tensor.layout is not torch.strided:
        return tensor.to_dense()
    if isinstance(tensor, (list, tuple)):
        return to_tensor(tensor)
    return tensor


def variable(value, dtype=None, name=None, constraint=None):
    return Variable(_fresh(value, dtype), _name(name, "variable"), constraint)


def is_variable(x):
    return x.__class__ is Variable


# torch: a fresh tensor (never sharing the caller's memory), broadcast or reshaped
def constant(value, dtype=None, shape=None, name=None):
    tensor = _fresh(value, dtype)
    if shape is not None:
        shape = tuple(shape)
        tensor = tensor.expand(shape).clone() if tensor.numel() == 1 else tensor.reshape(shape)
    return tensor


def is_tensor(x):
    return isinstance(x, Tensor)


is_keras_tensor, is_placeholder = keras_tensor_ops(is_tensor)


def shape(x):
    return torch.tensor(tuple(x.shape) if isinstance(x, Tensor) else np.shape(x), dtype=torch.int32)


def int_shape(x):
    return tuple(x.shape) if isinstance(x, Tensor) else np.shape(x)


def ndim(x):
    return x.dim() if isinstance(x, Tensor) else np.ndim(x)


def size(x, name=None):
    return torch.tensor(x.numel() if isinstance(x, Tensor) else np.size(x), dtype=torch.int32)


def dtype(x):
    return NAMES[x.dtype] if isinstance(x, Tensor) else canonical_dtype(from_python(x).dtype)


# torch: host NumPy values, copied for a variable
def eval(x):
    if isinstance(x, Tensor):
        array = to_numpy(x)
        return array.copy() if x.__class__ is Variable else array
    return np.asarray(x)


zeros, ones, eye = filled_ops(lambda kind, shape, dtype: getattr(torch, kind)(shape, dtype=DTYPES[dtype]),
                              lambda rows, cols, dtype: torch.eye(rows, cols, dtype=DTYPES[dtype]),
                              lambda value, name: Variable(value, _name(name, "variable")))


def zeros_like(x, dtype=None, name=None):
    x = to_tensor(x)
    return torch.zeros_like(x, dtype=x.dtype if dtype is None else DTYPES[dtype])


def ones_like(x, dtype=None, name=None):
    x = to_tensor(x)
    return torch.ones_like(x, dtype=x.dtype if dtype is None else DTYPES[dtype])


def identity(x, name=None):
    return to_tensor(x).clone()


def default_device():
    return torch.get_default_device()


def generator_on(seed, device=None):
    """A torch.Generator on ``device`` (default: torch's default device) seeded from ``seed`` (None:
    from NumPy's global RNG, as Keras 2 did)."""
    if seed is None:
        seed = np.random.randint(10e8)
    return torch.Generator(default_device() if device is None else device).manual_seed(int(seed))


def _sampled(shape, dtype, fill):
    shape = tuple(int(d) for d in shape)
    target = DTYPES[dtype]
    if target.is_floating_point:
        return fill(torch.empty(shape, dtype=target))
    return fill(torch.empty(shape, dtype=torch.float64)).to(target)


# torch: values drawn by a torch.Generator seeded by the op's seed (both random variables)
def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    gen = generator_on(seed)
    values = _sampled(shape, dtype, lambda t: t.uniform_(low, high, generator=gen))
    return Variable(values, _name(name, "variable"))


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    gen = generator_on(seed)
    values = _sampled(shape, dtype, lambda t: t.normal_(mean, scale, generator=gen))
    return Variable(values, _name(name, "variable"))


def count_params(x):
    return np.int64(x.numel() if isinstance(x, Tensor) else np.size(x))


# torch: a NumPy value keeps its own dtype on the way in (as the reference casts from it); a variable is copied
def cast(x, dtype):
    if x.__class__ is not Tensor:
        x = as_numpy_tensor(x)
        if x.__class__ is Variable:
            return x.to(DTYPES[dtype], copy=True)
    return x.to(DTYPES[dtype])


def _value_for(x, value):
    """``value`` as a tensor on ``x``'s device (dtype left to ``copy_``, which casts)."""
    if isinstance(value, Tensor):
        return value if value.device == x.device else value.to(x.device)
    return to_tensor(value, x.device)


# torch: an in-place copy_ under no_grad (every update op)
def update(x, new_x):
    with torch.no_grad():
        x.copy_(_value_for(x, new_x))
    return x


# The updates work on the detached tensor: a variable's own Python operators would be recorded while
# graphs are being built.


def update_add(x, increment):
    with torch.no_grad():
        x.copy_(x.detach() + _value_for(x, increment))
    return x


def update_sub(x, decrement):
    with torch.no_grad():
        x.copy_(x.detach() - _value_for(x, decrement))
    return x


def moving_average_update(x, value, momentum):
    with torch.no_grad():
        current = x.detach()
        x.copy_(current - (current - _value_for(x, value)) * (1 - momentum))
    return x


# torch: as update, from a NumPy value in the variable's dtype
def set_value(x, value):
    if not isinstance(value, Tensor):
        value = np.asarray(value, dtype=numpy_dtype(NAMES[x.dtype]))
    value = _value_for(x, value).detach().to(x.dtype)
    with torch.no_grad():
        if value.shape == x.shape:
            x.copy_(value)
        else:
            x.data = value.clone()


def batch_set_value(tuples):
    for x, value in tuples:
        set_value(x, value)
