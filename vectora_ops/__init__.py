"""Vectora Inbox operations: what operators and CI run, never shipped to the pipeline functions.

The Lambda layer ``vectora-inbox-vectora-core-{env}`` carries the runtime package ``vectora_core``
only (names, configs, settings, pipeline logic). The command-line tools, the snapshot engine's
callers, promotion and deployment live here and run on an operator's machine or in CI.
"""
