"""Taking over an environment the team already runs from plain templates and scripts (issue 27).

``inventory`` reads the account (never changes it), ``declared`` reads what this project's
synthesized stacks declare, ``plan`` compares the two into one verdict per resource, ``execute``
carries the plan out in a safe, resumable order after a ``pre_takeover`` archive, ``undo`` puts
the old environment back from that archive. ``scripts/deploy/takeover.py`` is the entry point;
docs/takeover.md says why each step is where it is.
"""
