"""Keras 2.3.1 on kbackend.

Keras 2.3.1, the last multi-backend Keras, imports an unknown ``KERAS_BACKEND`` as a module and copies
its names into ``keras.backend``.  ``kbackend.numpy``, ``kbackend.torch``, ``kbackend.jax``,
``kbackend.tensorflow`` (and ``kbackend.theano`` / ``kbackend.pytensor`` where that engine exists) are
those modules: each is the whole K namespace, run on its engine.

Keras 2.3.1 predates Python 3.10 and NumPy 2; loading it through one of these modules restores the few
names it still reads (:data:`RESTORED`) and nothing else.  ``restore_removed_names()`` does the same
for a process that imports Keras 2.3.1 another way.
"""

import collections
import collections.abc
import json
import os
import sys
import threading

import numpy as np

from . import config

#: What Keras 2.3.1 reads that Python 3.10 and NumPy 2 removed: (module, name, value).
RESTORED = (
    (collections, "Iterable", collections.abc.Iterable),     # keras/callbacks/callbacks.py
    (collections, "Mapping", collections.abc.Mapping),       # keras/engine/training_utils.py
    (collections, "Sequence", collections.abc.Sequence),     # keras/engine/training_utils.py
    (collections, "Container", collections.abc.Container),   # keras/engine/training_utils.py
    (np, "Inf", np.inf),                                      # ModelCheckpoint, EarlyStopping, …
    (np, "string_", np.bytes_),                               # keras/utils/io_utils.py (HDF5Matrix)
    (np, "int", int),                                         # keras/backend/numpy_backend.py
)

_restore_lock = threading.Lock()


def restore_removed_names():
    """Give ``collections`` and ``numpy`` back the names in :data:`RESTORED` that they lack."""
    with _restore_lock:
        for module, name, value in RESTORED:
            if name not in module.__dict__:
                setattr(module, name, value)


class _SkipOptionalTensorFlow:
    """Keras 2.3.1 imports TensorFlow, if installed, where it would only use it on TensorFlow: in
    ``keras/engine/saving.py`` (to open ``gs://`` paths) and in keras_preprocessing's image iterators
    (to add ``tf.keras.utils.Sequence`` as a base class), and in ``keras/utils/test_utils.py`` (to mock
    ``gs://`` file access).  On another engine each import costs seconds
    and hundreds of MB, so from those places it fails as it would without TensorFlow, and Keras goes on
    without it, as it is written to."""

    #: (module, function) whose imports of TensorFlow are optional.
    _OPTIONAL = {("keras.engine.saving", "<module>"), ("keras.utils.test_utils", "<module>"),
                 ("keras_preprocessing.image.numpy_array_iterator", "__new__"),
                 ("keras_preprocessing.image.directory_iterator", "__new__"),
                 ("keras_preprocessing.image.dataframe_iterator", "__new__")}

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] != "tensorflow" or "tensorflow" in sys.modules:
            return None
        frame = sys._getframe(1)
        while frame is not None:
            if (frame.f_globals.get("__name__"), frame.f_code.co_name) in self._OPTIONAL:
                raise ModuleNotFoundError(f"No module named {name!r} (optional for Keras on another engine)",
                                          name=name)
            frame = frame.f_back
        return None


def _keep_tensorflow_out():
    if not any(isinstance(finder, _SkipOptionalTensorFlow) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SkipOptionalTensorFlow())


# ---------------------------------------------------------------------------------------------------
# HDF5: Keras 2.3.1 reads string attributes as h5py 2 returned them (bytes); h5py 3 returns str.


def _as_bytes(value):
    if isinstance(value, str):
        return value.encode("utf8")
    if isinstance(value, np.ndarray) and value.dtype.kind in "OU":
        return np.array([v.encode("utf8") if isinstance(v, str) else v for v in value.ravel()])
    return value


class _Delegating:
    """A view of an h5py mapping (attributes or a group) that is the mapping itself except where a
    subclass reads differently."""

    def __init__(self, target):
        self._target = target

    def __contains__(self, key):
        return key in self._target

    def __iter__(self):
        return iter(self._target)

    def __len__(self):
        return len(self._target)

    def __getattr__(self, name):
        return getattr(self._target, name)


class _BytesAttributes(_Delegating):
    """An h5py attribute mapping whose string values read as UTF-8 bytes."""

    def __getitem__(self, key):
        return _as_bytes(self._target[key])

    def get(self, key, default=None):
        return _as_bytes(self._target[key]) if key in self._target else default

    def __setitem__(self, key, value):
        self._target[key] = value


class _Hdf5Group(_Delegating):
    """An h5py group (or file) read the way h5py 2 read it: string attributes as bytes, in every
    subgroup too.  Datasets and everything else are the group's own."""

    @property
    def attrs(self):
        return _BytesAttributes(self._target.attrs)

    def __getitem__(self, key):
        import h5py

        item = self._target[key]
        return _Hdf5Group(item) if isinstance(item, h5py.Group) else item


def _reading_bytes(fn):
    """Wrap a loader of ``keras.engine.saving`` so that its first argument, an h5py group, reads
    string attributes as bytes."""

    def loader(source, *args, **kwargs):
        import h5py

        if isinstance(source, h5py.Group):
            source = _Hdf5Group(source)
        return fn(source, *args, **kwargs)

    loader.__name__ = fn.__name__
    loader.__doc__ = fn.__doc__
    loader.__wrapped__ = fn
    return loader


def _patch_saving(module):
    import h5py

    if int(h5py.__version__.split(".")[0]) < 3:
        return
    for name in ("load_weights_from_hdf5_group", "load_weights_from_hdf5_group_by_name",
                 "load_attributes_from_hdf5_group"):
        setattr(module, name, _reading_bytes(getattr(module, name)))
    from keras.utils import io_utils

    read = io_utils.H5Dict.__getitem__
    if not getattr(read, "__kbackend_bytes__", False):
        def __getitem__(self, attr):
            return _as_bytes(read(self, attr))

        __getitem__.__kbackend_bytes__ = True
        io_utils.H5Dict.__getitem__ = __getitem__


class _AfterImport:
    """Run ``callback(module)`` once ``name`` has been imported (a post-import hook)."""

    def __init__(self, name, callback):
        self.name = name
        self.callback = callback

    def find_spec(self, name, path=None, target=None):
        if name != self.name:
            return None
        import importlib.machinery

        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        execute, callback = spec.loader.exec_module, self.callback

        def exec_module(module):
            execute(module)
            callback(module)

        spec.loader.exec_module = exec_module
        return spec


def _after_import(name, callback):
    if name in sys.modules:
        callback(sys.modules[name])
    elif not any(isinstance(f, _AfterImport) and f.name == name for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport(name, callback))


def _undo_keras_json():
    """Keras 2.3.1 writes ``keras.json`` (``"backend": "tensorflow"``) on its first import when there
    is none, just before it loads this module, even though ``KERAS_BACKEND`` names kbackend.  Left
    there, that file would steer every later ``import kbackend`` (and other Keras installs) to
    TensorFlow.  When Keras wrote it in this very import (its loader read no file: it has no
    ``_image_data_format``) and it still holds what Keras wrote, it is removed again.  (The folder
    Keras may have made for it stays: nothing tells whether it was there before.)"""
    loader = sys.modules.get("keras.backend.load_backend")
    if loader is None or "_image_data_format" in loader.__dict__:
        return
    path, written = getattr(loader, "_config_path", None), getattr(loader, "_config", None)
    try:
        with open(path) as file:
            if json.load(file) != written:
                return
        os.remove(path)
    except (OSError, ValueError, TypeError):
        pass


#: Keras settings that live in ``keras.backend.common`` and in :mod:`kbackend.config`.
_SHARED_SETTINGS = ("floatx", "epsilon", "image_data_format")


def _follow_keras_settings():
    """Keras 2.3.1 keeps floatx, epsilon and the data format in ``keras.backend.common`` and binds its
    own getters and setters into ``keras.backend``.  Start from its values, and make its setters set
    ours too, so ``keras.backend.set_floatx('float64')`` reaches the ops."""
    common = sys.modules.get("keras.backend.common")
    if common is None:
        return
    for setting in _SHARED_SETTINGS:
        getattr(config, f"set_{setting}")(getattr(common, setting)())
        setter = getattr(common, f"set_{setting}")
        if getattr(setter, "__kbackend_follows__", False):
            continue
        _chain_setter(common, setter, getattr(config, f"set_{setting}"))


def _chain_setter(module, setter, ours):
    """Make ``setter`` (a function of ``module``, already bound under other names) call ``ours`` after
    itself.  The function object is kept, so every name bound to it follows; only its code changes."""
    name = setter.__name__
    original = type(setter)(setter.__code__, setter.__globals__, name, setter.__defaults__,
                            setter.__closure__)
    module.__dict__[f"_kbackend_original_{name}"] = original
    module.__dict__[f"_kbackend_{name}"] = ours
    source = (f"def {name}(value):\n"
              f"    _kbackend_original_{name}(value)\n"
              f"    _kbackend_{name}(value)\n")
    scope = {}
    exec(compile(source, f"<kbackend: {module.__name__}.{name} follows kbackend>", "exec"),
         module.__dict__, scope)
    setter.__code__ = scope[name].__code__
    setter.__defaults__ = None
    setter.__kbackend_follows__ = True


def backend_namespace(engine):
    """The names Keras 2.3.1 copies into ``keras.backend`` when it loads ``kbackend.<engine>``.

    The module is only valid for the engine kbackend itself runs on (both read ``KERAS_BACKEND`` or
    the ``backend`` key of keras.json), so a mismatch is refused with the two names.
    """
    import kbackend

    chosen = config.canonical_backend_name(config._backend_name)
    wanted = config.canonical_backend_name(engine)
    if chosen != wanted:
        raise ValueError(
            f"kbackend.{engine}: this module runs Keras on the {wanted!r} engine, but kbackend is "
            f"configured for {chosen!r} ({config.config_source}); set KERAS_BACKEND=kbackend.{engine} "
            f"or \"backend\": \"kbackend.{engine}\" in keras.json"
        )
    _undo_keras_json()
    restore_removed_names()
    _follow_keras_settings()
    if wanted != "tensorflow":
        _keep_tensorflow_out()
    _after_import("keras.engine.saving", _patch_saving)
    names = {name: getattr(kbackend, name) for name in kbackend.__all__}
    names["kbackend_engine"] = wanted
    _also_in_keras_backend(names)
    return names


#: Names ``keras.backend`` gets besides the list it re-exports from any backend: ``clear_session``,
#: which it re-exports only for TensorFlow and CNTK but Keras 2 scripts call whatever the backend,
#: and ``kbackend_engine``, the engine's name (``keras.backend.backend()`` is the module's).
_ALSO_IN_KERAS_BACKEND = ("clear_session", "kbackend_engine")


def _also_in_keras_backend(names):
    package = sys.modules.get("keras.backend")
    if package is not None:
        for name in _ALSO_IN_KERAS_BACKEND:
            package.__dict__.setdefault(name, names[name])
