"""Moving a change from one environment to the next (dev -> stage -> prod), and the guarded deploy.

A promotion deploys into the target the very artifact the source runs (its recorded cloud
assembly, no rebuild), copies the source's exact client-config and canonical object versions, and
proves both; every step is audited and any failure after the target's ``pre_promotion_...``
snapshot puts the target back. Both run in the frame of ``vectora_ops.operation`` (lock, steps,
audit, restore, deployment record). The modules, in the order a promotion uses them:

- ``gitinfo``, ``testrecords``: the commit, whether the tree is clean, the green test record;
- ``assembly``, ``cdk``: the cloud assembly (synthesized once, zipped, stored) and the pinned CLI;
- ``plan``: what would change in the target, side by side with the source;
- ``gates``, ``stability``, ``smoke``: the checks made before anything changes;
- ``configcopy``: the source's config versions, validated as publish does, copied to the target;
- ``promote``, ``deploy``: the two operations; ``watch``: the post-promotion watch window;
- ``render``, ``cli``: rich tables and the scripts' mains.
"""
