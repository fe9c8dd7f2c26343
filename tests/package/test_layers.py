"""The package's layers import only downwards: model ← facts ← present ← explore ← chapters.

Walks every module's import statements (including those inside functions) with :mod:`ast`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "musicnn_nb"
LAYERS = ("model", "facts", "present", "explore", "chapters")  # bottom to top
PLOTTING = ("matplotlib", "IPython", "ipywidgets", "anywidget")


def imported_modules(path: Path) -> list[str]:
    """Absolute names of every module a source file imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.append(base)
            names += [f"{base}.{a.name}" for a in node.names]  # `from pkg import module`
    return names


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "musicnn_nb" and parts[1] in LAYERS else None


def sources(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def test_every_layer_exists_and_has_modules():
    for layer in LAYERS:
        assert sources(layer), layer


def test_every_module_sits_in_a_layer():
    """Outside the layers only the package's ``__init__`` and the command line: a module beside
    them would escape the import rule (as ``collect`` did before it moved into the model)."""
    listed = {p for layer in LAYERS for p in sources(layer)}
    outside = [p.relative_to(PACKAGE).as_posix() for p in sorted(PACKAGE.rglob("*.py")) if p not in listed]
    assert outside == ["__init__.py", "__main__.py"], outside


@pytest.mark.parametrize("layer", LAYERS)
def test_no_upward_import(layer):
    rank = LAYERS.index(layer)
    bad = [(p.name, m) for p in sources(layer) for m in imported_modules(p)
           if layer_of(m) is not None and LAYERS.index(layer_of(m)) > rank]
    assert not bad, f"{layer} imports a layer above it: {bad}"


def test_chapters_are_leaves():
    bad = []
    for path in sources("chapters"):
        bad += [(path.name, m) for m in imported_modules(path)
                if m.startswith("musicnn_nb.chapters.") and m.split(".")[2] != path.stem]
    assert not bad, f"a chapter module imports another chapter module: {bad}"


@pytest.mark.parametrize("layer", ("model", "facts"))
def test_model_and_facts_import_no_plotting_or_widgets(layer):
    bad = [(p.name, m) for p in sources(layer) for m in imported_modules(p) if m.split(".")[0] in PLOTTING]
    assert not bad, bad


def test_command_line_sits_on_the_model():
    for name in ("__main__.py",):
        mods = imported_modules(PACKAGE / name)
        above = [m for m in mods if layer_of(m) not in (None, "model")]
        assert not above, above


def test_walker_sees_relative_and_nested_imports(tmp_path, monkeypatch):
    """The check itself can fail: a chapter importing another inside a function is caught."""
    fake = tmp_path / "musicnn_nb" / "chapters"
    fake.mkdir(parents=True)
    (fake / "one.py").write_text("def f():\n    from . import two\n    from ..explore import widgets\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "musicnn_nb")
    mods = imported_modules(fake / "one.py")
    assert "musicnn_nb.chapters.two" in mods and "musicnn_nb.explore.widgets" in mods
