"""What every operation that changes an environment shares, above the snapshot engine and below
the commands (deploy, promotion, rollback, takeover):

- ``state``: what an environment runs now (function and layer shas, config versions, templates);
- ``records``: deployment records (which commit and assembly each environment runs) and audits;
- ``lock``: one operation at a time per environment (an S3 conditional write);
- ``steps``: the step runner (progress, fault hook, timings);
- ``recovery``: putting an environment back from its snapshot after a failure, and proving it;
- ``operation``: the frame (lock, steps, audit record, snapshot-then-undo) the operations run in;
- ``rollback``: an environment rolled back to a snapshot, in that frame.
"""
