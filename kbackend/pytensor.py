"""Keras 2.3.1 loads this module with ``KERAS_BACKEND=kbackend.pytensor``: the K namespace on pytensor."""

from .keras2 import backend_namespace as _namespace

globals().update(_namespace("pytensor"))
