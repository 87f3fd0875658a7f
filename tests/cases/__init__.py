"""The conformance table: one record per op (more only for tricky keyword combinations).

Each topic module (``math``, ``shape``, ``nn``, ``conv``, ``random``, ``control``, ``variables``) defines
``CASES``, a list of :class:`Case`.  ``test_conformance.py`` runs every case on every installed backend
for every dtype it declares and compares with the NumPy reference; on NumPy itself the reference is
compared with the case's Keras 2 facts (``expected``) and with the tf_keras oracle when installed.
"""

import dataclasses
import importlib
from typing import Any, Callable

import numpy as np

TOPICS = ("variables", "math", "shape", "nn", "conv", "random", "control")


@dataclasses.dataclass(frozen=True)
class Rand:
    """A random input of ``shape``, drawn uniformly from [low, high) and cast to the case's dtype
    (or to ``dtype`` when given: then the case's dtype does not apply to it)."""

    shape: tuple
    low: float = -1.0
    high: float = 1.0
    dtype: str = None
    variable: bool = False  # pass it as K.variable instead of K.constant


@dataclasses.dataclass(frozen=True)
class Ints:
    """A random integer input of ``shape`` in [low, high)."""

    shape: tuple
    low: int = 0
    high: int = 10
    dtype: str = "int32"


@dataclasses.dataclass(frozen=True)
class Arr:
    """A fixed array, cast to the case's dtype when ``floating`` (otherwise kept as given)."""

    value: Any
    floating: bool = True
    dtype: str = None


@dataclasses.dataclass
class Case:
    """One conformance record.

    ``args``/``kwargs`` hold :class:`Rand`, :class:`Ints`, :class:`Arr` (made into tensors of the backend
    under test), lists of them (e.g. ``concatenate``), or plain Python values passed as they are
    (shapes, axes, callables).  ``expected`` is a Keras 2 fact: a value, or a callable of the NumPy
    inputs returning one, checked against the reference.  ``check`` is a callable of the NumPy output
    (and inputs) for properties that have no single right value (random ops).  ``oracle`` compares with
    ``tf_keras.backend`` when installed (``False`` or a string reason to skip that comparison).
    ``symbolic`` and ``gradient`` do the same for the symbolic pass (placeholders with unknown dims fed
    through ``K.function``) and the gradient check (``K.gradients`` against finite differences).
    """

    op: str
    args: tuple = ()
    kwargs: dict = dataclasses.field(default_factory=dict)
    dtypes: tuple = ("float32",)
    expected: Any = None
    check: Callable = None
    oracle: Any = True
    name: str = ""
    rtol: float = None
    atol: float = None
    compare: str = "value"  # "value", "shape" (random ops) or "none"
    symbolic: Any = True  # run through placeholders + K.function too (False/reason when meaningless)
    gradient: Any = True  # check K.gradients against finite differences (False/reason to skip)

    @property
    def id(self):
        return f"{self.op}-{self.name}" if self.name else self.op


def all_cases():
    cases = []
    for topic in TOPICS:
        try:
            module = importlib.import_module(f"{__name__}.{topic}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{topic}":
                raise
            continue
        cases.extend(module.CASES)
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate case ids: {sorted(duplicates)}")
    return cases


FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
ALL_FLOATS = FLOAT_DTYPES
F32_64 = ("float32", "float64")
