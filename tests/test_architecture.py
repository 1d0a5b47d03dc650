"""Tests about the project itself: layering, module hygiene and size (docs/architecture.md).

Every ``.py`` file of the three packages is parsed with :mod:`ast` (never imported), so a
forbidden import is found wherever it hides: at module level, inside a function, as
``from x import y``, as a relative import, or as ``importlib.import_module("x")`` with a
literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ocr", "robots", "scenarios")

# Imports point one way only: scenarios → robots → ocr. Each package may not import these.
FORBIDDEN: dict[str, frozenset[str]] = {
    "ocr": frozenset({"robots", "scenarios"}),
    "robots": frozenset({"scenarios"}),
    "scenarios": frozenset(),
}

MAX_LINES = 450
#: A module past MAX_LINES says why in its docstring, on a line starting with this. Keep such
#: modules rare: a module that passes ~400 lines is usually two modules (GUIDE, convention 13).
SIZE_REASON = "Size:"

# The rooms of robots/ (docs/architecture.md) and their floors: a room imports only rooms on
# lower floors (and itself). Rooms on one floor are independent of each other.
ROBOTS_FLOORS: dict[str, int] = {
    "robots": 0, "errors": 0,  # robots/__init__.py (the version) and the exit codes
    "records": 1, "registry": 1, "tempdirs": 1,
    "config": 2, "db": 2, "exports": 2,
    "scenario": 3, "sheets": 3,
    "kit": 4, "run": 4,
    "report": 5, "samples": 5, "service": 5,
    "cli": 6,
}


def _modules() -> list[Path]:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    return [p for p in files if "__pycache__" not in p.parts]


MODULES = _modules()


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    if level == 0:
        return target or ""
    parts = module.split(".")
    # in a package's __init__, one dot means the package itself; in a module, its parent
    base = parts if is_package else parts[:-1]
    up = level - 1
    if up > len(base):
        raise ValueError(f"relative import beyond the top level in {module}")
    base = base[: len(base) - up]
    return ".".join([*base, target] if target else base)


def imported_names(source: str, module: str, is_package: bool) -> set[str]:
    """Every absolute module name the source imports (or names to ``import_module``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = resolve_relative(module, is_package, node.level, node.module)
            names.add(base)
            # `from robots import x` may import the submodule robots.x
            names.update(f"{base}.{a.name}" for a in node.names if a.name != "*")
        elif isinstance(node, ast.Call):
            fn = node.func
            called = (fn.attr if isinstance(fn, ast.Attribute)
                      else fn.id if isinstance(fn, ast.Name) else "")
            if (called in {"import_module", "__import__"} and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                names.add(node.args[0].value)
    return {n for n in names if n}


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


NAMES = {_module_name(p): p for p in MODULES}


def _as_module(name: str) -> str | None:
    """The project module an imported name belongs to (``a.b.C`` → ``a.b``), or None."""
    while name and name not in NAMES:
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return name or None


def module_imports(source: str, module: str, is_package: bool) -> set[str]:
    """The project modules a module imports: ``from p import sub`` is ``p.sub``, not ``p``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = resolve_relative(module, is_package, node.level, node.module)
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.add(sub if sub in NAMES else base)
        elif isinstance(node, ast.Import | ast.Call):
            found |= imported_names(ast.unparse(node), module, is_package)
    return {m for n in found if (m := _as_module(n)) is not None and m != module}


def import_graph() -> dict[str, set[str]]:
    """Project module → the project modules it imports (anywhere in its code)."""
    return {name: module_imports(path.read_text(encoding="utf-8"), name, _is_package(path))
            for name, path in NAMES.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


# -- the checker checks what it should (golden pairs) ---------------------------------------

@pytest.mark.parametrize(("module", "is_package", "source", "expected"), [
    ("ocr.fields", False, "import robots.run.runner", {"robots.run.runner"}),
    ("ocr.fields", False, "from robots import runner", {"robots", "robots.runner"}),
    ("ocr.fields", False, "from . import crops", {"ocr", "ocr.crops"}),
    ("ocr.fields", False, "from .crops import cut_field", {"ocr.crops", "ocr.crops.cut_field"}),
    ("ocr.engines._rapidocr", False, "from .. import results", {"ocr", "ocr.results"}),
    ("ocr.engines", True, "from ._tesseract import T", {"ocr.engines._tesseract",
                                                        "ocr.engines._tesseract.T"}),
    ("ocr.engines", True, "from .. import errors", {"ocr", "ocr.errors"}),
    ("ocr.fields", False, "def f():\n    from scenarios.intake import Intake\n",
     {"scenarios.intake", "scenarios.intake.Intake"}),
    ("ocr.fields", False, "import importlib\nimportlib.import_module('robots.cli')",
     {"importlib", "robots.cli"}),
    ("ocr.fields", False, "__import__('scenarios')", {"scenarios"}),
])
def test_import_walker(module: str, is_package: bool, source: str, expected: set[str]) -> None:
    assert imported_names(source, module, is_package) == expected


def test_relative_import_beyond_top_is_an_error() -> None:
    with pytest.raises(ValueError, match="beyond the top level"):
        resolve_relative("ocr.fields", False, 3, "x")


def test_every_module_is_found() -> None:
    names = {_rel(p) for p in MODULES}
    for expected in ("ocr/pipeline.py", "ocr/engines/__init__.py", "robots/run/runner.py",
                     "robots/samples/writers.py", "robots/cli/__init__.py",
                     "scenarios/intake/__init__.py"):
        assert expected in names
    assert len(MODULES) > 30


# -- the rules ----------------------------------------------------------------------------

def test_imports_flow_one_way() -> None:
    """scenarios → robots → ocr: never the other way, anywhere in a module."""
    bad = []
    for path in MODULES:
        pkg = _rel(path).split("/", 1)[0]
        names = imported_names(path.read_text(encoding="utf-8"), _module_name(path),
                               _is_package(path))
        for name in sorted(names):
            if _top(name) in FORBIDDEN[pkg]:
                bad.append(f"{_rel(path)} imports {name}")
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def _has_code(tree: ast.Module) -> bool:
    return bool(tree.body)


def test_packages_define_all() -> None:
    """Each package's public names are explicit.

    An ``__init__.py`` with no statements at all (a package that only holds data, such as
    ``scenarios/contracts/`` with its ``forms/``) exports nothing and is let through.
    """
    bad = []
    for path in MODULES:
        if not _is_package(path):
            continue
        tree = _parse(path)
        if not _has_code(tree):
            continue
        assigned = {t.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(t, ast.Name)}
        if "__all__" not in assigned:
            bad.append(_rel(path))
    assert not bad, "package __init__.py without __all__: " + ", ".join(bad)


def test_modules_define_all_names_that_exist() -> None:
    """Names listed in a module's ``__all__`` are defined or imported there."""
    bad = []
    for path in MODULES:
        tree = _parse(path)
        listed: list[str] = []
        defined: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
                listed = [e.value for e in getattr(node.value, "elts", [])
                          if isinstance(e, ast.Constant)]
            for sub in ast.walk(node):
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    defined.add(sub.name)
                elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    defined.add(sub.id)
                elif isinstance(sub, ast.alias):
                    defined.add((sub.asname or sub.name).split(".")[0])
        missing = [n for n in listed if n not in defined]
        if missing:
            bad.append(f"{_rel(path)}: {', '.join(missing)}")
    assert not bad, "__all__ names nothing defines:\n" + "\n".join(bad)


def test_future_annotations_everywhere() -> None:
    """``from __future__ import annotations`` in every module that has code."""
    bad = []
    for path in MODULES:
        tree = _parse(path)
        if not _has_code(tree):
            continue
        if not any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
                   and any(a.name == "annotations" for a in n.names) for n in tree.body):
            bad.append(_rel(path))
    assert not bad, "modules without `from __future__ import annotations`: " + ", ".join(bad)


def _docstring(path: Path) -> str:
    return ast.get_docstring(_parse(path)) or ""


def test_modules_stay_small() -> None:
    """A module past MAX_LINES carries its reason in its docstring (``Size: ...``)."""
    too_big = {}
    for path in MODULES:
        n = len(path.read_text(encoding="utf-8").splitlines())
        reason = [ln for ln in _docstring(path).splitlines()
                  if ln.strip().startswith(SIZE_REASON) and len(ln.strip()) > len(SIZE_REASON) + 10]
        if n > MAX_LINES and not reason:
            too_big[_rel(path)] = n
    assert not too_big, (f"modules over {MAX_LINES} lines (split them, or say why in a "
                         f"'{SIZE_REASON} ...' line of the docstring): {too_big}")


# -- the checks of the rules find what they should (golden pairs) --------------------------

def test_circle_finder() -> None:
    assert circles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_graph_sees_lazy_imports() -> None:
    graph = import_graph()
    # robots.run.executor imports the Dask executor inside make_executor only
    assert "robots.run.dask_executor" in graph["robots.run.executor"]


# -- the rules about the structure --------------------------------------------------------

def test_no_import_circles() -> None:
    """No module reaches itself through its imports, lazily imported or not."""
    found = circles(import_graph())
    assert not found, "import circles (move the shared piece down a floor):\n" + "\n".join(
        " ⇄ ".join(c) for c in found)


def test_no_private_names_across_modules() -> None:
    """``from m import _x`` only inside one module's own package; ``_m`` only from its package.

    A private name is a module's own business; a module that needs one from another has
    found a piece that wants to be public (or to move).
    """
    bad = []
    for path in MODULES:
        me = _module_name(path)
        my_package = me if _is_package(path) else me.rsplit(".", 1)[0]
        for node in ast.walk(_parse(path)):
            if not isinstance(node, ast.ImportFrom) or node.module == "__future__":
                continue
            base = resolve_relative(me, _is_package(path), node.level, node.module)
            if _as_module(base) is None:
                continue  # not ours (openpyxl's private modules are openpyxl's affair)
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    bad.append(f"{_rel(path)}: {a.name} from {base}")
            private = [i for i, part in enumerate(base.split(".")) if part.startswith("_")]
            if private:
                owner = ".".join(base.split(".")[:private[0]])
                if not (my_package == owner or my_package.startswith(owner + ".")):
                    bad.append(f"{_rel(path)}: private module {base}")
    assert not bad, "private names imported across modules:\n" + "\n".join(bad)


def test_robots_rooms_import_down_only() -> None:
    """Each room of robots/ imports only rooms on lower floors (docs/architecture.md)."""
    graph = import_graph()
    bad, unknown = [], set()
    for module, targets in graph.items():
        if not module.startswith("robots"):
            continue
        room = _room(module)
        if room not in ROBOTS_FLOORS:
            unknown.add(room)
            continue
        for t in sorted(targets):
            if not t.startswith("robots"):
                continue
            other = _room(t)
            if other != room and ROBOTS_FLOORS.get(other, 99) >= ROBOTS_FLOORS[room]:
                bad.append(f"{module} (floor {ROBOTS_FLOORS[room]}) imports {t} "
                           f"(floor {ROBOTS_FLOORS.get(other, '?')})")
    assert not unknown, f"rooms of robots/ without a floor in ROBOTS_FLOORS: {sorted(unknown)}"
    assert not bad, "imports against the floors of robots/:\n" + "\n".join(bad)


def test_every_room_says_what_it_owns() -> None:
    """Each package of robots/ opens with a docstring of at least a sentence or two."""
    short = [_rel(p) for p in MODULES if _is_package(p) and _rel(p).startswith("robots/")
             and len(_docstring(p)) < 120]
    assert not short, f"packages without a docstring saying what they own: {short}"


def test_robots_finds_scenarios_only_through_entry_points() -> None:
    """No scenario is named in robots/ code: the registry is the only way in."""
    scenario_names = {p.parent.name for p in (ROOT / "scenarios").glob("*/__init__.py")}
    bad = []
    for path in (ROOT / "robots").rglob("*.py"):
        for node in ast.walk(_parse(path)):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and any(node.value.startswith(f"scenarios.{s}") for s in scenario_names)):
                bad.append(f"{_rel(path)}:{node.lineno}: {node.value!r}")
    assert not bad, "robots/ names a scenario module:\n" + "\n".join(bad)
