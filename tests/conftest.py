from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
DEVSET = ROOT.parent / "shared" / "devset"


def make_notebook(cells: list[str], path: Path, executed: bool = True, markdown: dict[int, str] | None = None,
                  outputs: list[str] | None = None, counts: list[int] | None = None) -> Path:
    """Write a notebook whose code cells are `cells` (markdown cells inserted at given indices,
    saved stream outputs per code cell, execution counts per code cell: 0 = not run)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = []
    for i, src in enumerate(cells):
        if markdown and i in markdown:
            out.append(nbformat.v4.new_markdown_cell(markdown[i]))
        c = nbformat.v4.new_code_cell(src)
        if executed:
            c.execution_count = i + 1
        if counts is not None and i < len(counts):
            c.execution_count = counts[i] or None
        if outputs and i < len(outputs) and outputs[i]:
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=outputs[i])]
        out.append(c)
    nb.cells = out
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def notebook(tmp_path):
    def _make(cells: list[str], name: str = "student.ipynb", **kw) -> Path:
        return make_notebook(cells, tmp_path / name, **kw)

    return _make


def run_cli(*args: str, cwd: Path | None = None):
    import subprocess

    return subprocess.run([sys.executable, "-m", "nbreview", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT)
