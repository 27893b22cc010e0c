"""The ``clusters`` setting: parsed from context and Python alike, each refusal named as the caller spelled it.

Pure tests (no CDK). The prefix rule is a string-prefix test because Teleport's upload completer lists
multipart uploads with its URI path as a raw ``Prefix`` (lib/events/s3sessions/s3stream.go ``ListUploads``;
research notes §15): ``records/a`` also lists ``records/ab/...``.
"""

from __future__ import annotations

from typing import Any

import pytest

from constructs_lib.core.problems import Severity
from constructs_lib.core.settings import AppSettings, Cluster, InvalidSettingsError, check, validate
from constructs_lib.core.settings.clusters import cluster_prefix, overlapping

RECORDINGS = "111111111111"
WORKLOAD_A = "222222222222"
WORKLOAD_B = "333333333333"
REGION = "eu-west-1"


def provider(account: str) -> str:
    return f"arn:aws:iam::{account}:oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"


def three_accounts(**extra: Any) -> dict[str, Any]:
    """The README's example: a recordings account, two workload accounts, IRSA and EC2."""
    return {
        "account": RECORDINGS,
        "region": REGION,
        "clusters": [
            {"name": "prod", "account": WORKLOAD_A, "authTrust": "irsa", "oidcProviderArn": provider(WORKLOAD_A)},
            {"name": "staging", "account": WORKLOAD_B},
        ],
        **extra,
    }


def errors(context: dict[str, Any]) -> list[str]:
    settings = AppSettings.from_context(context)
    return [
        p.render(settings.label(), settings.spelling)
        for p in check(settings, settings.environment())
        if p.severity is Severity.ERROR
    ]


def test_the_three_account_example_is_valid() -> None:
    settings = AppSettings.from_context(three_accounts())
    validate(settings, settings.environment())
    prod, staging = settings.clusters
    assert (prod.name, prod.account, prod.auth_trust) == ("prod", WORKLOAD_A, "irsa")
    assert cluster_prefix(staging, settings.recordings_prefix) == "records/staging"


def test_a_json_string_from_the_command_line_parses_like_cdk_json() -> None:
    import json

    from_json = AppSettings.from_context({**three_accounts(), "clusters": json.dumps(three_accounts()["clusters"])})
    assert from_json.clusters == AppSettings.from_context(three_accounts()).clusters


def test_python_clusters_are_judged_by_their_keywords() -> None:
    settings = AppSettings(
        account=RECORDINGS, region=REGION, clusters=[Cluster(name="prod", account=WORKLOAD_A, auth_trust="irsa")]
    )
    with pytest.raises(InvalidSettingsError) as caught:
        validate(settings, settings.environment())
    assert "'clusters[0].oidc_provider_arn' must be set when clusters[0].auth_trust is \"irsa\"" in str(caught.value)


def test_duplicate_cluster_names_are_refused() -> None:
    context = three_accounts()
    context["clusters"][1]["name"] = "prod"
    assert any(
        e.startswith("'clusters[1].name' must be a name of its own (clusters[0] has it") for e in errors(context)
    )


def test_names_equal_but_for_dashes_are_refused() -> None:
    """Output ids drop the dashes: StorageUriProdEu for prod-eu and prodeu would clash."""
    context = three_accounts()
    context["clusters"][0]["name"], context["clusters"][1]["name"] = "prod-eu", "prodeu"
    assert any("'clusters[1].name' must be a name that differs from 'prod-eu'" in e for e in errors(context))


@pytest.mark.parametrize(
    ("first", "second"),
    [("records/a", "records/a/b"), ("records/a", "records/ab"), ("records/prod", "records/prod")],
)
def test_overlapping_prefixes_are_refused(first: str, second: str) -> None:
    context = three_accounts()
    context["clusters"][0]["prefix"], context["clusters"][1]["prefix"] = first, second
    found = errors(context)
    assert any(
        e.startswith("'clusters[1].prefix' must be a prefix that neither starts nor is the start of clusters[0]'s ")
        and "upload completer" in e
        for e in found
    ), found


def test_prefixes_that_only_share_a_parent_are_accepted() -> None:
    assert not overlapping("records/a", "records/b")
    context = three_accounts()
    context["clusters"][0]["prefix"], context["clusters"][1]["prefix"] = "records/a", "records/b"
    assert errors(context) == []


def test_a_prefix_outside_the_recordings_prefix_is_refused() -> None:
    context = three_accounts()
    context["clusters"][1]["prefix"] = "elsewhere/staging"
    assert any(e.startswith("'clusters[1].prefix' must be a prefix under 'records/'") for e in errors(context))


def test_an_oidc_provider_of_another_account_than_the_clusters_is_refused() -> None:
    context = three_accounts()
    context["clusters"][0]["oidcProviderArn"] = provider(WORKLOAD_B)
    assert any(
        e.startswith(
            f"'clusters[0].oidcProviderArn' must be an IAM OIDC provider of the cluster's account {WORKLOAD_A}"
        )
        for e in errors(context)
    )


def test_a_cluster_in_the_recordings_account_with_a_foreign_oidc_provider_is_refused() -> None:
    """A cluster without ``account`` is in the recordings account: its provider must be there too."""
    context = three_accounts()
    del context["clusters"][0]["account"]
    assert any(
        e.startswith(
            f"'clusters[0].oidcProviderArn' must be an IAM OIDC provider of the cluster's account {RECORDINGS}"
        )
        for e in errors(context)
    )


def test_an_existing_role_outside_the_clusters_account_is_refused() -> None:
    context = three_accounts()
    context["clusters"][1] = {
        "name": "staging",
        "account": WORKLOAD_B,
        "existingAuthRoleArn": f"arn:aws:iam::{WORKLOAD_A}:role/x",
    }
    assert any(
        e.startswith(f"'clusters[1].existingAuthRoleArn' must be a role in the cluster's account {WORKLOAD_B}")
        for e in errors(context)
    )


def test_trust_settings_beside_an_existing_role_are_refused() -> None:
    context = three_accounts()
    context["clusters"][1] = {
        "name": "staging",
        "account": WORKLOAD_B,
        "existingAuthRoleArn": f"arn:aws:iam::{WORKLOAD_B}:role/x",
        "authTrust": "pod-identity",
    }
    assert any(
        e.startswith("'clusters[1].authTrust' must be unset when clusters[1].existingAuthRoleArn")
        for e in errors(context)
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("authTrust", "irsa"), ("existingAuthRoleArn", f"arn:aws:iam::{RECORDINGS}:role/t"), ("authRoleName", "t")],
)
def test_the_single_cluster_auth_settings_are_refused_with_clusters(name: str, value: str) -> None:
    found = errors(three_accounts(**{name: value}))
    assert any(e.startswith(f"'{name}' must be unset when clusters is set") for e in found), found


def test_clusters_need_the_recordings_account_and_region() -> None:
    context = three_accounts()
    del context["account"], context["region"]
    found = errors(context)
    assert any(e.startswith("'account' must be set with clusters") for e in found)
    assert any(e.startswith("'region' must be set with clusters") for e in found)


def test_two_clusters_naming_one_role_are_refused() -> None:
    context = three_accounts()
    context["clusters"][1]["account"] = WORKLOAD_A
    context["clusters"][1]["authRoleName"] = "teleport-recordings-auth-prod"
    assert any(
        e.startswith("'clusters[1]' must be an auth role of its own, not clusters[0]'s") for e in errors(context)
    )


def test_a_reader_that_is_another_clusters_role_is_refused() -> None:
    context = three_accounts()
    context["clusters"][1]["readerArns"] = [f"arn:aws:iam::{WORKLOAD_A}:role/teleport-recordings-auth-prod"]
    assert any(
        e.startswith("'clusters[1].readerArns' must be a reader that is no other cluster's auth role")
        for e in errors(context)
    )


def test_a_typo_in_a_cluster_key_says_what_was_meant() -> None:
    context = three_accounts()
    context["clusters"][1]["acount"] = context["clusters"][1].pop("account")
    assert "'clusters[1].acount' must be a known setting (did you mean 'account'?), got \"333333333333\"" in errors(
        context
    )


@pytest.mark.parametrize("raw", [{"name": "prod"}, "[not json", '["prod"]'])
def test_a_clusters_value_that_is_not_a_list_of_objects_is_refused(raw: Any) -> None:
    assert errors({**three_accounts(), "clusters": raw})[0].startswith(
        "'clusters' must be a JSON array of cluster objects"
    )


@pytest.mark.parametrize("name", ["Prod", "prod_eu", "-prod", "prod-", "a--b", "x" * 33, ""])
def test_cluster_names_are_refused_unless_they_fit_every_name_they_make(name: str) -> None:
    context = three_accounts()
    context["clusters"][1]["name"] = name
    assert any(e.startswith("'clusters[1].name' must be") for e in errors(context)), name


@pytest.mark.parametrize(
    ("extra", "setting"),
    [
        ({"replicaRegion": "eu-central-1"}, "replicaRegion"),
        ({"existingBucket": "true", "bucketName": "acme-recordings"}, "existingBucket"),
    ],
)
def test_a_replica_or_an_adopted_bucket_is_refused_with_clusters(extra: dict[str, str], setting: str) -> None:
    """Built for the single-cluster stack only: refused with clusters, never silently ignored."""
    found = errors(three_accounts(**extra))
    assert any(e.startswith(f"'{setting}' must be unset with clusters") for e in found), found


def test_without_clusters_nothing_changes() -> None:
    assert AppSettings().clusters == ()
    assert errors({"account": RECORDINGS, "region": REGION}) == []
