"""CloudFormation templates as the commands read them (``upgrade-check``, ``import-check``): a file of
``aws cloudformation get-template`` output or the template itself, JSON or YAML (with PyYAML), or a stack's
template in a CDK cloud assembly. Pure: the standard library, and PyYAML only for YAML input."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any


class TemplateError(ValueError):
    """Input that is not a CloudFormation template (the message is the command's one error line)."""


def _yaml_loader() -> Any:
    """A PyYAML SafeLoader that reads CloudFormation's short tags (``!Ref X`` is ``{"Ref": "X"}``)."""
    try:
        yaml: Any = importlib.import_module("yaml")
    except ImportError:
        return None

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        pass

    def construct(loader: Any, suffix: str, node: Any) -> dict[str, Any]:
        name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", construct)
    return Loader


def _parse(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        if text.lstrip().startswith(("{", "[")):
            raise TemplateError(f"{source} is not JSON: {error.msg} (line {error.lineno})") from None
    loader = _yaml_loader()
    if loader is None:
        raise TemplateError(f"{source} is not JSON, and reading YAML needs PyYAML (pip install PyYAML)")
    yaml: Any = importlib.import_module("yaml")
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as error:
        raise TemplateError(f"{source} is neither JSON nor YAML: {str(error).splitlines()[0]}") from None


def template_from(text: str, source: str) -> dict[str, Any]:
    """The template in ``text``: ``get-template`` output (its ``TemplateBody``, a document or a string)
    or the template itself, JSON or YAML. Raises :class:`TemplateError` naming ``source``."""
    document = _parse(text, source)
    if isinstance(document, dict) and "TemplateBody" in document:
        source = f"{source} (TemplateBody)"
        document = document["TemplateBody"]
        if isinstance(document, str):
            document = _parse(document, source)
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{source} is not a CloudFormation template: it has no Resources object")
    for section in ("Parameters", "Mappings"):
        if not isinstance(document.get(section, {}), dict):
            raise TemplateError(f"{source}: its {section} section is not an object")
    for logical_id, resource in document["Resources"].items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateError(f"{source}: resource {logical_id} has no Type")
        if not isinstance(resource.get("Properties", {}), dict):
            raise TemplateError(f"{source}: resource {logical_id} has Properties that are not an object")
    return document


def read_template(path: str, option: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise TemplateError(f"{option} {path}: cannot read it ({why})") from None
    return template_from(text, f"{option} {path}")


def new_template_path(new: str, stack: str | None) -> str:
    """The template file ``--new`` names: the file itself, or a stack's template in a cloud assembly.

    A directory is read as CDK's cloud assembly: ``manifest.json`` maps artifact ids to template files (a
    stack's file is not always ``STACK.template.json``: nested assemblies and stages put it elsewhere).
    """
    directory = Path(new)
    if not directory.is_dir():
        if stack is not None:
            raise TemplateError(f"--stack {stack}: only with --new DIRECTORY (a cloud assembly such as cdk.out)")
        return new
    manifest_path = directory / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        artifacts = manifest["artifacts"]
        stacks = {
            name: artifact["properties"]["templateFile"]
            for name, artifact in artifacts.items()
            if artifact.get("type") == "aws:cloudformation:stack"
        }
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise TemplateError(
            f"--new {new}: not a cloud assembly (no readable manifest.json with stack artifacts; run cdk synth "
            "or name the template file)"
        ) from None
    names = ", ".join(sorted(stacks)) or "none"
    if stack is None:
        raise TemplateError(f"--new {new}: a cloud assembly; name the stack with --stack (its stacks: {names})")
    if stack not in stacks:
        raise TemplateError(f"--stack {stack}: not a stack of {new} (its stacks: {names})")
    return str(directory / stacks[stack])
