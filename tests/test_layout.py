"""The layout: no import circle among the project's modules, and no long source file.

The import graph is built from the source with ``ast``, not by importing: every ``import`` statement
counts wherever it stands (module level, inside a function, under ``if TYPE_CHECKING:``), since a
function-level import that closes a circle only moves the failure to the first call. ``from X
import Y`` is an edge to ``X.Y`` when that is a module of ours, else to ``X``. A submodule's implicit
import of its parent package is no edge: a package's ``__init__`` re-exporting its modules is how
packages keep old import paths (``constructs_lib.compliance``, ``constructs_lib.core.settings``).
Imports by name at run time (``importlib.import_module``) are invisible here; the lazy facades that
use them (``constructs_lib/__init__.py``, ``constructs_lib/core/prover/__init__.py``) name the same
modules under ``TYPE_CHECKING``, which counts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: What the graph and the length limit cover: the library, the command, the stacks and the app.
PACKAGES = ("constructs_lib", "recordings_kms", "stacks")
MODULE_FILES = ("app.py",)
#: No source file of ``PACKAGES`` or ``MODULE_FILES`` is longer (issue 15).
MAX_LINES = 500

#: Circles that other branches remove; the lead deletes each entry when merging the branch that breaks it.
#: An entry that is no longer a circle fails the test, so that none outlives its fix.
TEMPORARY_CIRCLES: frozenset[frozenset[str]] = frozenset()
#: Files over MAX_LINES that other branches split (the same rule: the lead deletes an entry on merging).
TEMPORARY_LONG_FILES: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Import:
    """One edge of the graph: ``module`` imports ``target`` at ``path:line``."""

    module: str
    target: str
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.module} -> {self.target} ({self.path}:{self.line})"


def source_files(
    root: Path, packages: Iterable[str] = PACKAGES, files: Iterable[str] = MODULE_FILES
) -> dict[str, Path]:
    """Every module of ``packages`` and every file of ``files`` under ``root``, by module name."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    for name in files:
        found[Path(name).stem] = root / name
    return found


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imports_of(module: str, path: Path, known: Mapping[str, Path], root: Path) -> list[Import]:
    """The edges from ``module`` to other modules of ``known``, from every import statement in its source."""
    tree = ast.parse(path.read_text(), filename=str(path))
    edges = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                deepest = next(
                    (".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in known), None
                )
                targets += [deepest] if deepest else []
        else:
            base = node.module or ""
            if node.level:
                package = _package_of(module, path).split(".")
                anchor = ".".join(package[: len(package) - (node.level - 1)])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in known:
                    targets.append(submodule)
                elif base in known:
                    targets.append(base)
        edges += [Import(module, target, path.relative_to(root), node.lineno) for target in targets]
    return [edge for edge in edges if edge.target != module]


def import_graph(
    root: Path = REPO, packages: Iterable[str] = PACKAGES, files: Iterable[str] = MODULE_FILES
) -> dict[str, list[Import]]:
    known = source_files(root, packages, files)
    return {module: imports_of(module, path, known, root) for module, path in known.items()}


def circles(graph: Mapping[str, list[Import]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    successors = {module: sorted({e.target for e in edges}) for module, edges in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for start in sorted(successors):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            module, position = work.pop()
            if position == 0:
                index[module] = low[module] = len(index)
                stack.append(module)
                on_stack.add(module)
            following = successors[module]
            if position < len(following):
                work.append((module, position + 1))
                target = following[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            if low[module] == index[module]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
    return found


def one_cycle(graph: Mapping[str, list[Import]], component: frozenset[str]) -> list[Import]:
    """A closed path through ``component``, edge by edge (with the line of each import), to name the circle."""
    start = min(component)
    path: list[Import] = []
    seen: set[str] = set()

    def walk(module: str) -> bool:
        seen.add(module)
        for edge in sorted(graph[module], key=lambda e: e.target):
            if edge.target not in component:
                continue
            path.append(edge)
            if edge.target == start or (edge.target not in seen and walk(edge.target)):
                return True
            path.pop()
        return False

    walk(start)
    return path


def describe(graph: Mapping[str, list[Import]], component: frozenset[str]) -> str:
    return f"{', '.join(sorted(component))}: " + "; ".join(str(edge) for edge in one_cycle(graph, component))


# --- the project's layout ---------------------------------------------------------------------------------


def test_no_import_circle() -> None:
    graph = import_graph()
    found = circles(graph)
    new = [describe(graph, c) for c in found if c not in TEMPORARY_CIRCLES]
    assert new == [], "import circles (the lower module should own what both need):\n" + "\n".join(new)
    fixed = sorted(sorted(c) for c in TEMPORARY_CIRCLES - set(found))
    assert fixed == [], f"no longer circles: delete them from TEMPORARY_CIRCLES: {fixed}"


def test_no_long_source_file() -> None:
    lengths = {str(path.relative_to(REPO)): len(path.read_text().splitlines()) for path in source_files(REPO).values()}
    long = {name: n for name, n in sorted(lengths.items()) if n > MAX_LINES}
    offenders = [f"{name} ({n} lines)" for name, n in long.items() if name not in TEMPORARY_LONG_FILES]
    assert offenders == [], f"source files over {MAX_LINES} lines: split them by concern: {', '.join(offenders)}"
    fixed = sorted(TEMPORARY_LONG_FILES - set(long))
    assert fixed == [], f"no longer over {MAX_LINES} lines: delete them from TEMPORARY_LONG_FILES: {fixed}"


def test_the_graph_holds_the_edges_the_layout_relies_on() -> None:
    """A graph builder that missed imports would find no circle: check it sees what the code does."""
    edges = {(e.module, e.target) for edges in import_graph().values() for e in edges}
    assert ("constructs_lib.storage", "constructs_lib.key") in edges  # module level
    assert ("constructs_lib.compliance.proofs", "constructs_lib.storage") in edges  # inside a function
    assert ("constructs_lib", "constructs_lib.storage") in edges  # under TYPE_CHECKING
    assert ("constructs_lib.bucket", "constructs_lib.compliance.acknowledgments") in edges  # from X import module
    assert ("app", "stacks.recordings_stack") in edges
    assert ("constructs_lib.compliance.acknowledgments", "constructs_lib.compliance") not in edges  # parent: none


# --- the checks themselves, on made-up trees ------------------------------------------------------------


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    for name, source in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(source)


@pytest.mark.parametrize(
    "closing",
    [
        "from pkg import a\n",
        "import pkg.a\n",
        "from . import a\n",
        "from .a import VALUE\n",
        "def late():\n    from pkg.a import VALUE\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n",
    ],
    ids=["from-package-import-module", "import", "relative-module", "relative-name", "in-a-function", "type-checking"],
)
def test_every_kind_of_import_closes_a_circle(tmp_path: Path, closing: str) -> None:
    write_tree(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/a.py": "from pkg.b import helper\nVALUE = 1\n", "pkg/b.py": closing},
    )
    graph = import_graph(tmp_path, packages=["pkg"], files=[])
    [component] = circles(graph)
    assert component == {"pkg.a", "pkg.b"}
    assert describe(graph, component).startswith("pkg.a, pkg.b: pkg.a -> pkg.b (pkg/a.py:1); pkg.b -> pkg.a (pkg/b.py:")


def test_a_package_reexporting_its_modules_and_a_chain_are_no_circle(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.a import VALUE\nfrom pkg.sub import OTHER\n",
            "pkg/a.py": "from pkg.sub.c import OTHER\nVALUE = 1\n",
            "pkg/sub/__init__.py": "from pkg.sub.c import OTHER\n",
            "pkg/sub/c.py": "import json\nOTHER = 2\n",
            "main.py": "import pkg\n",
        },
    )
    graph = import_graph(tmp_path, packages=["pkg"], files=["main.py"])
    assert circles(graph) == []
    assert {e.target for e in graph["pkg"]} == {"pkg.a", "pkg.sub"}
    assert {e.target for e in graph["main"]} == {"pkg"}


def test_a_long_circle_is_named_edge_by_edge(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import pkg.b\n",
            "pkg/b.py": "import pkg.c\n",
            "pkg/c.py": "\n\nimport pkg.a\n",
            "pkg/d.py": "import pkg.a\n",
        },
    )
    graph = import_graph(tmp_path, packages=["pkg"], files=[])
    [component] = circles(graph)
    assert describe(graph, component) == (
        "pkg.a, pkg.b, pkg.c: pkg.a -> pkg.b (pkg/a.py:1); pkg.b -> pkg.c (pkg/b.py:1); pkg.c -> pkg.a (pkg/c.py:3)"
    )
