"""Global Keras configuration: floatx, epsilon, image data format, backend name, uids, learning phase.

The values start from Keras 2's defaults, are overridden by ``keras.json`` and then by ``KERAS_BACKEND``,
and are always read at call time, so a setter called after import changes what later calls produce.

Reading the configuration never writes anything: Keras 2 created ``~/.keras/keras.json`` on first import,
which silently switched every other Keras install on the machine.  Here a file is written only through
:func:`write_config` (``python -m kbackend config set KEY VALUE``), atomically and keeping foreign keys.

Reading it never hangs or crashes the import either: only a regular file is opened (never a FIFO or a
device), at most :data:`MAX_CONFIG_BYTES` of it are read, and a file that cannot be used (unreadable, not
UTF-8, not JSON, too deep, too large, a directory, a symlink loop) gives one warning naming it, then the
defaults.  A file that can be read but holds a bad value stops the import with a ``ValueError``.
"""

import contextlib
import importlib.util
import json
import math
import numbers
import os
import stat
import sys
import tempfile
import threading
import warnings
from typing import Any, Dict, Iterator, List, Optional

import numpy as np

from . import dtypes

FLOATX_CHOICES = ("float16", "bfloat16", "float32", "float64")
DATA_FORMATS = ("channels_first", "channels_last")
DATA_FORMAT_EXPECTED = "'channels_first' or 'channels_last'"
ENGINES = ("numpy", "torch", "jax", "tensorflow", "pytensor")
BACKEND_ALIASES = {"theano": "pytensor"}
#: The module each engine needs, for :func:`usable_engines`.
ENGINE_MODULES = {"numpy": "numpy", "torch": "torch", "jax": "jax", "tensorflow": "tensorflow",
                  "pytensor": "pytensor"}
CONFIG_KEYS = ("floatx", "epsilon", "image_data_format", "backend")
#: keras.json is a few lines; a larger file is not a configuration (and /dev/zero never ends).
MAX_CONFIG_BYTES = 1 << 20

_floatx = "float32"
_epsilon = 1e-7
_image_data_format = "channels_last"
_backend_name = "numpy"
_learning_phase = None  # None: never set; reads as 0 (test phase)

# Where the configuration came from, for `python -m kbackend`.
config_path = None
config_source = None
#: Where the backend name came from: None (the default), the keras.json path, or "KERAS_BACKEND".
backend_origin = None
#: The error a bad keras.json raised, when :func:`load` was told not to raise (the command line).
load_error = None


def _choice_error(func, arg, value, allowed):
    return ValueError(
        f"{func}: unknown {arg} {value!r}; expected one of {', '.join(map(repr, allowed))}"
    )


# ---------------------------------------------------------------------------------------------------
# floatx / epsilon / data format


def floatx() -> str:
    """Return the default float type as a string: ``'float32'`` unless changed.

    >>> import kbackend as K
    >>> K.floatx()
    'float32'
    """
    return _floatx


dtypes.floatx = floatx  # the dtype rules read the configured default from here on


def set_floatx(value: str) -> None:
    """Set the default float type: one of ``'float16'``, ``'bfloat16'``, ``'float32'``, ``'float64'``.

    Args:
        value: 'float16', 'bfloat16', 'float32' or 'float64'.

    Raises:
        ValueError: ``value`` is not a float dtype name; the message names it.

    >>> import kbackend as K
    >>> K.set_floatx('float64'); K.floatx()
    'float64'
    >>> K.set_floatx('float32')
    """
    global _floatx
    if not isinstance(value, str) or value not in FLOATX_CHOICES:
        raise _choice_error("set_floatx", "floatx", value, FLOATX_CHOICES)
    _floatx = value


def epsilon() -> float:
    """Return the fuzz factor used in numeric expressions (default ``1e-07``).

    >>> import kbackend as K
    >>> K.epsilon()
    1e-07
    """
    return _epsilon


def _check_epsilon(func, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < value < math.inf):
        raise ValueError(f"{func}: epsilon must be a finite positive real number, got {value!r}")
    return float(value)


def set_epsilon(value: float) -> None:
    """Set the fuzz factor used in numeric expressions.

    Args:
        value: The new fuzz factor (a positive float).

    Raises:
        ValueError: ``value`` is not a positive number; the message names it.

    >>> import kbackend as K
    >>> K.set_epsilon(1e-05); K.epsilon()
    1e-05
    >>> K.set_epsilon(1e-07)
    """
    global _epsilon
    _epsilon = _check_epsilon("set_epsilon", value)


def image_data_format() -> str:
    """Return the default image data format: ``'channels_last'`` (default) or ``'channels_first'``.

    >>> import kbackend as K
    >>> K.image_data_format()
    'channels_last'
    """
    return _image_data_format


def set_image_data_format(data_format: str) -> None:
    """Set the default image data format: ``'channels_first'`` or ``'channels_last'``.

    Args:
        data_format: 'channels_last' or 'channels_first'.

    Raises:
        ValueError: ``data_format`` is not 'channels_first' or 'channels_last'.

    >>> import kbackend as K
    >>> K.set_image_data_format('channels_first'); K.image_data_format()
    'channels_first'
    >>> K.set_image_data_format('channels_last')
    """
    global _image_data_format
    if not isinstance(data_format, str) or data_format not in DATA_FORMATS:
        raise ValueError(f"set_image_data_format: argument `data_format` got {data_format!r}; expected "
                         f"{DATA_FORMAT_EXPECTED}")
    _image_data_format = str(data_format)


def normalize_data_format(value: Optional[str]) -> str:
    """Return ``value`` lower-cased and checked, or the global data format when ``value`` is None.

    Args:
        value: 'channels_last', 'channels_first' (any case), or None for the global format.

    Raises:
        ValueError: ``value`` is not 'channels_first', 'channels_last' or None.

    >>> import kbackend as K
    >>> K.normalize_data_format(None)
    'channels_last'
    >>> K.normalize_data_format('Channels_First')
    'channels_first'
    """
    normal = canonical_data_format(value)
    if normal is None:
        raise ValueError(f"normalize_data_format: argument `value` got {value!r}; expected {DATA_FORMAT_EXPECTED}")
    return normal


def canonical_data_format(value):
    """The one data-format rule (op arguments and :func:`normalize_data_format`): None → the global
    format, a known name in any case → lower case, anything else → None (the caller names the error)."""
    if value is None:
        return _image_data_format
    if not isinstance(value, str):
        return None
    normal = value.lower()
    return normal if normal in DATA_FORMATS else None


def image_dim_ordering() -> str:
    """Legacy getter: ``'th'`` for channels_first, ``'tf'`` for channels_last.

    >>> import kbackend as K
    >>> K.image_dim_ordering()
    'tf'
    """
    return "th" if _image_data_format == "channels_first" else "tf"


def set_image_dim_ordering(dim_ordering: str) -> None:
    """Legacy setter: ``'th'`` selects channels_first, ``'tf'`` channels_last.

    Args:
        dim_ordering: 'th' (channels_first) or 'tf' (channels_last).

    Raises:
        ValueError: ``dim_ordering`` is not 'th' or 'tf'.

    >>> import kbackend as K
    >>> K.set_image_dim_ordering('tf'); K.image_data_format()
    'channels_last'
    """
    if not isinstance(dim_ordering, str) or dim_ordering not in ("th", "tf"):
        raise _choice_error("set_image_dim_ordering", "dim_ordering", dim_ordering, ("th", "tf"))
    set_image_data_format("channels_first" if dim_ordering == "th" else "channels_last")


def cast_to_floatx(x: Any) -> np.ndarray:
    """Return ``x`` as a NumPy array of the default float type (a new array; ``x`` is unchanged).

    Args:
        x: Tensor, variable, NumPy array or Python number.

    Raises:
        ValueError: ``x`` cannot be converted to an array of ``floatx()``.

    >>> import numpy as np, kbackend as K
    >>> K.cast_to_floatx(np.array([1.0, 2.0], dtype='float64')).dtype
    dtype('float32')
    """
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    try:
        return np.array(x, dtype=dtypes.numpy_dtype(_floatx), copy=True)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"cast_to_floatx: argument `x` got {x!r}; expected a number, array or nested list of "
                        f"numbers ({exc})") from None


# ---------------------------------------------------------------------------------------------------
# backend name


def canonical_backend_name(name: str, func: str = "backend") -> str:
    """Map a user-facing backend name to the name kbackend loads.

    ``'theano'`` → ``'pytensor'``; ``'kbackend.torch'`` (the name Keras 2 is given to run on kbackend)
    → ``'torch'``.  Any other name must be a Python module name (an external backend, as Keras 2
    allowed).

    >>> import kbackend as K
    >>> K.config.canonical_backend_name('kbackend.theano')
    'pytensor'
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"{func}: backend name must be a non-empty string, got {name!r}")
    engines = ", ".join(ENGINES)
    if name == "cntk":
        raise ValueError(
            f"{func}: the CNTK backend is not available: CNTK is discontinued (its last release, 2.7, "
            f"ships wheels for Python 3.6 only). Use one of {engines} instead."
        )
    if name == "kbackend":
        raise ValueError(
            f"{func}: backend name 'kbackend' names no engine (kbackend cannot be its own engine); "
            f"use 'kbackend.<engine>' with <engine> one of {engines}"
        )
    if name.startswith("kbackend."):
        engine = name[len("kbackend."):]
        engine = BACKEND_ALIASES.get(engine, engine)
        if engine not in ENGINES:
            raise ValueError(f"{func}: unknown backend {name!r}; expected 'kbackend.<engine>' with <engine> "
                             f"one of {engines}")
        return engine
    if not all(part.isidentifier() for part in name.split(".")):
        raise ValueError(f"{func}: backend name {name!r} is neither an engine ({engines}) nor a Python "
                         "module name")
    return BACKEND_ALIASES.get(name, name)


def usable_engines() -> List[str]:
    """The engines kbackend can run here: a backend package exists and its engine is importable.

    >>> import kbackend as K
    >>> K.config.usable_engines()[0]
    'numpy'
    """
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "backends")
    return [name for name in ENGINES
            if os.path.isdir(os.path.join(here, name)) and importlib.util.find_spec(ENGINE_MODULES[name])]


# ---------------------------------------------------------------------------------------------------
# uids and learning phase

_uids: Dict[str, int] = {}
_uid_lock = threading.Lock()


def get_uid(prefix: str = "") -> int:
    """Return 1, 2, 3, … on successive calls with the same ``prefix``.

    Args:
        prefix: The prefix whose counter is incremented.

    Raises:
        TypeError: ``prefix`` is not hashable.

    >>> import kbackend as K
    >>> K.reset_uids(); K.get_uid('dense'), K.get_uid('dense'), K.get_uid('conv')
    (1, 2, 1)
    """
    if not isinstance(prefix, str):
        raise TypeError(f"get_uid: argument `prefix` got {prefix!r}; expected a string")
    with _uid_lock:
        _uids[prefix] = _uids.get(prefix, 0) + 1
        return _uids[prefix]


def reset_uids() -> None:
    """Reset every counter of :func:`get_uid`.

    >>> import kbackend as K
    >>> K.reset_uids(); K.get_uid()
    1
    """
    with _uid_lock:
        _uids.clear()


def learning_phase() -> Any:
    """Return the learning phase: 0 (test, the default) or 1 (train).

    >>> import kbackend as K
    >>> K.learning_phase()
    0
    """
    if _learning_phase is None:
        # While this thread builds graphs: a scalar placeholder that K.function feeds (default 0).
        phase = graph_learning_phase()
        return 0 if phase is None else phase
    return _learning_phase


def graph_learning_phase() -> Any:
    """The learning-phase placeholder while the calling thread builds graphs, else None.  This module
    stands below the symbolic layer: :mod:`kbackend.graph` installs its own function here when it loads."""
    return None


def set_learning_phase(value: int) -> None:
    """Set the learning phase to 0 (test) or 1 (train) for every later call.

    Args:
        value: 0 (test) or 1 (training).

    Raises:
        ValueError: ``value`` is not 0 or 1.

    >>> import kbackend as K
    >>> K.set_learning_phase(1); K.learning_phase()
    1
    >>> K.set_learning_phase(0)
    """
    global _learning_phase
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, (int, float, np.integer, np.floating)) or value not in (0, 1):
        raise ValueError(f"set_learning_phase: argument `value` got {value!r}; expected 0 or 1")
    _learning_phase = int(value)



def fixed_learning_phase():
    """The learning phase fixed by :func:`set_learning_phase` or :func:`learning_phase_scope`, or None
    when it was never set (functions then feed their placeholder's default, 0)."""
    return _learning_phase


def clear_learning_phase():
    """Forget the learning phase set (``K.clear_session``): it reads 0 again, or the placeholder while
    graphs are built."""
    global _learning_phase
    _learning_phase = None


@contextlib.contextmanager
def learning_phase_scope(value: int) -> Iterator[int]:
    """Run the enclosed block in learning phase ``value`` (0: test, 1: train), then restore the phase
    in force before (Keras 2's ``K.learning_phase_scope``; like ``set_learning_phase`` it is global).

    Args:
        value: 0 (test) or 1 (training) for the block.

    Raises:
        ValueError: ``value`` is not 0 or 1.

    >>> import kbackend as K
    >>> with K.learning_phase_scope(1):
    ...     K.learning_phase()
    1
    >>> K.learning_phase()
    0
    """
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int) or value not in (0, 1):
        raise ValueError(f"learning_phase_scope: argument `value` got {value!r}; expected 0 or 1")
    global _learning_phase
    previous = _learning_phase
    set_learning_phase(value)
    try:
        yield value
    finally:
        _learning_phase = previous

# ---------------------------------------------------------------------------------------------------
# keras.json


def keras_dir() -> str:
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
        where = f"{path}: " if path else ""
        return ValueError(f"{where}invalid value {config[key]!r} for key {key!r}; expected {allowed}")

    values = {}
    if "floatx" in config:
        if not isinstance(config["floatx"], str) or config["floatx"] not in FLOATX_CHOICES:
            raise bad("floatx", "one of " + ", ".join(FLOATX_CHOICES))
        values["floatx"] = config["floatx"]
    if "epsilon" in config:
        try:
            values["epsilon"] = _check_epsilon("keras.json", config["epsilon"])
        except ValueError:
            raise bad("epsilon", "a finite positive number") from None
    if "image_data_format" in config:
        if not isinstance(config["image_data_format"], str) or config["image_data_format"] not in DATA_FORMATS:
            raise bad("image_data_format", "one of " + ", ".join(DATA_FORMATS))
        values["image_data_format"] = config["image_data_format"]
    if "backend" in config:
        if not isinstance(config["backend"], str) or not config["backend"]:
            raise bad("backend", "a backend name such as " + ", ".join(ENGINES))
        values["backend"] = config["backend"]
    return values


class ConfigFileError(ValueError):
    """keras.json exists but cannot be used as a configuration; the message names the file."""


def _file_kind(mode):
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


def read_json(path: str) -> Optional[dict]:
    """Return the JSON object held by the keras.json at ``path``, or None when there is no file.

    Only a regular file is opened (never a FIFO, which would block, nor a device), and at most
    :data:`MAX_CONFIG_BYTES` are read.  Anything that makes the file unusable raises
    :class:`ConfigFileError` naming the file; the file is never changed.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:  # also a dangling symlink
        return None
    except NotADirectoryError:
        raise ConfigFileError(f"{path} cannot be read: {os.path.dirname(path)} is not a directory "
                              "(check KERAS_HOME)") from None
    except OSError as exc:  # a symlink loop, a directory that cannot be searched, a name too long
        raise ConfigFileError(f"{path} cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigFileError(f"{path} is {_file_kind(info.st_mode)}, not a regular file")
    try:
        # O_NONBLOCK: should the file be swapped for a FIFO after the check, opening it cannot block.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigFileError(f"{path} cannot be read ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ConfigFileError(f"{path} is {_file_kind(mode)}, not a regular file")
        chunks, size = [], 0
        while size <= MAX_CONFIG_BYTES:
            chunk = os.read(fd, MAX_CONFIG_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise ConfigFileError(f"{path} cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if size > MAX_CONFIG_BYTES:
        raise ConfigFileError(f"{path} is larger than {MAX_CONFIG_BYTES // (1 << 20)} MiB; it is not a configuration")
    try:
        text = b"".join(chunks).decode("utf-8-sig")  # a UTF-8 byte-order mark is accepted
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    try:
        config = json.loads(text)
    except RecursionError:
        raise ConfigFileError(f"{path} is not valid JSON for a configuration (nested too deeply)") from None
    except ValueError as exc:
        raise ConfigFileError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise ConfigFileError(f"{path} is not valid JSON for a configuration (top level is not a JSON object)")
    return config


def read_config_file(path: str) -> Optional[dict]:
    """Return the validated kbackend keys of the keras.json at ``path``: None when there is no file,
    {} (after one warning) when the file cannot be used; a bad value raises ``ValueError``."""
    try:
        config = read_json(path)
    except ConfigFileError as exc:
        warnings.warn(f"{exc}; using the default configuration", stacklevel=3)
        return {}
    if config is None:
        return None
    return _validated(path, config)


def _started_by_command_line():
    """True while ``python -m kbackend`` imports the package (Python sets ``sys.argv[0]`` to ``'-m'``
    until the module is found): the command line must start whatever keras.json holds, since
    ``config set`` is how a bad file is repaired."""
    if sys.argv[:1] != ["-m"]:
        return False
    argv = list(getattr(sys, "orig_argv", ()))
    for index, arg in enumerate(argv):
        if arg == "-m":
            return argv[index + 1:index + 2] == ["kbackend"]
        if arg.startswith("-m"):
            return arg == "-mkbackend"
    return False


def load(strict: Optional[bool] = None) -> None:
    """Apply keras.json and KERAS_BACKEND to the module state (run once, at import).

    A bad value raises ``ValueError``; with ``strict=False`` (the command line) it is kept in
    :data:`load_error` and the defaults stay in force.  The backend name is checked when the engine is
    first used, and its error then says where the name came from (:data:`backend_origin`).
    """
    global _floatx, _epsilon, _image_data_format, _backend_name, config_path, config_source
    global backend_origin, load_error
    if strict is None:
        strict = not _started_by_command_line()
    config_path = os.path.join(keras_dir(), "keras.json")
    values = {}
    try:
        config = read_json(config_path)
    except ConfigFileError as exc:
        warnings.warn(f"{exc}; using the default configuration", stacklevel=2)
        config_source = f"not used ({exc}); Keras defaults"
    else:
        if config is None:
            config_source = f"no {config_path}; Keras defaults"
        else:
            try:
                values = _validated(config_path, config)
                config_source = f"read {config_path}"
            except ValueError as exc:
                if strict:
                    raise
                load_error = str(exc)
                config_source = f"not used: {load_error}"
    _floatx = values.get("floatx", _floatx)
    _epsilon = values.get("epsilon", _epsilon)
    _image_data_format = values.get("image_data_format", _image_data_format)
    if "backend" in values:
        _backend_name, backend_origin = values["backend"], config_path
    env = os.environ.get("KERAS_BACKEND")
    if env:
        _backend_name, backend_origin = env, "KERAS_BACKEND"
        config_source += "; backend from KERAS_BACKEND"


def checked_setting(key: str, text: str) -> Any:
    """Turn ``text`` (from the command line) into the value of ``key`` kbackend would accept in
    keras.json, or raise ``ValueError`` naming the key, the value and what is allowed."""
    if key not in CONFIG_KEYS:
        raise ValueError(f"unknown key {key!r}; expected one of {', '.join(CONFIG_KEYS)}")
    if key == "epsilon":
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not 0 < value < math.inf:
            raise ValueError(f"invalid value {text!r} for key 'epsilon'; expected a finite positive number")
        return value
    if key == "backend":
        usable = usable_engines()
        known = f"one of {', '.join(usable)} (usable here), or an importable backend module"
        try:
            name = canonical_backend_name(text, "backend")
        except ValueError as exc:
            raise ValueError(f"invalid value {text!r} for key 'backend': {exc}; expected {known}") from None
        if name not in ENGINES and importlib.util.find_spec(name.split(".")[0]) is None:
            raise ValueError(f"invalid value {text!r} for key 'backend': no such engine or module; expected {known}")
        return text
    _validated(None, {key: text})
    return text


def write_config(key: str, value: Any, path: Optional[str] = None) -> str:
    """Set ``key`` to ``value`` in keras.json, keeping the other keys and the file's permissions.

    The value is checked first (:func:`checked_setting`); the file is replaced atomically (temp file
    + rename, through a symlink to its target).  Only called on an explicit request
    (``python -m kbackend config set KEY VALUE``).
    """
    path = os.path.realpath(path or os.path.join(keras_dir(), "keras.json"))
    try:
        if isinstance(value, str):
            value = checked_setting(key, value)
        elif key not in CONFIG_KEYS or not _validated(None, {key: value}):
            raise ValueError(f"unknown key {key!r}; expected one of {', '.join(CONFIG_KEYS)}")
    except ValueError as exc:
        raise ValueError(f"config set: {exc}") from None
    config = read_json(path)  # ConfigFileError names the file
    if config is None:
        config, mode = {}, 0o666 & ~_umask()
    else:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    config[key] = value
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".keras.json.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(config, f, indent=4)
            f.write("\n")
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
