"""The README's settings tables, generated from the settings model (``make docs`` writes them).

One table per group of :class:`AppSettings`, in its method resolution order: every class that
declares its own ``heading``. A new group (a new base class of ``StorageSettings`` or
``AppSettings``) gets its table without a change here.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from constructs_lib.core.settings.app import AppSettings
from constructs_lib.core.settings.model import Declared, _Settings, specs
from constructs_lib.core.settings.storage import StorageSettings


def documented_groups(aggregate: type[_Settings] = AppSettings) -> tuple[type[_Settings], ...]:
    """The groups of ``aggregate`` that have a README table, in its method resolution order."""
    return tuple(group for group in aggregate.__mro__ if vars(group).get("heading"))


#: The groups in the order the README lists them, with the heading of each.
DOCUMENTED_GROUPS: tuple[tuple[str, type[_Settings]], ...] = tuple((g.heading, g) for g in documented_groups())


def _default_text(declared: Declared) -> str:
    if declared.spec.default_doc is not None:
        return declared.spec.default_doc
    value = declared.default
    if isinstance(value, bool):
        return f"`{'true' if value else 'false'}`"
    if isinstance(value, StrEnum):
        return f"`{value.value}`"
    if value in ((), None):
        return "none"
    return f"`{value}`"


def readme_table(aggregate: type[_Settings] = AppSettings) -> str:
    """The README's settings tables, one per group, generated from the model (``make docs`` writes them)."""
    lines: list[str] = []
    for group in documented_groups(aggregate):
        heading = group.heading
        own = {f.name for f in dataclasses.fields(group)} - {f.name for f in dataclasses.fields(_Settings)}
        lines += [
            f"#### {heading}",
            "",
            "| Setting (`cdk.json`, `-c`) | Python (`StorageSettings`) | `recordings-kms` | Type | Default | Effect |",
            "|---|---|---|---|---|---|",
        ]
        for declared in specs(group):
            if declared.name not in own:
                continue
            spec = declared.spec
            app_only = not issubclass(StorageSettings, group)
            python = f"`{declared.name}` (`AppSettings`)" if app_only else f"`{declared.name}`"
            cli = f"`{spec.cli}`" if spec.cli else ""
            effect = spec.doc.replace("|", "\\|")
            lines.append(
                f"| `{spec.context}` | {python} | {cli} | {spec.kind.doc} | {_default_text(declared)} | {effect} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
