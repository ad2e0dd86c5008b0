"""Masking IPython syntax so that a cell parses as Python, without moving any position.

Line magics (`%matplotlib inline`), shell escapes (`!pip install x`), `x = !cmd`,
help (`obj?`, `?obj`) become `pass`-like placeholders of the same line count; the
commands are kept so that rules can read them (`!pip install efficientnet`). Cells of a
cell magic that runs Python (`%%time`, `%%capture`, ...) are analysed without their first
line; other cell magics (`%%bash`, `%%writefile`, ...) are not Python and are skipped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# Cell magics whose body is Python code run in the kernel.
PYTHON_CELL_MAGICS = frozenset(
    {"time", "timeit", "capture", "prun", "debug", "pypy", "python", "python3", "ipython", "tensorboard"}
)
TIMING_LINE_MAGICS = frozenset({"time", "timeit", "prun", "capture"})
SHELL_CELL_MAGICS = frozenset({"bash", "sh", "script", "system", "!"})

# `files = !ls`, `x, y = %sx cmd`: the targets are names, dots, commas, brackets and spaces only.
# (Not one regex `^(\s*[...]+?\s*=\s*)([!%].*)$`: it backtracks cubically on a long blank line.)
_ASSIGN_TARGETS = re.compile(r"[\w.,\s\[\]()*]+")
_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")


@dataclass
class ShellCommand:
    line: int  # 1-based within the cell
    text: str  # the command without its `!` / `%pip` prefix, e.g. "pip install -q efficientnet"
    magic: str | None = None  # "pip", "conda", "system", or None for `!`


@dataclass
class MaskedCell:
    source: str  # same number of lines as the original
    skipped: str | None = None  # name of a non-Python cell magic, when the cell is skipped
    shell: list[ShellCommand] = field(default_factory=list)
    magics: list[tuple[int, str]] = field(default_factory=list)


def _placeholder(indent: str) -> str:
    return f"{indent}pass"


# Anything the line loop of `mask` could change starts a line with `!`, `%` or `?`, ends one
# with `?`, or follows `=` with `!` or `%`: most cells have none of these and are returned as they are.
_IPYTHON_SYNTAX = re.compile(r"^[ \t]*[!%?]|\?[ \t]*$|=[ \t]*[!%]", re.MULTILINE)


def mask(source: str) -> MaskedCell:
    if not _IPYTHON_SYNTAX.search(source):
        return MaskedCell(source=source)
    lines = source.split("\n")
    out = MaskedCell(source=source)
    first = lines[0].lstrip() if lines else ""
    start = 0
    if first.startswith("%%"):
        name = first[2:].split(None, 1)[0] if len(first) > 2 else ""
        if name in SHELL_CELL_MAGICS:
            out.skipped = f"%%{name}"
            body = lines[1:]
            for i, text in enumerate(body, start=2):
                if text.strip() and not text.strip().startswith("#"):
                    out.shell.append(ShellCommand(i, text.strip(), None))
            out.source = "\n" * (len(lines) - 1)
            return out
        if name not in PYTHON_CELL_MAGICS:
            out.skipped = f"%%{name}"
            out.source = "\n" * (len(lines) - 1)
            return out
        out.magics.append((1, first))
        lines[0] = ""
        start = 1

    in_string: str | None = None
    for i in range(start, len(lines)):
        text = lines[i]
        if in_string is None:
            stripped = text.lstrip()
            indent = text[: len(text) - len(stripped)]
            if stripped.startswith("!"):
                out.shell.append(ShellCommand(i + 1, stripped[1:].strip(), None))
                lines[i] = _placeholder(indent)
                continue
            if stripped.startswith("%") and not stripped.startswith("%%"):
                word = stripped[1:].split(None, 1)
                name = word[0] if word else ""
                if name in {"pip", "conda", "sx", "system"}:
                    out.shell.append(ShellCommand(i + 1, stripped[1:].strip(), name))
                elif name in TIMING_LINE_MAGICS and len(word) > 1:
                    # `%time model.fit(...)` runs the Python after the magic: keep it in place
                    out.magics.append((i + 1, stripped))
                    # `_;` keeps the statement at its column and still parses: `_;    x = f()`
                    pad = len(stripped) - len(word[1])
                    lines[i] = indent + "_;" + " " * (pad - 2) + word[1]
                    in_string = _track_triple_quotes(lines[i], in_string)
                    continue
                else:
                    out.magics.append((i + 1, stripped))
                lines[i] = _placeholder(indent)
                continue
            if _HELP.match(text):
                lines[i] = _placeholder(indent)
                continue
            m = _assign_magic(text)
            if m and not _looks_like_python_rhs(m[1]):
                head, cmd = m
                if cmd.startswith("!"):
                    out.shell.append(ShellCommand(i + 1, cmd[1:].strip(), None))
                else:
                    out.magics.append((i + 1, cmd))
                lines[i] = head + "None"
                continue
        in_string = _track_triple_quotes(text, in_string)
    out.source = "\n".join(lines)
    return out


def _assign_magic(text: str) -> tuple[str, str] | None:
    """(`x = `, `!cmd`) for a line assigning the output of a shell command or a magic."""
    at = text.find("=")
    if at <= 0:
        return None
    cmd = text[at + 1:].lstrip()
    if not cmd or cmd[0] not in "!%" or not _ASSIGN_TARGETS.fullmatch(text, 0, at):
        return None
    return text[: len(text) - len(cmd)], cmd


def _looks_like_python_rhs(rhs: str) -> bool:
    # `x = !cmd` and `x = %sx cmd` are IPython; `x = !=` cannot occur; `%` alone is modulo
    # only after an operand, never right after `=`.
    return rhs.startswith("!=")


_OPEN = re.compile(r"""#|'''|\"\"\"|['"]""")
_STRING_END = {"'": re.compile(r"(?:[^'\\]|\\.)*'"), '"': re.compile(r'(?:[^"\\]|\\.)*"')}
_TRIPLE_END = {"'''": re.compile(r"(?:[^\\']|\\.|'(?!''))*'''"),
               '"""': re.compile(r'(?:[^\\"]|\\.|"(?!""))*"""')}


def _track_triple_quotes(text: str, state: str | None) -> str | None:
    """Rough tracking of triple-quoted strings so that `!` lines inside them stay text."""
    if state is None:
        if "'" not in text and '"' not in text:
            return None  # most lines: nothing opens a string
    elif state not in text:
        return state  # still inside the same triple-quoted string
    i = 0
    while True:
        if state is not None:
            end = _TRIPLE_END[state].match(text, i)
            if end is None:
                return state
            i, state = end.end(), None
        m = _OPEN.search(text, i)
        if m is None or m.group() == "#":
            return None
        i = m.end()
        if len(m.group()) == 3:
            state = m.group()
            continue
        end = _STRING_END[m.group()].match(text, i)
        if end is None:
            return None  # an unterminated one-line string ends with the line
        i = end.end()
