"""Command-line options made from the settings model, and its problems told as one line each.

An option that stands for a setting takes its name, help line and parsing from the setting's
:class:`~constructs_lib.core.settings.Spec`; its value is judged by the same rules as in ``cdk.json``
and Python, and reported with the option's name (``'--admin' must be ...``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from constructs_lib.core import arns
from constructs_lib.core.problems import Problem
from constructs_lib.core.settings import AppSettings, Declared, Environment, check, region_rule, render, specs

PROG = "recordings-kms"
EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2

_DECLARED = {d.name: d for d in specs(AppSettings)}


def add_setting(parser: argparse.ArgumentParser, name: str, *, help: str | None = None, **overrides: Any) -> None:
    """Add the option of setting ``name`` (``--admin`` for ``key_admins``), ``dest`` = its Python name."""
    declared: Declared = _DECLARED[name]
    option = declared.spec.cli
    if option is None:
        raise ValueError(f"setting {name} has no command-line option")
    kwargs: dict[str, Any] = {"dest": name, "help": help or declared.spec.doc.replace("%", "%%"), "default": None}
    kwargs.update(declared.spec.kind.argparse())
    kwargs.pop("type", None)  # values are parsed and judged by the model, which reports them by option name
    if kwargs.get("action") == "extend":
        kwargs["default"] = []
    kwargs.update(overrides)
    parser.add_argument(option, **kwargs)


def settings_from(args: argparse.Namespace, names: Sequence[str]) -> AppSettings:
    """The settings the options of ``names`` carry (missing ones keep their defaults)."""
    return AppSettings.from_options({name: getattr(args, name) for name in names})


def problems_of(settings: AppSettings, env: Environment | None = None) -> list[str]:
    """Every error of ``settings`` as one line each, worded with option names."""
    return [render(p, settings) for p in check(settings, env or settings.environment()) if p.severity == "error"]


def warnings_of(settings: AppSettings, env: Environment | None = None) -> list[str]:
    return [render(p, settings) for p in check(settings, env or settings.environment()) if p.severity == "warning"]


def report(lines: Sequence[str]) -> int:
    """Print each problem as one ``recordings-kms: error:`` line; exit code 2."""
    for line in lines:
        print(f"{PROG}: error: {' '.join(line.split())}", file=sys.stderr)
    return EXIT_ERROR


def problem_line(problem: Problem, option: str) -> str:
    """A problem of a value that is not a setting (``--key``), worded with its option."""
    return problem.render(lambda _: option)


# --- options that are not settings ------------------------------------------------------------------

#: What S3 accepts as an existing bucket's name (older buckets may have upper case and underscores).
ANY_BUCKET_NAME = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


def endpoint_url_problem(url: str) -> str | None:
    """Why ``--endpoint-url`` is unusable (boto3 needs an http or https URL with a host), or ``None``."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it validates the port)
    except ValueError as error:
        return f"--endpoint-url {url!r} is not a valid URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--endpoint-url {url!r} must be an http:// or https:// URL with a host, such as http://127.0.0.1:5000"
    return None


def warn_if_region_unknown(region: str | None, name: str = "'--region'") -> None:
    """A ``--region`` (or the region read from ``name``) botocore's endpoint data does not know, but that is
    named like a newer region of one of its partitions, is allowed and said on stderr (right for a new
    region, wrong for a typo)."""
    if region is None or arns.is_known_region(region) or region_problem(region) is not None:
        return
    data = arns.region_data()
    known = f"not a region of {data.source}'s endpoint data" if data else "not checked (botocore's data was not found)"
    print(
        f"{PROG}: warning: {name} {json.dumps(region)} is {known}: right for a region newer than the data "
        "(upgrade botocore to see it there), wrong for a typo",
        file=sys.stderr,
    )


def region_problem(region: str, name: str = "'--region'") -> str | None:
    """Why ``--region`` (or the environment variable ``name`` it was read from) is unusable, worded like the
    settings model's rule (checked before any AWS call)."""
    allowed = region_rule(region)
    return None if allowed is None else f"{name} must be {allowed}, got {json.dumps(region)}"


def add_prover_budget(parser: argparse.ArgumentParser) -> None:
    """``--prover-budget UNITS``: the access prover's total for the whole command (docs/PROVER.md)."""
    from constructs_lib.core.prover.budget import DEFAULT_TOTAL

    parser.add_argument(
        "--prover-budget",
        metavar="UNITS",
        default=str(DEFAULT_TOTAL),
        help=f"the most z3 work (rlimit units) the access prover may spend in this command (default: {DEFAULT_TOTAL}); "
        "a property it could not finish within it is CANNOT-PROVE, and every other line is still printed",
    )


def prover_budget_problem(value: str) -> str | None:
    """Why ``--prover-budget`` is unusable (a positive whole number of rlimit units), or ``None``."""
    if value.isascii() and value.isdigit() and int(value) > 0:
        return None
    return f"'--prover-budget' must be a positive whole number of rlimit units, got {json.dumps(value)}"


def existing_bucket_problem(bucket: str) -> str | None:
    """Why ``--bucket`` cannot name an existing bucket (a name alone, not an ARN or ``s3://`` URL)."""
    if ANY_BUCKET_NAME.match(bucket):
        return None
    return f"--bucket {bucket!r} is not an S3 bucket name (give the name alone, not an ARN or s3:// URL)"
