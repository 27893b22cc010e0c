"""`make docs`: write the settings tables of the settings model into README.md, between its markers."""

from __future__ import annotations

import sys
from pathlib import Path

from constructs_lib.core.settings import readme_table

START, END = "<!-- settings-table:start -->\n", "<!-- settings-table:end -->"


def main(path: str) -> int:
    readme = Path(path)
    text = readme.read_text()
    if START not in text or END not in text:
        print(f"{path}: no {START.strip()} ... {END} markers", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    updated = f"{head}{START}{readme_table()}{END}{tail}"
    if updated != text:
        readme.write_text(updated)
        print(f"{path}: settings tables updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
