"""Patch: change sets are looked up per stack; unknown ones are handled as on AWS.

Symptom: ``DeleteChangeSet`` of a name that does not exist answers HTTP 500 (the CDK CLI then
retries for ~90 s before going on); ``DescribeChangeSet`` of an unknown name answers
``ValidationError: Stack with id ... does not exist`` instead of ``ChangeSetNotFound``; and as
the CLI names every change set ``cdk-deploy-change-set``, Describe/Execute/Delete by name act on
another stack's change set (the second stack of ``cdk deploy --all`` then fails with
``unexpected end of file``); ``ListChangeSets`` lists every stack's change sets.
Cause: ``CloudFormationBackend.delete_change_set`` reads an unbound local when nothing matches;
``describe_change_set`` raises the generic stack-not-found error; the backend looks change sets
up by name only, ignoring the ``StackName`` the request carries.
Fix: the CloudFormation API handlers look a change set up by ARN, or by name *within the named
stack*; deleting an unknown one succeeds; describing or executing one raises
``ChangeSetNotFoundException`` (wire code ``ChangeSetNotFound``); ListChangeSets filters by stack.
"""

from __future__ import annotations

from moto.cloudformation.exceptions import CloudFormationError
from moto.cloudformation.models import ChangeSet, CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult, EmptyResult


class ChangeSetNotFoundError(CloudFormationError):
    code = "ChangeSetNotFoundException"

    def __init__(self, name: str) -> None:
        super().__init__(f"ChangeSet [{name}] does not exist")


def find_change_set(
    backend: CloudFormationBackend, name_or_arn: str, stack_name: str | None = None
) -> ChangeSet | None:
    """The change set with this ARN, or with this name in the stack named (or with id) ``stack_name``."""
    if name_or_arn in backend.change_sets:
        return backend.change_sets[name_or_arn]
    matches = [
        cs
        for cs in backend.change_sets.values()
        if cs.change_set_name == name_or_arn
        and (stack_name is None or stack_name in (cs.stack_name, cs.stack_id))
    ]
    return matches[-1] if matches else None


def _describe_change_set(self: CloudFormationResponse) -> ActionResult:
    name, stack_name = self._get_param("ChangeSetName"), self._get_param("StackName")
    change_set = find_change_set(self.cloudformation_backend, name, stack_name)
    if change_set is None:
        raise ChangeSetNotFoundError(name)
    return ActionResult(change_set)


def _delete_change_set(self: CloudFormationResponse) -> EmptyResult:
    name, stack_name = self._get_param("ChangeSetName"), self._get_param("StackName")
    change_set = find_change_set(self.cloudformation_backend, name, stack_name)
    if change_set is not None:
        del self.cloudformation_backend.change_sets[change_set.change_set_id]
    return EmptyResult()


def _execute_change_set(self: CloudFormationResponse) -> EmptyResult:
    name, stack_name = self._get_param("ChangeSetName"), self._get_param("StackName")
    change_set = find_change_set(self.cloudformation_backend, name, stack_name)
    if change_set is None:
        raise ChangeSetNotFoundError(name)
    # By ARN from here on: unambiguous for the backend.
    self.cloudformation_backend.execute_change_set(
        change_set_name=change_set.change_set_id, stack_name=stack_name
    )
    return EmptyResult()


def _list_change_sets(self: CloudFormationResponse) -> ActionResult:
    stack_name = self._get_param("StackName")
    summaries = [
        cs
        for cs in self.cloudformation_backend.list_change_sets()
        if not stack_name or stack_name in (cs.stack_name, cs.stack_id)
    ]
    return ActionResult({"Summaries": summaries})


def apply() -> None:
    CloudFormationResponse.describe_change_set = _describe_change_set  # type: ignore[method-assign]  # the patch itself
    CloudFormationResponse.delete_change_set = _delete_change_set  # type: ignore[method-assign]  # the patch itself
    CloudFormationResponse.execute_change_set = _execute_change_set  # type: ignore[method-assign]  # the patch itself
    CloudFormationResponse.list_change_sets = _list_change_sets  # type: ignore[method-assign]  # the patch itself
