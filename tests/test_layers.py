"""The domain never imports the outer layers: web, cli and clock call the domain, and build the
runtime that holds settings, database, provider and schedules; domain functions are handed what
they use. A domain module importing an outer one would tie the rules to Flask, click or the
scheduler, and let a function reach for the whole runtime again. This test reads the code (with
`ast`, so an import inside a function counts too) and names each offending line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ADVENT = Path(__file__).resolve().parent.parent / "advent"
DOMAIN = ["content", "people", "sending", "states", "receipts.py", "organiser"]
OUTER = ("advent.runtime", "advent.web", "advent.cli", "advent.clock")


def _domain_files() -> list[Path]:
    found = []
    for name in DOMAIN:
        where = ADVENT / name
        found += sorted(where.rglob("*.py")) if where.is_dir() else [where]
    return found


def _module_of(path: Path) -> str:
    parts = path.relative_to(ADVENT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Every module name the statement may load, with relative imports made absolute."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        # `from . import x` in a package's __init__ is relative to the package itself.
        package = module.split(".")
        anchor = package[: len(package) - node.level + (1 if is_package else 0)]
        base = ".".join(anchor + ([base] if base else []))
    # `from advent import web` loads advent.web: each name may be a module.
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def outer_imports(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, outer module) for each import of an outer layer in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for name in _imported(node, module, is_package):
            outer = next((o for o in OUTER if name == o or name.startswith(o + ".")), None)
            if outer:
                found.append((node.lineno, outer))
                break
    return found


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: str(p.relative_to(ADVENT)))
def test_a_domain_module_imports_no_outer_layer(path: Path) -> None:
    found = outer_imports(path.read_text(), _module_of(path), is_package=path.name == "__init__.py")
    where = path.relative_to(ADVENT.parent)
    assert found == [], "\n".join(
        f"{where}:{line} imports {outer}; pass the function what it uses (session, provider, "
        f"schedules, settings) from the caller in web/, cli/ or clock/ instead"
        for line, outer in found
    )


def test_the_domain_folders_are_all_there() -> None:
    # A folder renamed away would make the check above pass by checking nothing.
    assert all((ADVENT / name).exists() for name in DOMAIN)
    assert len(_domain_files()) > 20


@pytest.mark.parametrize(
    "source",
    [
        "import advent.runtime",
        "from advent.runtime import Runtime",
        "from advent import web",
        "from advent.cli.common import runtime",
        "def later():\n    from advent.clock.scheduler import tick",
        "from ..clock import lease",
        "from .. import runtime",
    ],
)
def test_every_way_of_importing_an_outer_layer_is_seen(source: str) -> None:
    assert outer_imports(source, "advent.people.conversations") != []


@pytest.mark.parametrize(
    "source",
    [
        "from advent.content.schedules import Schedule",
        "import advent.receipts",
        "from advent import config",
        "from . import keywords",
        "from ..sending import dispatch",
        "import clockwork",
    ],
)
def test_imports_within_the_domain_are_allowed(source: str) -> None:
    assert outer_imports(source, "advent.people.conversations") == []
