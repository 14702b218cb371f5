"""The environment checklist as code: ``make checklist ENV=dev|stage|prod``.

Every item of the team's environment checklist that a program can check, against the synthesized
templates of the environment and, when it is reachable, against what is deployed there. Each item
(``model.Item``) has an id, the checklist's own wording (French, as the team writes it), a check
returning a status (✓ passed, ✗ failed, – not checked here) with one line of evidence, and the
test that enforces it. Items that need a person (business validation, formal approval) say where
their record lives.

Modules, one per group of items: ``target`` (the target environment: identified, names,
variables, buckets), ``safety`` (no direct change of prod, snapshots, rollback, E2E record),
``clients`` (client configs), ``deployment`` (stack order, parameters, outputs, post-deployment
validation), ``recorded`` (what a person records). ``context`` gathers what the checks read (the
templates, the deployed environment), ``freshness`` the rule "a snapshot newer than the last
change" (which publishing into stage applies too), ``registry`` lists the items in the
checklist's order and ``report`` prints the table.
"""

from vectora_ops.checklist.model import Item, Result, Status
from vectora_ops.checklist.registry import ITEMS, run_items

__all__ = ["ITEMS", "Item", "Result", "Status", "run_items"]
