"""Keras 2.3.1 loads this module with ``KERAS_BACKEND=kbackend.tensorflow``: the K namespace on tensorflow."""

from .keras2 import backend_namespace as _namespace

globals().update(_namespace("tensorflow"))
