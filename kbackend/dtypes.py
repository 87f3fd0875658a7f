"""Canonical dtype names shared by every backend.

A dtype crosses the public API as a string (``'float32'``), as Keras 2 did.  :func:`canonical_dtype`
accepts strings, NumPy dtypes and scalar types, Python types and engine dtype objects (anything whose
``str()`` ends in a known name, e.g. ``torch.float32``), and caches the answer so the hot path is a dict hit.
"""

import numpy as np

FLOATS = ("float16", "bfloat16", "float32", "float64")
INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
NAMES = FLOATS + INTS + ("bool", "complex64", "complex128", "string")

_ALIASES = {"float": "float32", "half": "float16", "double": "float64", "long": "int64", "int": "int32",
            "bool_": "bool", "boolean": "bool", "str": "string", "object": "string"}
_PY_TYPES = {float: None, int: "int32", bool: "bool", str: "string"}
_cache = {}


class _BadDtype(Exception):
    pass


def canonical_dtype(dtype):
    """Return the canonical name of ``dtype``; ``float`` → floatx(); raise ``TypeError`` if unknown.

    >>> canonical_dtype(np.float64), canonical_dtype('int32'), canonical_dtype(bool)
    ('float64', 'int32', 'bool')
    """
    try:
        return _cache[dtype]
    except (KeyError, TypeError):
        pass
    if dtype is float:
        from .config import floatx

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


def is_float(name):
    return name in FLOATS


def is_int(name):
    return name in INTS


def numpy_dtype(name):
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


def dtype_name_of_array(array):
    """Canonical dtype name of a NumPy array (``'bfloat16'`` included)."""
    return canonical_dtype(array.dtype)


def is_half(dtype):
    """float16 or bfloat16 (a NumPy dtype; ``dtype.name`` is slow, so look at kind and size)."""
    return dtype.itemsize == 2 and (dtype.kind == "f" or dtype.char == "E")


def is_floating(dtype):
    """Any float NumPy dtype, bfloat16 included."""
    return dtype.kind == "f" or dtype.char == "E"
