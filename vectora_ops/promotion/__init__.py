"""Moving a change from one environment to the next (dev -> stage -> prod), and the guarded deploy.

A promotion deploys into the target the very artifact the source runs (its recorded cloud
assembly, no rebuild), copies the source's exact client-config and canonical object versions, and
proves both; every step is audited and any failure after the target's ``pre_promotion_...``
snapshot puts the target back. The modules, in the order a promotion uses them:

- ``gitinfo``, ``testrecords``: the commit, whether the tree is clean, the green test record;
- ``clients``: the AWS clients and bucket names of one environment;
- ``lock``: one operation at a time per environment (an S3 conditional write);
- ``records``: deployment records (which commit and assembly each environment runs) and audits;
- ``state``: what an environment runs now (function and layer shas, config versions, templates);
- ``assembly``, ``cdk``: the cloud assembly (synthesized once, zipped, stored) and the pinned CLI;
- ``plan``, ``templates``: what would change in the target, side by side with the source;
- ``gates``, ``stability``, ``smoke``: the checks made before anything changes;
- ``configcopy``: the source's config versions, validated as publish does, copied to the target;
- ``steps``: the step runner (progress, fault hook, timings);
- ``promote``, ``deploy``: the two operations; ``recovery``: restoring and proving it after a
  failure; ``watch``: the post-promotion watch window;
- ``render``, ``cli``: rich tables and the scripts' mains.
"""
