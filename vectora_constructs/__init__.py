"""Reusable CDK constructs of Vectora Inbox, one per capability.

Named ``vectora_constructs`` on purpose: a top-level package called ``constructs`` would shadow the
``constructs`` library on ``sys.path`` and break ``import aws_cdk``.
"""
