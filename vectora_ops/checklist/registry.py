"""The checklist's items, in its order, and running them."""

from __future__ import annotations

from typing import Final

from vectora_ops.checklist import clients, deployment, recorded, safety, target
from vectora_ops.checklist.context import Context
from vectora_ops.checklist.model import Item, Result, failed
from vectora_ops.errors import typed_line

T: Final = "tests/checklist/"
ITEMS: Final[tuple[Item, ...]] = (
    # Environnement cible
    Item(
        "env-identified",
        "Environnement clairement identifié (dev/stage/prod)",
        "template",
        target.check_identified,
        (
            f"{T}test_templates.py::test_env_identified_fails_on_a_function_of_another_env",
            f"{T}test_cli.py::test_a_missing_env_asks_which_environment",
        ),
    ),
    Item(
        "naming",
        "Convention nommage respectée (`-{env}`)",
        "template",
        target.check_naming,
        (f"{T}test_templates.py::test_naming_fails_on_a_name_without_the_env",),
    ),
    Item(
        "env-variables",
        "Variables d'environnement adaptées",
        "template",
        target.check_variables,
        (f"{T}test_templates.py::test_variables_fail_on_a_wrong_log_level",),
    ),
    Item(
        "buckets",
        "Buckets S3 corrects pour l'environnement",
        "template",
        target.check_buckets,
        (f"{T}test_templates.py::test_buckets_fail_on_another_envs_bucket",),
    ),
    # Sécurité
    Item(
        "no-direct-prod-change",
        "Pas de modification directe en prod",
        "code",
        safety.check_no_direct_prod_change,
        (
            f"{T}test_guards.py::test_each_guard_refuses_prod_before_any_aws_call",
            f"{T}test_guards.py::test_a_deleted_guard_fails_the_item",
            "tests/promotion/test_e2e_d_refusals.py::test_the_guarded_deploy_refuses_prod_with_the_promotion_command",
        ),
    ),
    Item(
        "recent-snapshot",
        "Snapshot créé avant modification majeure",
        "deployed",
        safety.check_recent_snapshot,
        (
            f"{T}test_deployed.py::test_a_change_after_the_newest_snapshot_fails_the_item",
            f"{T}test_deployed.py::test_publish_into_stage_without_a_recent_snapshot_is_refused",
        ),
    ),
    Item(
        "rollback-possible",
        "Rollback possible en cas d'échec",
        "deployed",
        safety.check_rollback_possible,
        (f"{T}test_deployed.py::test_a_corrupted_snapshot_fails_rollback_possible",),
    ),
    Item(
        "e2e-recorded",
        "Tests E2E passés avant promotion",
        "recorded",
        safety.check_e2e_recorded,
        (f"{T}test_records.py::test_the_e2e_item_follows_the_record_of_the_commit",),
    ),
    # Configuration client
    Item(
        "client-id",
        "`client_id` stable (sans version)",
        "template",
        clients.check_client_id,
        (f"{T}test_clients.py::test_a_versioned_client_id_fails",),
    ),
    Item(
        "client-version",
        "`version` sémantique séparée",
        "template",
        clients.check_version,
        (f"{T}test_clients.py::test_a_version_that_is_not_semantic_fails",),
    ),
    Item(
        "client-promotable",
        "Même config peut être promue entre envs",
        "template",
        clients.check_promotable,
        (f"{T}test_clients.py::test_a_config_naming_an_environment_fails",),
    ),
    Item(
        "client-changelog",
        "Changelog à jour dans metadata",
        "template",
        clients.check_changelog,
        (f"{T}test_clients.py::test_a_changelog_without_the_version_fails",),
    ),
    # Déploiement
    Item(
        "stack-order",
        "Ordre stacks respecté (S0-core → S0-iam → S1-runtime)",
        "template",
        deployment.check_stack_order,
        (f"{T}test_templates.py::test_stack_order_fails_without_a_dependency",),
    ),
    Item(
        "parameters",
        "Paramètres environnement corrects",
        "template",
        deployment.check_parameters,
        (f"{T}test_templates.py::test_parameters_fail_on_a_wrong_log_retention",),
    ),
    Item(
        "outputs-saved",
        "Outputs sauvegardés",
        "deployed",
        deployment.check_outputs_saved,
        (f"{T}test_deployed.py::test_outputs_not_in_the_newest_snapshot_fail",),
    ),
    Item(
        "post-deployment",
        "Validation post-déploiement",
        "deployed",
        deployment.check_post_deployment,
        (f"{T}test_deployed.py::test_post_deployment_fails_when_no_newsletter_followed_the_change",),
    ),
    # What a person records
    Item(
        "business-validation",
        "Validation métier",
        "recorded",
        recorded.check_business_validation,
        ("tests/promotion/test_units.py::test_prod_needs_an_approver_stage_a_validator_or_an_approver",),
    ),
    Item(
        "formal-approval",
        "Approbation formelle",
        "recorded",
        recorded.check_formal_approval,
        (
            "tests/promotion/test_e2e_e_prod.py::test_a_promotion_within_the_watch_is_refused_a_hotfix_is_not_but_needs_approval",
            "tests/snapshots/test_faults_and_errors.py::test_prod_rollback_needs_an_approver_and_every_attempt_is_audited",
        ),
    ),
)


def run_item(item: Item, ctx: Context) -> Result:
    """The item's result; a check that breaks is a failed item naming why, never a traceback."""
    try:
        return item.check(ctx)
    except Exception as err:  # noqa: BLE001  # one item's error must not hide the others
        return failed(f"the check itself failed: {typed_line(err)}")


def run_items(ctx: Context, items: tuple[Item, ...] = ITEMS) -> list[tuple[Item, Result]]:
    return [(item, run_item(item, ctx)) for item in items]
