"""Keras 2.3.1 loads this module with ``KERAS_BACKEND=kbackend.numpy``: the K namespace on numpy."""

from .keras2 import backend_namespace as _namespace

globals().update(_namespace("numpy"))
