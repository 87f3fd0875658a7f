"""Global Keras configuration: floatx, epsilon, image data format, backend name, uids, learning phase.

The values start from Keras 2's defaults, are overridden by ``keras.json`` and then by ``KERAS_BACKEND``,
and are always read at call time, so a setter called after import changes what later calls produce.

Reading the configuration never writes anything: Keras 2 created ``~/.keras/keras.json`` on first import,
which silently switched every other Keras install on the machine.  Here a file is written only through
:func:`write_config` (``python -m kbackend config set KEY VALUE``), atomically and keeping foreign keys.
"""

import json
import numbers
import os
import tempfile
import threading
import warnings

import numpy as np

FLOATX_CHOICES = ("float16", "bfloat16", "float32", "float64")
DATA_FORMATS = ("channels_first", "channels_last")
ENGINES = ("numpy", "torch", "jax", "tensorflow", "pytensor")
BACKEND_ALIASES = {"theano": "pytensor"}

_floatx = "float32"
_epsilon = 1e-7
_image_data_format = "channels_last"
_backend_name = "numpy"
_learning_phase = None  # None: never set; reads as 0 (test phase)

# Where the configuration came from, for `python -m kbackend`.
config_path = None
config_source = None


def _choice_error(func, arg, value, allowed):
    return ValueError(
        f"{func}: unknown {arg} {value!r}; expected one of {', '.join(map(repr, allowed))}"
    )


# ---------------------------------------------------------------------------------------------------
# floatx / epsilon / data format


def floatx():
    """Return the default float type as a string: ``'float32'`` unless changed.

    >>> import kbackend as K
    >>> K.floatx()
    'float32'
    """
    return _floatx


def set_floatx(value):
    """Set the default float type: one of ``'float16'``, ``'bfloat16'``, ``'float32'``, ``'float64'``.

    >>> import kbackend as K
    >>> K.set_floatx('float64'); K.floatx()
    'float64'
    >>> K.set_floatx('float32')
    """
    global _floatx
    if not isinstance(value, str) or value not in FLOATX_CHOICES:
        raise _choice_error("set_floatx", "floatx", value, FLOATX_CHOICES)
    _floatx = value


def epsilon():
    """Return the fuzz factor used in numeric expressions (default ``1e-07``).

    >>> import kbackend as K
    >>> K.epsilon()
    1e-07
    """
    return _epsilon


def _check_epsilon(func, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{func}: epsilon must be a non-negative real number, got {value!r}")
    return float(value)


def set_epsilon(value):
    """Set the fuzz factor used in numeric expressions.

    >>> import kbackend as K
    >>> K.set_epsilon(1e-05); K.epsilon()
    1e-05
    >>> K.set_epsilon(1e-07)
    """
    global _epsilon
    _epsilon = _check_epsilon("set_epsilon", value)


def image_data_format():
    """Return the default image data format: ``'channels_last'`` (default) or ``'channels_first'``.

    >>> import kbackend as K
    >>> K.image_data_format()
    'channels_last'
    """
    return _image_data_format


def set_image_data_format(data_format):
    """Set the default image data format: ``'channels_first'`` or ``'channels_last'``.

    >>> import kbackend as K
    >>> K.set_image_data_format('channels_first'); K.image_data_format()
    'channels_first'
    >>> K.set_image_data_format('channels_last')
    """
    global _image_data_format
    if data_format not in DATA_FORMATS:
        raise _choice_error("set_image_data_format", "data_format", data_format, DATA_FORMATS)
    _image_data_format = str(data_format)


def normalize_data_format(value):
    """Return ``value`` lower-cased and checked, or the global data format when ``value`` is None.

    >>> import kbackend as K
    >>> K.normalize_data_format(None)
    'channels_last'
    >>> K.normalize_data_format('Channels_First')
    'channels_first'
    """
    if value is None:
        return _image_data_format
    normal = value.lower() if isinstance(value, str) else value
    if normal not in DATA_FORMATS:
        raise _choice_error("normalize_data_format", "data_format", value, DATA_FORMATS)
    return normal


def image_dim_ordering():
    """Legacy getter: ``'th'`` for channels_first, ``'tf'`` for channels_last.

    >>> import kbackend as K
    >>> K.image_dim_ordering()
    'tf'
    """
    return "th" if _image_data_format == "channels_first" else "tf"


def set_image_dim_ordering(dim_ordering):
    """Legacy setter: ``'th'`` selects channels_first, ``'tf'`` channels_last.

    >>> import kbackend as K
    >>> K.set_image_dim_ordering('tf'); K.image_data_format()
    'channels_last'
    """
    if dim_ordering not in ("th", "tf"):
        raise _choice_error("set_image_dim_ordering", "dim_ordering", dim_ordering, ("th", "tf"))
    set_image_data_format("channels_first" if dim_ordering == "th" else "channels_last")


def cast_to_floatx(x):
    """Return ``x`` as a NumPy array of the default float type (a new array; ``x`` is unchanged).

    >>> import numpy as np, kbackend as K
    >>> K.cast_to_floatx(np.array([1.0, 2.0], dtype='float64')).dtype
    dtype('float32')
    """
    from .dtypes import numpy_dtype

    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    return np.asarray(x, dtype=numpy_dtype(_floatx))


# ---------------------------------------------------------------------------------------------------
# backend name


def canonical_backend_name(name, func="backend"):
    """Map a user-facing backend name to the name kbackend loads (``'theano'`` → ``'pytensor'``)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"{func}: backend name must be a non-empty string, got {name!r}")
    if name == "cntk":
        raise ValueError(
            f"{func}: the CNTK backend is not available: CNTK is discontinued (its last release, 2.7, "
            f"ships wheels for Python 3.6 only). Use one of {', '.join(ENGINES)} instead."
        )
    return BACKEND_ALIASES.get(name, name)


def backend():
    """Return the name of the backend chosen at import (``'numpy'`` unless configured).

    Inside :func:`backend_scope` this is the scoped backend.

    >>> import kbackend as K
    >>> K.backend() in ('numpy', 'torch', 'jax', 'tensorflow', 'pytensor') or True
    True
    """
    from ._dispatch import active_backend

    return active_backend().name


# ---------------------------------------------------------------------------------------------------
# uids and learning phase

_uids = {}
_uid_lock = threading.Lock()


def get_uid(prefix=""):
    """Return 1, 2, 3, … on successive calls with the same ``prefix``.

    >>> import kbackend as K
    >>> K.reset_uids(); K.get_uid('dense'), K.get_uid('dense'), K.get_uid('conv')
    (1, 2, 1)
    """
    with _uid_lock:
        _uids[prefix] = _uids.get(prefix, 0) + 1
        return _uids[prefix]


def reset_uids():
    """Reset every counter of :func:`get_uid`.

    >>> import kbackend as K
    >>> K.reset_uids(); K.get_uid()
    1
    """
    with _uid_lock:
        _uids.clear()


def learning_phase():
    """Return the learning phase: 0 (test, the default) or 1 (train).

    >>> import kbackend as K
    >>> K.learning_phase()
    0
    """
    if _learning_phase is None:
        from ._dispatch import symbolic

        # Graphs exist: a scalar placeholder that K.function feeds (default 0).
        if symbolic.active and symbolic.recording():
            from .graph import symbolic_learning_phase

            return symbolic_learning_phase()
        return 0
    return _learning_phase


def set_learning_phase(value):
    """Set the learning phase to 0 (test) or 1 (train) for every later call.

    >>> import kbackend as K
    >>> K.set_learning_phase(1); K.learning_phase()
    1
    >>> K.set_learning_phase(0)
    """
    global _learning_phase
    if isinstance(value, bool):
        value = int(value)
    if value not in (0, 1):
        raise ValueError(f"set_learning_phase: expected 0 or 1, got {value!r}")
    _learning_phase = int(value)


# ---------------------------------------------------------------------------------------------------
# keras.json


def keras_dir():
    """The directory holding ``keras.json``: ``$KERAS_HOME``, else ``~/.keras``, else ``/tmp/.keras``."""
    home = os.environ.get("KERAS_HOME")
    if home:
        return os.path.expanduser(home)
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def _validated(path, config):
    """Check the keys kbackend owns; return them as a dict of clean values."""

    def bad(key, allowed):
        return ValueError(
            f"{path}: invalid value {config[key]!r} for key {key!r}; expected {allowed}"
        )

    values = {}
    if "floatx" in config:
        if config["floatx"] not in FLOATX_CHOICES:
            raise bad("floatx", "one of " + ", ".join(FLOATX_CHOICES))
        values["floatx"] = config["floatx"]
    if "epsilon" in config:
        try:
            values["epsilon"] = _check_epsilon("keras.json", config["epsilon"])
        except ValueError:
            raise bad("epsilon", "a non-negative number") from None
    if "image_data_format" in config:
        if config["image_data_format"] not in DATA_FORMATS:
            raise bad("image_data_format", "one of " + ", ".join(DATA_FORMATS))
        values["image_data_format"] = config["image_data_format"]
    if "backend" in config:
        if not isinstance(config["backend"], str) or not config["backend"]:
            raise bad("backend", "a backend name such as " + ", ".join(ENGINES))
        values["backend"] = config["backend"]
    return values


def read_config_file(path):
    """Return the validated kbackend keys of the keras.json at ``path`` ({} when absent or malformed)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    try:
        config = json.loads(text)
        if not isinstance(config, dict):
            raise ValueError("top level is not a JSON object")
    except ValueError as exc:
        warnings.warn(f"{path} is not valid JSON ({exc}); using the default configuration", stacklevel=3)
        return {}
    return _validated(path, config)


def load():
    """Apply keras.json and KERAS_BACKEND to the module state (run once, at import)."""
    global _floatx, _epsilon, _image_data_format, _backend_name, config_path, config_source
    config_path = os.path.join(keras_dir(), "keras.json")
    values = read_config_file(config_path)
    if values is None:
        config_source = f"no {config_path}; Keras defaults"
        values = {}
    else:
        config_source = f"read {config_path}"
    _floatx = values.get("floatx", _floatx)
    _epsilon = values.get("epsilon", _epsilon)
    _image_data_format = values.get("image_data_format", _image_data_format)
    _backend_name = values.get("backend", _backend_name)
    env = os.environ.get("KERAS_BACKEND")
    if env:
        _backend_name = env
        config_source += "; backend from KERAS_BACKEND"


def write_config(key, value, path=None):
    """Set ``key`` to ``value`` in keras.json (atomically: temp file + rename), keeping other keys.

    Only called on an explicit request (``python -m kbackend config set KEY VALUE``).
    """
    path = path or os.path.join(keras_dir(), "keras.json")
    if key == "epsilon":
        value = float(value)
    _validated(path, {key: value})
    if key not in ("floatx", "epsilon", "image_data_format", "backend"):
        raise ValueError(f"write_config: unknown key {key!r}; expected floatx, epsilon, image_data_format or backend")
    config = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    config[key] = value
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".keras.json.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(config, f, indent=4)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
