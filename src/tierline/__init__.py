"""Tierline: one system from the first sign of a problem to the product change that ends it."""

__version__ = "0.1.0"
