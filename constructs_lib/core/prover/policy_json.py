"""Policy JSON as AWS might read it: objects that remember duplicate keys (refused: AWS's reading of
them is not documented), and the shape helpers the parsers share.
"""

from __future__ import annotations

import json
from typing import Any

from constructs_lib.core.prover.model import PolicyFormatError

# --- JSON as AWS might read it ---------------------------------------------------------------------


class JsonObject(dict[str, Any]):
    """A JSON object read by ``load_json``: ``duplicates`` names the keys it held more than once.

    Python's ``json`` keeps the last of duplicate keys; what AWS keeps is not documented (it may keep
    the first), so a statement with a duplicate key has no single reading: ``parse_policy`` refuses it.
    """

    duplicates: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> JsonObject:
    found = JsonObject(pairs)
    if len(found) < len(pairs):
        keys = [key for key, _ in pairs]
        found.duplicates = tuple(dict.fromkeys(k for k in keys if keys.count(k) > 1))
    return found


def load_json(text: str | bytes) -> Any:
    """``json.loads``, remembering duplicate keys (``JsonObject``) for ``parse_policy`` to refuse."""
    return json.loads(text, object_pairs_hook=_json_object)


def no_duplicates(value: Any, where: str) -> None:
    duplicates = getattr(value, "duplicates", ())
    if duplicates:
        keys = ", ".join(repr(k) for k in duplicates)
        raise PolicyFormatError(
            f"{where} has the key {keys} more than once (AWS may read another of the values than Python's json does)"
        )


def as_list(value: Any, where: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str | int | float | bool):
        return [value]
    raise PolicyFormatError(f"{where}: expected a value or a list, got {type(value).__name__}")
