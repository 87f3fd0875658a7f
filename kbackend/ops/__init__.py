"""The API: one declaration per K function (signature + docstring + NumPy reference body).

Importing this package declares every op in :data:`kbackend._dispatch.OPS`.
"""

import importlib

TOPICS = ("variables", "math", "shape", "nn", "conv", "random", "control")

for _topic in TOPICS:
    try:
        importlib.import_module(f"{__name__}.{_topic}")
    except ModuleNotFoundError as _exc:  # a topic not written yet
        if _exc.name != f"{__name__}.{_topic}":
            raise
