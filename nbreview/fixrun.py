"""Running `nbreview fix` (and `nbreview check --fix`) over files and folders.

Each notebook is corrected in memory (fixer.py), its per-cell diff is printed, and the
result goes to `<name>.fixed.ipynb` next to it (default), back into the file (`in_place`:
atomic, with a `.bak` copy unless `backup=False`), to `output`, or nowhere (`diff_only`).
A notebook that cannot be read, parsed or written is reported and left as it was; the batch
goes on. Status lines go to stderr, diffs to stdout.
"""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, TextIO

from .engine import Options, discover
from .fixer import FixResult, fix_notebook
from .model import SEVERITY_RANK

FIXED_SUFFIX = ".fixed.ipynb"


def fixed_name(path: Path) -> Path:
    """student.ipynb -> student.fixed.ipynb (next to it)."""
    stem = path.name[:-len(".ipynb")] if path.name.endswith(".ipynb") else path.name
    return path.with_name(stem + FIXED_SUFFIX)


def notebooks(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str | None]]:
    """Like engine.discover, but a folder's `*.fixed.ipynb` (our own output) are not inputs."""
    for p in paths:
        explicit = not Path(p).is_dir()
        for path, error in discover([p]):
            if explicit or not path.name.endswith(FIXED_SUFFIX):
                yield path, error


@dataclass
class RunOutcome:
    results: list[FixResult] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    failed: int = 0  # notebooks left untouched because of an error (unreadable, unparsable, unwritable)

    @property
    def fixed(self) -> int:
        return sum(len(r.applied) for r in self.results if r.changed)

    def exit_code(self, fail_on: str) -> int:
        """As `check` would answer for the corrected notebooks: 1 findings at or above `fail_on`
        remain, 2 a notebook could not be read or fixed (and nothing fails), 0 clean."""
        if not self.results:
            return 2
        if fail_on != "never":
            limit = SEVERITY_RANK[fail_on]
            for r in self.results:
                if r.report is not None and any(SEVERITY_RANK.get(f.severity, 2) <= limit for f in r.report.findings):
                    return 1
        return 2 if self.failed else 0


def run(paths: list[Path], options: Options, *, unsafe: bool = False, in_place: bool = False,
        backup: bool = True, diff_only: bool = False, output: Path | None = None, show_diff: bool = True,
        color: bool = False, out: TextIO | None = None, err: TextIO | None = None) -> RunOutcome:
    from .config import Resolver
    from .nbwrite import WriteError, atomic_write

    out = out or sys.stdout
    err = err or sys.stderr
    outcome = RunOutcome()
    resolver = Resolver(options.config_file) if options.use_config or options.config_file else None
    for path, missing in notebooks(paths):
        if missing:
            outcome.results.append(FixResult(path=str(path), error=missing))
            outcome.failed += 1
            _status(err, f"{path}: {missing}")
            continue
        result = fix_notebook(path, options, unsafe=unsafe, resolver=resolver)
        outcome.results.append(result)
        if result.error:
            outcome.failed += 1
            _status(err, f"{path}: left untouched: {result.error}")
            continue
        if show_diff and result.diffs:
            _print_diff(out, result, color)
        target = None
        if result.changed and not diff_only:
            target = output if output is not None else (path.resolve() if in_place else fixed_name(path))
            bak = Path(str(target) + ".bak") if in_place and backup else None
            try:
                assert result.fixed is not None
                if output is not None:
                    try:
                        output.parent.mkdir(parents=True, exist_ok=True)
                    except OSError as exc:
                        raise WriteError(f"cannot create {output.parent}: {exc.strerror or exc}") from None
                atomic_write(target, result.fixed, backup=bak, mode_from=path if in_place else None)
            except WriteError as exc:
                outcome.failed += 1
                result.error = str(exc)
                result.report = None  # the file on disk is the original one
                _status(err, f"{path}: left untouched: {exc}")
                continue
            outcome.written.append(target)
        _status(err, _summary(path, result, diff_only, target, in_place))
        for note in result.notes:
            _status(err, f"  {note}")
    return outcome


def _summary(path: Path, r: FixResult, diff_only: bool, target: Path | None, in_place: bool) -> str:
    left = len(r.report.findings) if r.report is not None else 0
    tail = []
    if left:
        tail.append(f"{left} finding{'s' if left != 1 else ''} left")
    if r.unsafe_left:
        tail.append(f"{r.unsafe_left} more fixable with --unsafe-fixes")
    rest = f" ({'; '.join(tail)})" if tail else ""
    if not r.changed:
        return f"{path}: nothing to fix{rest}"
    n = len(r.applied)
    rules = Counter(a.rule for a in r.applied)
    what = ", ".join(f"{rule} x{k}" if k > 1 else rule for rule, k in sorted(rules.items()))
    verb = "would fix" if diff_only else "fixed"
    where = "" if diff_only else (" in place" if in_place else f" -> {target}")
    return f"{path}: {verb} {n} finding{'s' if n != 1 else ''} ({what}){where}{rest}"


def _status(err: TextIO, text: str) -> None:
    err.write(text + "\n")
    err.flush()


def _print_diff(out: TextIO, r: FixResult, color: bool) -> None:
    lines = [line for d in r.diffs for line in d.unified(r.path)]
    if not color:
        out.write("\n".join(lines) + "\n")
        out.flush()
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, force_terminal=True, highlight=False, soft_wrap=True)
    for line in lines:
        style = None
        if line.startswith(("---", "+++")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        console.print(Text(line, style=style or ""))


def summary_line(outcome: RunOutcome, diff_only: bool) -> str:
    """The last line of a batch: how many findings were fixed in how many notebooks."""
    changed = [r for r in outcome.results if r.changed]
    n = outcome.fixed
    verb = "would fix" if diff_only else "fixed"
    text = (f"nbreview: {verb} {n} finding{'s' if n != 1 else ''} in {len(changed)} "
            f"notebook{'s' if len(changed) != 1 else ''} (of {len(outcome.results)})")
    unsafe = sum(r.unsafe_left for r in outcome.results)
    if unsafe:
        text += f"; {unsafe} more fixable with --unsafe-fixes"
    if outcome.failed:
        text += f"; {outcome.failed} left untouched (see above)"
    return text
