"""The API: one declaration per K function (signature + docstring + NumPy reference body).

Importing this package declares every op in :data:`kbackend._dispatch.OPS`, topic by topic.
"""

from . import variables, math, shape, nn, conv, random, control  # noqa: F401  (each module declares its ops)
