"""The learning phase as a scope (Keras 2's ``learning_phase_scope``)."""

import contextlib

from . import config


@contextlib.contextmanager
def learning_phase_scope(value):
    """Run the enclosed block in learning phase ``value`` (0: test, 1: train), then restore the phase
    in force before (Keras 2's ``K.learning_phase_scope``; like ``set_learning_phase`` it is global).

    >>> import kbackend as K
    >>> with K.learning_phase_scope(1):
    ...     K.learning_phase()
    1
    >>> K.learning_phase()
    0
    """
    if isinstance(value, bool):
        value = int(value)
    if value not in (0, 1) or not isinstance(value, int):
        raise ValueError(f"learning_phase_scope: argument `value` got {value!r}; expected 0 or 1")
    previous = config._learning_phase
    config.set_learning_phase(value)
    try:
        yield value
    finally:
        config._learning_phase = previous
