"""Compile to bytecode only the modules the project imports (``make`` installs with ``pip --no-compile``).

pip spends ~15 s compiling the whole 428 MB ``aws_cdk`` package, of which the app imports a handful
of modules; and with ``PYTHONDONTWRITEBYTECODE`` set (as on CI machines), Python never writes the
bytecode later on its own, so every run would compile the imported modules again. This imports
the given modules with bytecode writing switched on, then compiles every imported module file that
still has no bytecode (those imported before the switch).

``NAME.*`` compiles every module file under package NAME without importing it: for packages that
load their modules by path at run time (cfn-lint's rules), which no import list would reach.
"""

from __future__ import annotations

import compileall
import importlib
import importlib.util
import py_compile
import sys
from importlib.util import cache_from_source
from pathlib import Path


def compile_tree(package: str) -> int:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"precompile: {package!r} is not an installed package")
    compiled = 0
    for location in spec.submodule_search_locations:
        before = sum(1 for _ in Path(location).rglob("*.pyc"))
        compileall.compile_dir(location, quiet=2, workers=1)
        compiled += sum(1 for _ in Path(location).rglob("*.pyc")) - before
    return compiled


def main(modules: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app's own packages (stacks)
    sys.dont_write_bytecode = False
    trees = [name.removesuffix(".*") for name in modules if name.endswith(".*")]
    for name in modules:
        if not name.endswith(".*"):
            importlib.import_module(name)
    in_trees = sum(compile_tree(package) for package in trees)
    compiled = 0
    for module in list(sys.modules.values()):
        source = getattr(module, "__file__", None)
        if not source or not source.endswith(".py"):
            continue
        cached = Path(cache_from_source(source))
        if not cached.exists():
            try:
                py_compile.compile(source, cfile=str(cached), doraise=True)
                compiled += 1
            except (py_compile.PyCompileError, OSError):
                continue  # a read-only or odd location: Python compiles it in memory at import
    print(
        f"precompile: {len(sys.modules)} modules imported, {compiled} compiled after the fact, "
        f"{in_trees} in {len(trees)} package trees"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
