"""``recordings-kms upgrade-check``: which stateful resources would deploying a new template delete or replace?

CDK has no stack policies, so nothing stops an update that renames a key's logical id or changes a
bucket's name: CloudFormation then creates a new key or bucket, and the retained old one leaves the
stack with the recordings in it. This command compares the deployed template (``aws cloudformation
get-template`` output, or the template itself) with the new one, for the stateful resource types
of this package's stacks (:data:`STATEFUL_TYPES`), and reports, one line each:

* ``DELETE``: a logical id that the new template no longer has (a rename is a delete plus a create);
* ``REPLACE``: a changed type, a changed create-only property (the CloudFormation resource schemas'
  ``createOnlyProperties``, extracted from cfn-lint's copy into ``upgrade_check.replacement_table``), or a
  contested one (:data:`CONTESTED`);
* ``UPDATE-FAILS``: a property KMS cannot change after creation (``KeySpec``, ...): CloudFormation
  fails the update rather than replace the key;
* ``POSSIBLE-REPLACE`` / ``POSSIBLE-DELETE``: what the templates alone cannot settle (an intrinsic
  whose value depends on a condition or on another changed resource, a new ``Condition``). An
  unknown is reported, never taken as unchanged.

Values are compared in resolved shape: literal ``Fn::Join``/``Fn::Sub``/``Fn::Select``/``Fn::FindInMap``
are evaluated, a ``Ref`` or ``Fn::GetAtt`` stays symbolic and is unchanged only when what it names is
(pseudo parameters, parameters with the same definition, resources neither replaced nor changed), and an
absent property has its schema default. Pure: the standard library, and PyYAML only for YAML input.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from recordings_kms.options import EXIT_FAILED, EXIT_OK, PROG
from recordings_kms.templates import TemplateError, new_template_path, read_template, template_from
from recordings_kms.upgrade_check.replacement_table import CREATE_ONLY, DEFAULTS, IMMUTABLE

__all__ = ["STATEFUL_TYPES", "TemplateError", "Upgrade", "new_template_path", "read_template", "template_from"]

#: The types examined: the package's retained keys and buckets, the key alias (guardrails and Teleport
#: find the key by it), the auth role and its instance profile (their names are in trust policies,
#: key policies and launch templates), and the alarm topic (its subscriptions are confirmed by hand).
STATEFUL_TYPES = tuple(CREATE_ONLY)

#: Properties treated as create-only although the schema does not list them: path -> (value when
#: absent, why). Enabling Object Lock on an existing bucket is an S3 feature since November 2023, and
#: the schema no longer marks ObjectLockEnabled create-only, but cloudformation-coverage-roadmap issue
#: 1929 (open) shows a change set with ``requiresRecreation: Always`` for it, and no AWS page we found
#: says which holds today: until one does, assume the replacement.
CONTESTED: dict[str, dict[str, tuple[Any, str]]] = {
    "AWS::S3::Bucket": {
        "/properties/ObjectLockEnabled": (
            False,
            "contested: the schema allows an in-place update, a CloudFormation change set in "
            "cloudformation-coverage-roadmap issue 1929 required recreation; taken as a replacement, which a "
            "bucket with a fixed name cannot complete (the update fails and rolls back)",
        )
    }
}

#: Pseudo parameters: the same in every update of one stack.
_PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName", "AWS::StackId"}

Kind = Literal["DELETE", "REPLACE", "UPDATE-FAILS", "POSSIBLE-REPLACE", "POSSIBLE-DELETE"]
State = Literal["same", "changed", "unknown"]
_DEFINITE: tuple[Kind, ...] = ("DELETE", "REPLACE")


@dataclass(frozen=True)
class Finding:
    kind: Kind
    logical_id: str
    type_name: str
    detail: str

    def line(self) -> str:
        return f"{self.kind:<16} {self.logical_id} ({self.type_name}): {self.detail}"


@dataclass(frozen=True)
class Expr:
    """A value the template alone does not fix: a reference, or an intrinsic function over one."""

    op: str
    args: tuple[Any, ...]


_NO_VALUE = Expr("Ref", ("AWS::NoValue",))


# --- values in resolved shape --------------------------------------------------------------------

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _concat(parts: Sequence[Any]) -> Any:
    """A string built of ``parts``: adjacent literals merged; one part is itself."""
    merged: list[Any] = []
    for part in parts:
        if isinstance(part, (int, float)) and not isinstance(part, bool):
            part = str(part)
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    if not merged:
        return ""
    return merged[0] if len(merged) == 1 else Expr("concat", tuple(merged))


def _sub(template: str, variables: Mapping[str, Any]) -> Any:
    parts: list[Any] = []
    position = 0
    for match in _SUB_VARIABLE.finditer(template):
        parts.append(template[position : match.start()])
        name = match.group(1)
        if name.startswith("!"):
            parts.append("${" + name[1:] + "}")
        elif name in variables:
            parts.append(variables[name])
        elif "." in name:
            resource, attribute = name.split(".", 1)
            parts.append(Expr("GetAtt", (resource, attribute)))
        else:
            parts.append(Expr("Ref", (name,)))
        position = match.end()
    parts.append(template[position:])
    return _concat(parts)


def resolve(value: Any, template: Mapping[str, Any]) -> Any:
    """``value`` with what the template fixes evaluated; the rest as :class:`Expr` nodes."""
    if isinstance(value, list):
        items = [resolve(item, template) for item in value]
        return [item for item in items if item != _NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref" or key.startswith("Fn::"):
            return _intrinsic(key, argument, template)
    resolved = {key: resolve(item, template) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item != _NO_VALUE}


def _intrinsic(name: str, argument: Any, template: Mapping[str, Any]) -> Any:
    if name == "Ref":
        return Expr("Ref", (argument,))
    if name == "Fn::GetAtt":
        parts = argument.split(".", 1) if isinstance(argument, str) else argument
        if isinstance(parts, list) and parts:
            return Expr("GetAtt", tuple(resolve(parts, template)))
    args = resolve(argument, template)
    if name == "Fn::Join" and isinstance(args, list) and len(args) == 2 and isinstance(args[0], str):
        delimiter, items = args
        if isinstance(items, list):
            joined: list[Any] = []
            for index, item in enumerate(items):
                joined += [delimiter, item] if index else [item]
            return _concat(joined)
    if name == "Fn::Sub":
        if isinstance(args, str):
            return _sub(args, {})
        if isinstance(args, list) and len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], dict):
            return _sub(args[0], args[1])
    if name == "Fn::Select" and isinstance(args, list) and len(args) == 2 and isinstance(args[1], list):
        index = args[0]
        if isinstance(index, str) and index.isdigit():
            index = int(index)
        if isinstance(index, int) and 0 <= index < len(args[1]):
            return args[1][index]
    if name == "Fn::FindInMap" and isinstance(args, list) and len(args) == 3 and all(isinstance(a, str) for a in args):
        mapping = template.get("Mappings", {}).get(args[0], {})
        found = mapping.get(args[1], {}) if isinstance(mapping, dict) else {}
        if isinstance(found, dict) and args[2] in found:
            return resolve(found[args[2]], template)
    if name == "Fn::If" and isinstance(args, list) and len(args) == 3 and args[1] == args[2]:
        return args[1]
    return Expr(name, (args,))


def _exprs(value: Any) -> Iterator[Expr]:
    if isinstance(value, Expr):
        yield value
        for argument in value.args:
            yield from _exprs(argument)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _exprs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _exprs(item)


def _plain(value: Any) -> Any:
    """``value`` back as template JSON, for messages."""
    if isinstance(value, Expr):
        if value.op == "Ref":
            return {"Ref": value.args[0]}
        if value.op == "GetAtt":
            return {"Fn::GetAtt": [_plain(a) for a in value.args]}
        if value.op == "concat":
            return {"Fn::Join": ["", [_plain(a) for a in value.args]]}
        return {value.op: _plain(value.args[0])}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _show(values: Sequence[Any]) -> str:
    if not values:
        return "absent"
    text = json.dumps(_plain(values[0] if len(values) == 1 else list(values)), sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _at(value: Any, segments: Sequence[str]) -> list[Any] | None:
    """The values at a schema property path (``*`` is every item); None when an intrinsic is in the way."""
    if not segments:
        return [value]
    if isinstance(value, Expr):
        return None
    head, rest = segments[0], segments[1:]
    children: list[Any]
    if head == "*":
        children = value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else []
    elif isinstance(value, dict) and head in value:
        children = [value[head]]
    else:
        children = []
    found: list[Any] = []
    for child in children:
        below = _at(child, rest)
        if below is None:
            return None
        found += below
    return found


# --- the comparison ------------------------------------------------------------------------------


class Upgrade:
    """The deployed template and the new one, compared resource by resource."""

    def __init__(self, deployed: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.templates = (deployed, new)
        self.resources: tuple[Mapping[str, Any], Mapping[str, Any]] = (deployed["Resources"], new["Resources"])
        self._findings: dict[str, list[Finding]] = {}
        self._states: dict[str, State] = {}
        self._visiting: set[str] = set()

    def findings(self) -> list[Finding]:
        """Every finding, stateful resources in the deployed template's order."""
        found: list[Finding] = []
        for logical_id, resource in self.resources[0].items():
            if resource["Type"] in STATEFUL_TYPES:
                found += self.findings_for(logical_id)
        return found

    def stateful(self) -> list[str]:
        return [i for i, r in self.resources[0].items() if r["Type"] in STATEFUL_TYPES]

    def findings_for(self, logical_id: str) -> list[Finding]:
        if logical_id not in self._findings:
            self._visiting.add(logical_id)
            self._findings[logical_id] = list(self._examine(logical_id))
            self._visiting.discard(logical_id)
        return self._findings[logical_id]

    def _examine(self, logical_id: str) -> Iterator[Finding]:
        old = self.resources[0][logical_id]
        type_name = old["Type"]
        new = self.resources[1].get(logical_id)
        if new is None:
            added = [i for i, r in self.resources[1].items() if r["Type"] == type_name and i not in self.resources[0]]
            hint = f"; the new template adds {type_name} {', '.join(added)}: a renamed logical id is a new resource"
            yield Finding("DELETE", logical_id, type_name, "not in the new template" + (hint if added else ""))
            return
        if new["Type"] != type_name:
            yield Finding("REPLACE", logical_id, type_name, f"its type changes to {new['Type']}")
            return
        if new.get("Condition") is not None and new.get("Condition") != old.get("Condition"):
            detail = f"the new template creates it only when condition {new['Condition']} holds"
            yield Finding("POSSIBLE-DELETE", logical_id, type_name, detail)
        properties = [resolve(t["Resources"][logical_id].get("Properties", {}), t) for t in self.templates]
        defaults = DEFAULTS.get(type_name, {})
        contested = CONTESTED.get(type_name, {})
        checks: list[tuple[str, Kind, str, Any]] = [
            *(
                (p, "REPLACE", "create-only: CloudFormation replaces the resource", defaults.get(p))
                for p in CREATE_ONLY[type_name]
            ),
            *(
                (p, "UPDATE-FAILS", "cannot change after creation: CloudFormation fails the update", defaults.get(p))
                for p in IMMUTABLE[type_name]
            ),
            *((p, "REPLACE", why, absent) for p, (absent, why) in contested.items()),
        ]
        for path, kind, why, default in checks:
            name = path.removeprefix("/properties/")
            found_before, found_after = (_at(p, path.split("/")[2:]) for p in properties)
            if found_before is None or found_after is None:
                yield Finding(
                    "POSSIBLE-REPLACE", logical_id, type_name, f"{name}: an intrinsic function decides it ({why})"
                )
                continue
            before, after = ([default] if not v and default is not None else v for v in (found_before, found_after))
            state = self._compare(before, after)
            if state == "changed":
                yield Finding(kind, logical_id, type_name, f"{name}: {_show(before)} -> {_show(after)} ({why})")
            elif state == "unknown":
                detail = f"{name}: cannot tell whether {_show(before)} and {_show(after)} are the same value ({why})"
                yield Finding("POSSIBLE-REPLACE", logical_id, type_name, detail)

    def _compare(self, before: Sequence[Any], after: Sequence[Any]) -> State:
        if list(before) == list(after):
            states = {
                self.state_of(e.args[0]) for v in before for e in _exprs(v) if e.op in ("Ref", "GetAtt") and e.args
            }
            return "changed" if "changed" in states else "unknown" if "unknown" in states else "same"
        symbolic = any(True for v in (*before, *after) for _ in _exprs(v))
        return "unknown" if symbolic else "changed"

    def state_of(self, name: Any) -> State:
        """Whether what a ``Ref``/``Fn::GetAtt`` names has the same value after the update."""
        if not isinstance(name, str):
            return "unknown"
        if name in _PSEUDO:
            return "same"
        parameters = [t.get("Parameters", {}) for t in self.templates]
        if name in parameters[0] or name in parameters[1]:
            return "same" if parameters[0].get(name) == parameters[1].get(name) else "unknown"
        if name not in self._states:
            self._states[name] = self._resource_state(name)
        return self._states[name]

    def _resource_state(self, name: str) -> State:
        if name not in self.resources[0] and name not in self.resources[1]:
            return "unknown"
        if name not in self.resources[0] or name not in self.resources[1]:
            return "changed"
        if name in self._visiting:
            return "unknown"
        old, new = self.resources[0][name], self.resources[1][name]
        if old["Type"] in STATEFUL_TYPES and new["Type"] == old["Type"]:
            kinds = {f.kind for f in self.findings_for(name)}
            return "changed" if kinds & set(_DEFINITE) else "unknown" if kinds - {"UPDATE-FAILS"} else "same"
        # Another type: unchanged only when its definition is, and so is all it refers to.
        definitions = [
            resolve({k: r.get(k) for k in ("Type", "Properties", "Condition")}, t)
            for r, t in zip((old, new), self.templates, strict=True)
        ]
        if definitions[0] != definitions[1]:
            return "unknown"
        self._visiting.add(name)
        state = self._compare([definitions[0]], [definitions[1]])
        self._visiting.discard(name)
        return state


# --- the command ---------------------------------------------------------------------------------


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``upgrade-check`` subcommand (its handler is :func:`run`)."""
    parser = commands.add_parser(
        "upgrade-check",
        help="list the stateful resources a new template would delete or replace (keys, buckets, alias, role, topic)",
        description="Compare the deployed template with a new one and list, one line each, every KMS key, KMS "
        "alias, S3 bucket, IAM role, instance profile and SNS topic the update would delete (its logical id is "
        "gone) or replace (its type or a create-only property changes), or fail on (a property KMS cannot "
        "change); what the templates cannot settle is listed as possible. Exit 0: none; 1: at least one; "
        "2: unusable input.",
    )
    parser.add_argument(
        "--deployed",
        required=True,
        metavar="OLD.json",
        help="the deployed template: the output of `aws cloudformation get-template --stack-name STACK` (its "
        "TemplateBody) or the template itself; JSON, or YAML when PyYAML is installed",
    )
    parser.add_argument(
        "--new",
        required=True,
        metavar="NEW.json",
        help="the template to deploy (cdk.out/STACK.template.json), or a cloud assembly directory (cdk.out) with "
        "--stack",
    )
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="with --new DIRECTORY: the stack whose template to read (its artifact id in manifest.json, e.g. "
        "TeleportSessionRecordings)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (findings, counts) instead of lines")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from recordings_kms import render

    try:
        deployed = read_template(args.deployed, "--deployed")
        new = read_template(new_template_path(args.new, args.stack), "--new")
    except TemplateError as error:
        return render.error(str(error), as_json=args.json)
    upgrade = Upgrade(deployed, new)
    found = upgrade.findings()
    stateful = upgrade.stateful()
    if args.json:
        print(
            json.dumps(
                {
                    "ok": not found,
                    "stateful": len(stateful),
                    "findings": [
                        {"kind": f.kind, "logicalId": f.logical_id, "type": f.type_name, "detail": f.detail}
                        for f in found
                    ],
                },
                indent=2,
            )
        )
        return EXIT_FAILED if found else EXIT_OK
    for finding in found:
        print(finding.line())
    if found:
        resources = len({f.logical_id for f in found})
        print(
            f"{PROG} upgrade-check: {len(found)} finding{'s' if len(found) != 1 else ''} on {resources} of "
            f"{len(stateful)} stateful resources",
        )
        return EXIT_FAILED
    print(f"{PROG} upgrade-check: no stateful resource is deleted or replaced ({len(stateful)} checked)")
    return EXIT_OK
