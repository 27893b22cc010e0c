"""Write ``cdk import --resource-mapping``'s file from the import template ``make import`` synthesized.

Usage: ``python scripts/import_mapping.py TEMPLATE.json MAPPING.json``. Checks that the template is one
CloudFormation import can take for the existing bucket (``constructs_lib.core.bucket_import``) and
writes ``{"StorageBucketE81A0E79": {"BucketName": "..."}}``; exit 2 with one line when it is not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from constructs_lib.core.bucket_import import ImportTemplateError, resource_mapping


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: import_mapping.py TEMPLATE.json MAPPING.json", file=sys.stderr)
        return 2
    source, target = (Path(a) for a in argv)
    try:
        mapping = resource_mapping(json.loads(source.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ImportTemplateError) as error:
        print(f"import_mapping: {source}: {error}", file=sys.stderr)
        return 2
    target.write_text(json.dumps(mapping, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for logical_id, identifier in mapping.items():
        print(f"import_mapping: {logical_id} <- {identifier} ({target})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
