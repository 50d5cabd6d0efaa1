"""The README's module map matches the tree: a new module or folder is named there, and a name
there is a file here. The map is how the next engineer finds their way, so it must not drift."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "advent"


def _map_rows() -> list[tuple[list[str], list[str]]]:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("| folder | what it holds |")
    rows = []
    for line in readme[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        where, what = line.strip("|").split("|", 1)
        rows.append((re.findall(r"`([^`]+)`", where), re.findall(r"`([^`]+)`", what)))
    return rows


def _modules(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("*.py") if p.name != "__init__.py"}


def _subpackages(folder: Path) -> set[str]:
    return {p.name + "/" for p in folder.iterdir() if (p / "__init__.py").exists()}


def test_every_folder_row_lists_exactly_the_modules_in_that_folder() -> None:
    for where, what in _map_rows():
        if len(where) != 1 or not where[0].endswith("/"):
            continue
        folder = ROOT / where[0]
        assert folder.is_dir(), f"README names {where[0]}, which is not a folder"
        listed = [name for name in what if name.endswith(".py")]
        if not listed:
            continue  # a row that describes the folder without listing its modules
        # `simulator/network.py` names a module of a subfolder; each folder named is listed whole.
        by_folder: dict[Path, set[str]] = {}
        for name in listed:
            by_folder.setdefault((folder / name).parent, set()).add(Path(name).name)
        by_folder.setdefault(folder, set())
        for place, named in by_folder.items():
            assert named == _modules(place), (
                f"{place.relative_to(ROOT)}: README lists {sorted(named)}, "
                f"the folder has {sorted(_modules(place))}"
            )
        for sub in _subpackages(folder):
            assert folder / sub.rstrip("/") in by_folder, f"{where[0]}{sub} is missing from the README's map"


def test_every_package_and_top_level_module_is_on_the_map() -> None:
    rows = _map_rows()
    folders = {w for where, _ in rows for w in where if w.endswith("/")}
    files = {
        Path(where[0]).parent / name if "/" not in name else Path(name)
        for where, _ in rows
        for name in where
        if name.endswith(".py")
    }
    for package in _subpackages(PACKAGE):
        assert f"advent/{package}" in folders, f"advent/{package} is missing from the README's map"
    for module in _modules(PACKAGE):
        assert PACKAGE / module in {ROOT / f for f in files}, (
            f"advent/{module} is missing from the README's map"
        )
    for path in files:
        assert (ROOT / path).exists(), f"README's map names {path}, which does not exist"
