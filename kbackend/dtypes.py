"""Canonical dtype names shared by every backend.

A dtype crosses the public API as a string (``'float32'``), as Keras 2 did.  :func:`canonical_dtype`
accepts strings, NumPy dtypes and scalar types, Python types and engine dtype objects (anything whose
``str()`` ends in a known name, e.g. ``torch.float32``), and caches the answer so the hot path is a dict hit.
"""

from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

FLOATS = ("float16", "bfloat16", "float32", "float64")
INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
NAMES = FLOATS + INTS + ("bool", "complex64", "complex128", "string")

_ALIASES = {"float": "float32", "half": "float16", "double": "float64", "long": "int64", "int": "int32",
            "bool_": "bool", "boolean": "bool", "str": "string", "object": "string"}
_PY_TYPES = {float: None, int: "int32", bool: "bool", str: "string"}
_cache: Dict[Any, str] = {}


def floatx() -> str:
    """The default float type.  This module stands below the configuration and never imports it:
    :mod:`kbackend.config` installs its own ``floatx`` here when it loads."""
    return "float32"


def canonical_dtype(dtype: Any) -> str:
    """Return the canonical name of ``dtype``; ``float`` → floatx(); raise ``TypeError`` if unknown.

    >>> canonical_dtype(np.float64), canonical_dtype('int32'), canonical_dtype(bool)
    ('float64', 'int32', 'bool')
    """
    try:
        return _cache[dtype]
    except (KeyError, TypeError):
        pass
    if dtype is float:
        return floatx()
    name = _name_of(dtype)
    if name is None:
        raise TypeError(f"unknown dtype {dtype!r}; expected one of {', '.join(NAMES)}")
    try:
        _cache[dtype] = name
    except TypeError:
        pass
    return name


def _name_of(dtype):
    if dtype in _PY_TYPES and dtype is not float:
        return _PY_TYPES[dtype]
    if isinstance(dtype, str):
        text = dtype
    else:
        text = getattr(dtype, "name", None)
        if not isinstance(text, str):
            try:
                text = np.dtype(dtype).name
            except TypeError:
                text = str(dtype)
    text = text.rsplit(".", 1)[-1].strip("<>'\"")
    text = _ALIASES.get(text, text)
    if text.startswith("str") or text.startswith("bytes"):
        return "string"
    return text if text in NAMES else None


_INT32 = np.iinfo(np.int32)

#: The dtype categories an op declares (``@op(policy=...)`` in :mod:`kbackend._dispatch`, whose generated
#: function applies them before any engine runs, so no engine restates them):
#:
#: * ``promote`` (``maximum``, ``minimum``, ``pow``, comparisons, ``dot``, ``batch_dot``, ``concatenate``,
#:   ``batch_normalization``): tensors of different dtypes meet in :func:`promote` (an int or bool
#:   tensor meeting a float one takes the float's dtype; other mixes widen as NumPy does).  A Python
#:   number or NumPy scalar is weak: it takes the tensor's dtype, except a float meeting an int or bool
#:   tensor (``floatx()``, the float's own type) and an int meeting a bool tensor (int32).
#: * ``real`` (activations, ``sqrt``, ``exp``, ``log``, ``mean``, ``var``, ``std``…): bool and int
#:   inputs, Python numbers and lists become ``floatx()`` first.
#: * ``same``: the input's dtype (``max``, ``relu``, ``clip``…; sums of bools count in int64, as NumPy).
#: * ``bool``: comparisons and ``any``/``all``; ``int64``: ``argmax``/``argmin``.
#: * ``accumulate-half``: float16/bfloat16 inputs are computed in float32 and the result cast back.
#: * Python values that are not tensors yet take Keras 2's (TensorFlow's) types (:func:`from_python`).
POLICY = ("promote", "real", "same", "bool", "int64", "accumulate-half")


def promote(a: str, b: str) -> str:
    """The dtype name a binary op of dtype names ``a`` and ``b`` computes in (the ``promote`` rule).

    >>> promote('float32', 'int32'), promote('int32', 'float16'), promote('float32', 'float64')
    ('float32', 'float16', 'float64')
    """
    if a == b:
        return a
    try:
        return _PROMOTED[a, b]
    except KeyError:
        pass
    if b in INTS or b == "bool":
        if a in FLOATS:
            name = a
        else:
            name = canonical_dtype(np.result_type(numpy_dtype(a), numpy_dtype(b)))
    elif a in INTS or a == "bool":
        name = b if b in FLOATS else canonical_dtype(np.result_type(numpy_dtype(a), numpy_dtype(b)))
    else:
        name = canonical_dtype(np.result_type(numpy_dtype(a), numpy_dtype(b)))
    _PROMOTED[a, b] = name
    return name


_PROMOTED: Dict[Tuple[str, str], str] = {}


def result_dtype(policy: Sequence[str], operands: Sequence[str]) -> Optional[str]:
    """The dtype name of an op's result by its declared ``policy`` (see :data:`POLICY`), from the dtype
    names of its tensor operands in signature order, as the op receives them (the policy's casts done).

    ``bool`` and ``int64`` ops return that dtype; ``promote`` ops the promotion of their operands;
    ``same`` and ``real`` ops their first operand's dtype (an accumulating ``same`` op counts bools in
    int64, as NumPy's sums); an op that declares neither keeps its operands' dtype when they share one.
    None when the policy does not decide it (the op's body does).

    >>> result_dtype(('promote',), ('float32', 'float64')), result_dtype(('same', 'accumulate-half'), ('bool',))
    ('float64', 'int64')
    """
    if "bool" in policy:
        return "bool"
    if "int64" in policy:
        return "int64"
    if not operands:
        return None
    first = operands[0]
    if "promote" in policy:
        for name in operands[1:]:
            first = promote(first, name)
        return first
    if "same" in policy or "real" in policy:
        return "int64" if first == "bool" and "accumulate-half" in policy else first
    return first if all(name == first for name in operands) else None


def from_python(x: Any) -> np.ndarray:
    """A Python value (number, bool, list, tuple) as a NumPy array with TensorFlow's (Keras 2's) types:
    floats → ``floatx()``, ints → int32 (int64 when they do not fit), bools → bool.  Anything with a
    dtype of its own (NumPy arrays and scalars, engine tensors) keeps it.  The one rule of the NumPy
    engine for values that are not tensors yet (the other engines' ``to_tensor`` follow it too)."""
    if isinstance(x, np.generic) or hasattr(x, "__array__"):
        return np.asarray(x)
    array = np.asarray(x)
    if array.dtype == np.float64:
        default = floatx()
        return array.astype(numpy_dtype(default)) if default != "float64" else array
    if array.dtype == np.int64 and (array.size == 0 or _INT32.min <= array.min() and array.max() <= _INT32.max):
        return array.astype(np.int32)
    return array


def is_float(name: str) -> bool:
    return name in FLOATS


def numpy_dtype(name: str) -> np.dtype:
    """The NumPy dtype for a canonical name; bfloat16 comes from ``ml_dtypes`` (installed with JAX/TF)."""
    if name == "bfloat16":
        try:
            import ml_dtypes
        except ImportError:
            raise TypeError("bfloat16 on NumPy needs the ml_dtypes package: pip install ml_dtypes") from None
        return np.dtype(ml_dtypes.bfloat16)
    if name == "string":
        return np.dtype(object)
    return np.dtype(name)


def is_floating(dtype: Any) -> bool:
    """Any float NumPy dtype, bfloat16 included."""
    return dtype.kind == "f" or dtype.char == "E"
