"""kbackend: the Keras 2 backend API (``from keras import backend as K``) on every engine.

    >>> import kbackend as K
    >>> K.eval(K.prod(K.constant([[2, 4, 6], [2, 4, 6]]), axis=1))
    array([48., 48.], dtype=float32)

Importing this package imports NumPy and nothing heavier; the configured engine loads on first use.
"""

import sys as _sys

from . import config as _config

_config.load()

if _config._backend_name == "kbackend" and "keras.backend.load_backend" in _sys.modules:
    # Keras 2 is loading this package itself as its backend (KERAS_BACKEND=kbackend): say how to
    # name an engine now, before Keras goes on and fails somewhere unrelated.
    raise ValueError("KERAS_BACKEND=kbackend: kbackend cannot be its own engine; Keras 2 loads it as "
                     "kbackend.<engine>, for example KERAS_BACKEND=kbackend.torch (engines: "
                     f"{', '.join('kbackend.' + e for e in _config.ENGINES)})")

from ._dispatch import OPS as _OPS, backend, backend_scope  # noqa: E402
from . import ops as _ops  # noqa: E402  (declares every op)
from .config import (  # noqa: E402
    cast_to_floatx, epsilon, floatx, get_uid, image_data_format, image_dim_ordering,
    learning_phase, learning_phase_scope, normalize_data_format, reset_uids, set_epsilon, set_floatx,
    set_image_data_format, set_image_dim_ordering, set_learning_phase,
)
from ._names import EXTRA_NAMES as _EXTRA, KERAS2_NAMES as _KERAS2  # noqa: E402
from .graph.api import (  # noqa: E402
    clear_session, control_dependencies, eager, function, gradients, name_scope, placeholder, symbolic,
)
from .ops.variables import get_variable_shape  # noqa: E402

globals().update({_name: _spec.public for _name, _spec in _OPS.items() if not _name.startswith("_")})

__version__ = "0.1.0"
__all__ = [n for n in _KERAS2 + _EXTRA if n in globals()]
