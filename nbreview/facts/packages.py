"""Packages the notebook installs and imports: `!pip install ...` / `%pip install ...` lines
(and bare `pip install ...` lines that IPython runs as an automagic, which do not parse as
Python), and the qualified names of every import."""
from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass

from ..program import Program
from .values import Site

_BARE_PIP = re.compile(r"^\s*(pip3?|conda)\s+install\b")


@dataclass(frozen=True)
class Install:
    site: Site
    text: str  # the command as written, without `!` / `%`
    packages: tuple[str, ...]  # requirement names, lower case (`efficientnet`, `git+https://...`)


def _placeholder(cell: int, line: int, width: int) -> Site:
    node = ast.Pass(lineno=line, col_offset=0, end_lineno=line, end_col_offset=width)
    return Site(cell, node)


def requirements(command: str) -> tuple[str, ...]:
    """The packages a pip/conda install command names (options dropped, versions stripped)."""
    if "install" not in command:  # (no word can be `install`: shlex, slow, is spared `!ls` and the like)
        return ()
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        words = command.split()
    if len(words) < 2 or words[0] not in ("pip", "pip3", "conda", "python", "python3", "mamba"):
        return ()
    if words[0].startswith("python"):
        if words[1:3] != ["-m", "pip"]:
            return ()
        words = words[2:]
    if "install" not in words:
        return ()
    out = []
    skip_next = False
    for w in words[words.index("install") + 1:]:
        if skip_next:
            skip_next = False
            continue
        if w in ("-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url", "-f",
                 "--find-links", "--target", "-t", "-c", "--channel"):
            skip_next = True
            continue
        if w.startswith("-") or w.startswith("&") or w in (";", "&&", "|"):
            if w in ("&&", ";", "|"):
                break
            continue
        if w.startswith(("git+", "http://", "https://")):
            out.append(w.lower())
        else:
            out.append(re.split(r"[<>=!~\[;]", w, 1)[0].lower())
    return tuple(out)


def installs(program: Program) -> list[Install]:
    out: list[Install] = []
    for cell, cmd in program.shell_commands:
        pk = requirements(cmd.text)
        if pk:
            out.append(Install(_placeholder(cell, cmd.line, len(cmd.text) + 1), cmd.text, pk))
    for cc in program.cells:
        if cc.tree is not None or cc.masked.skipped is not None:
            continue  # a parsed cell cannot hold a bare `pip install` line
        for i, line in enumerate(cc.cell.source.split("\n"), start=1):
            if _BARE_PIP.match(line):
                pk = requirements(line.strip())
                if pk:
                    out.append(Install(_placeholder(cc.index, i, len(line)), line.strip(), pk))
    return out


_OLD_PIN = re.compile(r"^(tensorflow(-gpu|-cpu)?==1\.|keras==2\.[0-2]\b|keras==1\.)")
_TF_VERSION_MAGIC = re.compile(r"%tensorflow_version\s+1")
_VERSION_PRINT = re.compile(r"\b(tf|tensorflow|keras)\.__version__")


def old_keras(program: Program, installs_: list[Install]) -> bool:
    """Keras older than 2.3 (standalone) or TensorFlow 1.x: such versions log `acc` for
    `metrics=['accuracy']`. Told by a pinned install, Colab's `%tensorflow_version 1.x`, or a
    printed version in a saved output."""
    for inst in installs_:
        if any(_OLD_PIN.match(p) for p in inst.packages) or any(
                _OLD_PIN.match(w) for w in inst.text.split()):
            return True
    for cc in program.cells:
        if any(_TF_VERSION_MAGIC.search(text) for _line, text in cc.masked.magics):
            return True
        if _VERSION_PRINT.search(cc.cell.source) and cc.cell.outputs:
            from ..outputs import output_text

            text = output_text(cc.cell.outputs)
            if re.search(r"(?m)^\s*1\.\d+\.\d+\s*$", text) or re.search(r"(?m)^\s*2\.[0-2]\.\d+\s*$", text) \
                    and "keras.__version__" in cc.cell.source and "tf.__version__" not in cc.cell.source:
                return True
    return False
