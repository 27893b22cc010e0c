"""The guardrails with ``clusters``: which targets and break-glass principals are accepted, each refusal named.

An SCP restricts only the principals of the accounts under its targets (AWS Organizations User Guide,
"Service control policies (SCPs)"), and its exemptions are by ``aws:PrincipalArn``, which names the
principal's account: so the targets must reach every account of the layout, and a break-glass principal
must be of the account whose resources it may change.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.test_clusters_settings import RECORDINGS, WORKLOAD_A, WORKLOAD_B, errors, three_accounts

ORGANIZATION = {"managementAccount": "444444444444", "organizationId": "o-abcdefghij"}


def guarded(targets: list[str], **extra: Any) -> dict[str, Any]:
    return three_accounts(guardrailTargetIds=targets, **ORGANIZATION, **extra)


@pytest.mark.parametrize(
    "targets",
    [
        [RECORDINGS, WORKLOAD_A, WORKLOAD_B],
        ["ou-abcd-12345678"],  # an OU: which accounts are below it cannot be checked offline
        ["r-ab12", WORKLOAD_A],
    ],
)
def test_guardrails_with_clusters_are_accepted_when_their_targets_can_cover_every_account(targets: list[str]) -> None:
    assert errors(guarded(targets)) == []


def test_account_targets_that_miss_a_workload_account_are_refused() -> None:
    found = errors(guarded([RECORDINGS, WORKLOAD_A]))
    assert any(
        e.startswith("'guardrailTargetIds' must be targets that cover the recordings account and every cluster's")
        and f"missing {WORKLOAD_B}" in e
        for e in found
    ), found


def test_account_targets_that_miss_the_recordings_account_are_refused() -> None:
    found = errors(guarded([WORKLOAD_A, WORKLOAD_B]))
    assert any(f"missing {RECORDINGS}" in e for e in found), found


def test_a_clusters_break_glass_in_its_own_account_is_accepted() -> None:
    context = guarded(
        [RECORDINGS, WORKLOAD_A, WORKLOAD_B], breakGlassPrincipalArns=f"arn:aws:iam::{RECORDINGS}:role/BG"
    )
    context["clusters"][0]["breakGlassPrincipalArns"] = [f"arn:aws:iam::{WORKLOAD_A}:role/BreakGlass"]
    assert errors(context) == []


def test_a_clusters_break_glass_of_another_account_is_refused() -> None:
    context = guarded([RECORDINGS, WORKLOAD_A, WORKLOAD_B])
    context["clusters"][1]["breakGlassPrincipalArns"] = [f"arn:aws:iam::{WORKLOAD_A}:role/BreakGlass"]
    found = errors(context)
    assert any(
        e.startswith(
            f"'clusters[1].breakGlassPrincipalArns' must be a role or user of the cluster's account {WORKLOAD_B}"
        )
        and f"arn:aws:iam::{WORKLOAD_A}:role/BreakGlass" in e
        for e in found
    ), found


def test_a_top_level_break_glass_outside_the_recordings_account_is_refused() -> None:
    found = errors(
        guarded([RECORDINGS, WORKLOAD_A, WORKLOAD_B], breakGlassPrincipalArns=f"arn:aws:iam::{WORKLOAD_A}:role/BG")
    )
    assert any(
        e.startswith(
            f"'breakGlassPrincipalArns' must be a role or user of the recordings account {RECORDINGS} when clusters is set"
        )
        for e in found
    ), found


def test_a_clusters_break_glass_without_guardrails_is_refused() -> None:
    context = three_accounts()
    context["clusters"][0]["breakGlassPrincipalArns"] = [f"arn:aws:iam::{WORKLOAD_A}:role/BreakGlass"]
    found = errors(context)
    assert any(
        e.startswith("'clusters[0].breakGlassPrincipalArns' must be unset unless guardrailTargetIds is set")
        for e in found
    ), found


def test_the_guardrails_ask_no_auth_role_name_with_clusters() -> None:
    """The one-account rule wants authRoleName with guardrails; with clusters each cluster names its role."""
    assert not any("authRoleName" in e for e in errors(guarded([RECORDINGS, WORKLOAD_A, WORKLOAD_B])))


def test_a_key_per_cluster_with_guardrails_is_refused_until_the_guardrails_name_every_cluster_key() -> None:
    """The SCP and RCP find the key by the shared key's alias: the clusters' own keys would be unguarded
    while G1-G4 pass (both branches of issue 16 landed together; the combination is not built)."""
    found = errors(guarded(["ou-abcd-12345678"], clusterIsolation="key"))
    assert any(
        e.startswith("'clusterIsolation' must be prefix with guardrailTargetIds") and "unguarded" in e for e in found
    ), found
    assert errors(three_accounts(clusterIsolation="key")) == []
