"""The pipeline's layers point one way: ground <- ingest <- assistant <- evals <- interfaces.

Every import statement of every module (read with ``ast``, nothing is executed) is checked against the
rules below; a failure names the file, the line and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"common", "ingest", "assistant", "evals", "ui", "papers"}
ALLOWED = {  # a package may import itself and these
    "common": set(),
    "ingest": {"common"},
    "assistant": {"common", "ingest"},
    "evals": {"common", "assistant"},
    "ui": OURS,
    "papers": OURS,
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _layer(path: Path, root: Path) -> str:
    """A ``__main__`` module is an entry point that nothing imports: it sits with the interfaces."""
    package = path.relative_to(root).parts[0]
    return "papers" if path.name == "__main__.py" else package


def violations(root: Path = ROOT) -> list[str]:
    bad = []
    for package in sorted(OURS):
        for path in sorted((root / package).rglob("*.py")):
            layer = _layer(path, root)
            for line, module in _imports(path):
                top = module.split(".")[0]
                if top in OURS and top != layer and top not in ALLOWED[layer]:
                    bad.append(f"{path.relative_to(root)}:{line}: imports {module} ({layer} may import only "
                               f"{', '.join(sorted(ALLOWED[layer])) or 'nothing of ours'})")
    return bad


def test_every_package_imports_only_the_layers_below_it():
    assert violations() == []


def test_the_check_names_the_file_and_the_import_that_breaks_a_rule(tmp_path):
    for package in OURS:
        (tmp_path / package).mkdir()
    (tmp_path / "ingest" / "bad.py").write_text("import os\nfrom assistant.api import ask\n")
    (tmp_path / "common" / "worse.py").write_text("def f():\n    import ingest.store\n")
    (tmp_path / "assistant" / "__main__.py").write_text("from papers.cli import main\n")
    assert violations(tmp_path) == [
        "common/worse.py:2: imports ingest.store (common may import only nothing of ours)",
        "ingest/bad.py:2: imports assistant.api (ingest may import only common)",
    ]

