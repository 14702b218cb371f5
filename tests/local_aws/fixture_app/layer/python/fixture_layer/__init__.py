"""Shipped as a Lambda layer: proves the runner puts layer ``python/`` folders on sys.path."""

VALUE = "from-layer"
