"""The TensorFlow backend: eager TensorFlow 2, values are ``tf.Tensor`` and ``tf.Variable``.

TensorFlow is imported only when this package is, i.e. when the backend is first used, and without
side effects on the user's files: ``import tensorflow`` runs TensorFlow's internal Keras, which writes
``keras.json`` into ``KERAS_HOME`` (or ``~/.keras``) when none is there, and eagerly imports the
installed Keras (Keras 3, or Keras 2.3.1 as ``keras``, which writes the file and prints too).  The first
is pointed at a private directory for the duration of the import, the second is not imported at all
(it loads when the user imports it, reading the user's own configuration).
"""

import os
import re
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: Lines TensorFlow's C++ logging prints before its log level applies (the oneDNN notice, once per
#: shared library): ``I0000 00:00:… port.cc:153] oneDNN custom operations are on…``.
_EARLY_LOG = re.compile(r"^([IWEF])\d{4} [\d:.]+ +\d+ [^\]]*\] ")
_EARLY_LOG_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def _import_tensorflow():
    if "tensorflow" in sys.modules:
        return
    blocked = [name for name in ("keras", "tf_keras") if name not in sys.modules]
    # KERAS_HOME is process-wide: another thread reading it during these seconds sees the private folder.
    saved_home = os.environ.get("KERAS_HOME")
    with tempfile.TemporaryDirectory(prefix="kbackend-tf-") as private, _FilteredStderr():
        os.environ["KERAS_HOME"] = private
        for name in blocked:
            sys.modules[name] = None  # TensorFlow's `import keras.src.optimizers` fails and is skipped
        try:
            import tensorflow
        finally:
            for name in blocked:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]
            if saved_home is None:
                os.environ.pop("KERAS_HOME", None)
            else:
                os.environ["KERAS_HOME"] = saved_home
    # With Keras hidden TensorFlow could not add Keras's folders to its path (`tensorflow.keras`): add them.
    path = getattr(tensorflow, "__path__", None)
    if blocked and isinstance(path, list) and path[:2] == [None, None]:
        from tensorflow.python.tools import module_util

        legacy = os.environ.get("TF_USE_LEGACY_KERAS") in ("true", "True", "1")
        path[:2] = [module_util.get_parent_dir_for_name("tf_keras.api._v2.keras" if legacy else "keras.api._v2.keras"),
                    module_util.get_parent_dir_for_name("keras._tf_keras.keras")]


class _FilteredStderr:
    """Capture file descriptor 2 during the import; write it back without the early log lines below
    ``TF_CPP_MIN_LOG_LEVEL`` (TensorFlow prints them before it reads the variable)."""

    def __enter__(self):
        try:
            sys.stderr.flush()
            self.saved = os.dup(2)
        except (OSError, AttributeError, ValueError):  # no stderr to filter
            self.saved = None
            return
        self.capture = tempfile.TemporaryFile()
        os.dup2(self.capture.fileno(), 2)

    def __exit__(self, *exc):
        if self.saved is None:
            return
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.capture.seek(0)
        text = self.capture.read().decode("utf-8", "replace")
        self.capture.close()
        try:
            level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
        except ValueError:
            level = 0
        kept = []
        for line in text.splitlines(keepends=True):
            match = _EARLY_LOG.match(line)
            below_level = match is not None and "IWEF".index(match.group(1)) < level
            if below_level or (level > 0 and line.strip() == _EARLY_LOG_PREAMBLE):
                continue
            kept.append(line)
        if kept:
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


_import_tensorflow()

from ..._dispatch import collect  # noqa: E402
from . import control, conv, math, nn, random, shape, variables  # noqa: E402
from .runner import make_runner  # noqa: E402,F401  (how K.function runs on this engine)
from .variables import OPERATORS, Variable  # noqa: E402,F401  (OPERATORS: how graphs run operators)

VARIABLE_TYPES = (Variable,)


def implementations():
    return collect(variables, math, shape, nn, conv, random, control)
