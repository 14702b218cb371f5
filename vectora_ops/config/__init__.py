"""Client-config operations: validate, migrate and publish ``clients/`` and ``canonical/``.

``scripts/config/*.py`` are thin wrappers around ``vectora_ops.config.cli``. The schema and the
validation rules are the runtime's own (``vectora_core.config``): what these scripts accept is
exactly what the pipeline functions accept.
"""
