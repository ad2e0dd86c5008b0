"""The `nbreview` command line (typer).

`nbreview check` is also parsed by a small parser of its own (FAST_OPTIONS), so that a cold
check does not pay for typer's start-up; `--help`, other commands and anything that parser
does not know go to typer, which stays the reference (a test keeps the two in step).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, List, Optional

from . import __version__
from .model import SEVERITY_RANK

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
FAIL_LEVELS = ("error", "warning", "advice", "never")
FORMAT_NAMES = ("text", "json", "sarif", "github", "markdown", "html")


class _Fail(Exception):
    """A usage or environment problem: its message goes to stderr and the exit status is 2."""


def _split(values: Optional[List[str]]) -> set[str]:
    out: set[str] = set()
    for v in values or []:
        out.update(s.strip() for s in v.split(",") if s.strip())
    return out


def shown(value: Any) -> str:
    """A path or value for a message on stderr: one line, control characters escaped (a file
    name cannot start a GitHub workflow command or move the cursor of a terminal)."""
    from .render import shown_path

    text = shown_path(str(value))
    return text.replace("\n", "\\n").replace("\r", "\\r").replace("\u2028", "\\u2028")


def _err(message: str) -> None:
    message = shown(message)  # names inside it come from the file system: one line, no control characters
    try:
        sys.stderr.write(f"nbreview: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, UnicodeEncodeError):
        pass


def _check_slugs(slugs: set[str], option: str) -> None:
    from . import catalog as cat

    known = set(cat.catalog())
    unknown = sorted(slugs - known)
    if unknown:
        raise _Fail(f"unknown rule in {option}: {', '.join(shown(u) for u in unknown)} (see `nbreview rules`)")


def run_check(paths: List[Path], format: str = "text", lang: Optional[str] = None,
              select: Optional[List[str]] = None, ignore: Optional[List[str]] = None,
              fail_on: Optional[str] = None, output: Optional[Path] = None, color: Optional[bool] = None,
              baseline: Optional[Path] = None, write_baseline: Optional[Path] = None,
              config: Optional[Path] = None, isolated: bool = False, jobs: Optional[int] = None,
              suppressions: bool = True, fix: bool = False, unsafe_fixes: bool = False,
              evidence: Optional[List[Path]] = None) -> int:
    """`nbreview check`; returns the exit status."""
    try:
        return _check(paths, format, lang, select, ignore, fail_on, output, color, baseline, write_baseline,
                      config, isolated, jobs, suppressions, fix, unsafe_fixes, evidence)
    except _Fail as exc:
        _err(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED


def _check(paths, format, lang, select, ignore, fail_on, output, color, baseline, write_baseline, config,
           isolated, jobs, suppressions, fix=False, unsafe_fixes=False, evidence=None) -> int:
    from .config import ConfigError
    from .engine import Options, discover

    try:
        lang, fail_on = _run_settings(paths, config, isolated, lang, fail_on)
    except ConfigError as exc:
        raise _Fail(f"configuration error: {exc}") from None
    if format not in FORMAT_NAMES:
        raise _Fail(f"unknown format {shown(format)!r}; choose one of: {', '.join(FORMAT_NAMES)}")
    if lang not in ("ru", "en"):
        raise _Fail(f"unknown language {shown(lang)!r}; choose ru or en")
    if fail_on not in FAIL_LEVELS:
        raise _Fail(f"unknown --fail-on level {shown(fail_on)!r}; choose one of: {', '.join(FAIL_LEVELS)}")
    if jobs is not None and jobs < 0:
        raise _Fail("--jobs must be 0 (all the processors) or more")
    selected, ignored = _split(select), _split(ignore)
    _check_slugs(selected, "--select")
    _check_slugs(ignored, "--ignore")

    options = Options(select=selected or None, ignore=ignored, langs=(lang,),
                      use_config=not isolated, config_file=None if isolated else config, suppressions=suppressions,
                      edits=format in ("text", "markdown", "html") and write_baseline is None)  # corrected code
    if fix or unsafe_fixes:
        _fix_before_check(paths, options, unsafe_fixes)
    items = list(discover(paths))
    if not items:
        raise _Fail("no notebooks (*.ipynb) found under: " + ", ".join(shown(p) for p in paths))
    _guard_outputs(items, output, baseline, write_baseline, config)
    if baseline is not None:
        from . import baseline as bl

        try:
            bl.load(baseline)  # a broken baseline stops the run before any work
        except bl.BaselineError as exc:
            raise _Fail(str(exc)) from None

    from .batch import Job, available_cpus
    from .render import RenderContext

    docs = _load_evidence(evidence) if evidence else None

    report_dir = output is not None and format in ("html", "markdown") and _is_report_dir(output)
    if color is None:
        color = output is None and format == "text" and sys.stdout.isatty()
    ctx = RenderContext(lang=lang, color=color, fail_on=fail_on, extra={"total": len(items)})
    job = Job(options, None if write_baseline is not None else format, ctx, baseline, write_baseline,
              page=report_dir, evidence=docs)
    workers = available_cpus() if not jobs else jobs

    if write_baseline is not None:
        return _write_baseline(items, job, workers, format, write_baseline)

    if report_dir:
        from .cohort import ReportFolder

        try:
            sink: Any = ReportFolder(output, format, ctx, [str(p) for p, _ in items])
        except OSError as exc:
            raise _Fail(f"cannot write reports to {shown(output)}: {exc.strerror or exc}") from None
        summaries = _drive(items, job, workers, sink, format, output)
        if docs:
            _evidence_notes(summaries, docs)
        _err(f"wrote {len(sink.written) - 1} report(s) and {shown(sink.written[-1])}")
        return exit_code(summaries, fail_on)

    from .render import module

    with _Destination(output, format) as out:
        sink = module(format).Sink(out, ctx)
        summaries = _drive(items, job, workers, sink, format, output)
    if docs:
        _evidence_notes(summaries, docs)
    _note_baseline(summaries, baseline)
    return exit_code(summaries, fail_on)


def _drive(items, job, workers: int, sink, format: str, output) -> list:
    from .batch import run
    from .progress import batch_progress

    with batch_progress(len(items), format) as progress:  # one step per item, missing paths too
        try:
            for summary, piece in run(items, job, workers, progress):
                sink.add(summary, piece)
            sink.close()
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            where = shown(output) if output is not None else "the output"
            raise _Fail(f"cannot write {where}: {exc.strerror or exc}") from None
    return sink.summaries


def _write_baseline(items, job, workers: int, format: str, path: Path) -> int:
    from . import baseline as bl
    from .batch import run

    entries: list = []
    summaries = []
    for summary, _ in run(items, job, workers):
        entries.extend(summary.baseline_entries)
        summaries.append(summary)
    try:
        n = bl.write_entries(entries, path)
    except bl.BaselineError as exc:
        raise _Fail(str(exc)) from None
    _err(f"recorded {n} finding(s) in the baseline {shown(path)}")
    return EXIT_CLEAN if summaries else EXIT_ERROR


def _load_evidence(paths: List[Path]) -> list:
    """`--evidence`: the files of `nbreview verify` (each notebook takes its own, see batch.finish)."""
    from .verify.evidence import EvidenceError, load_many

    missing = [shown(p) for p in paths if not p.exists()]
    if missing:
        raise _Fail(f"--evidence: no such file or directory: {', '.join(missing)}")
    try:
        return load_many(paths)
    except EvidenceError as exc:
        raise _Fail(f"--evidence: {exc}") from None


def _evidence_notes(summaries: list, evidence: list) -> None:
    from .verify.evidence import unused

    for s in summaries:
        for note in s.evidence_notes:
            _err(note)
    for note in unused(evidence, {s.evidence_used for s in summaries if s.evidence_used}):
        _err(note)


def _fix_before_check(paths: List[Path], options, unsafe: bool) -> None:
    """`check --fix`: correct the notebooks in place (status on stderr), then review as usual."""
    from dataclasses import replace

    from .config import ConfigError
    from .fixrun import run, summary_line

    try:
        outcome = run(paths, replace(options, langs=("en",)), unsafe=unsafe, in_place=True, backup=False,
                      show_diff=False, err=sys.stderr)
    except ConfigError as exc:
        raise _Fail(f"configuration error: {exc}") from None
    if outcome.results:
        _err(summary_line(outcome, diff_only=False).removeprefix("nbreview: "))


def _note_baseline(summaries: list, baseline: Optional[Path]) -> None:
    if baseline is None:
        return
    n = sum(s.baseline_removed for s in summaries)
    if n:
        _err(f"{n} finding(s) recorded in the baseline {shown(baseline)} are not shown")


class _Destination:
    """Where the report goes: stdout, or a file written in full before it replaces the old one
    (a device or a pipe, like /dev/stdout, is written to directly). Lone surrogates, which
    UTF-8 cannot hold, become U+FFFD on the way."""

    def __init__(self, output: Optional[Path], format: str) -> None:
        self.output = output
        self.format = format
        self.stream: Any = None
        self.tmp: Optional[str] = None

    def __enter__(self) -> "_Scrubbing":
        out = self.output
        if out is None:
            if self.format == "text":
                try:
                    sys.stdout.reconfigure(errors="replace")  # type: ignore[union-attr]
                except (AttributeError, ValueError):
                    pass
                self.stream = sys.stdout
            else:  # machine formats are UTF-8 whatever the console's encoding
                import io

                self.stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace", newline="",
                                               write_through=False)
            return _Scrubbing(self.stream)
        try:
            special = out.exists() and not out.is_file()
        except OSError:
            special = False
        try:
            if special:
                self.stream = open(out, "w", encoding="utf-8", errors="replace", newline="")
            else:
                import tempfile

                out.parent.mkdir(parents=True, exist_ok=True)
                fd, self.tmp = tempfile.mkstemp(prefix=".nbreview-", suffix=".tmp", dir=str(out.parent))
                self.stream = os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="")
        except OSError as exc:
            raise _Fail(f"cannot write {shown(out)}: {exc.strerror or exc}") from None
        return _Scrubbing(self.stream)

    def __exit__(self, kind, exc, tb) -> None:
        stream, tmp = self.stream, self.tmp
        if self.output is None:
            try:
                stream.flush()
            finally:
                if stream is not sys.stdout:
                    stream.detach()
            return
        try:
            stream.close()
            if tmp is not None:
                if kind is None:
                    from .cohort import _umask

                    os.chmod(tmp, 0o644 & ~_umask())
                    os.replace(tmp, self.output)
                    tmp = None
        except OSError as err:
            if kind is None:
                raise _Fail(f"cannot write {shown(self.output)}: {err.strerror or err}") from None
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


class _Scrubbing:
    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        from .notebook import scrub

        return self.stream.write(scrub(text))


def _guard_outputs(items, output: Optional[Path], baseline: Optional[Path], write_baseline: Optional[Path],
                   config: Optional[Path]) -> None:
    """No file nbreview writes may be one it reads: a notebook, the baseline, the configuration."""
    targets = [("--output", output), ("--write-baseline", write_baseline)]
    if all(t is None for _, t in targets):
        return
    reads = [(str(p), p) for p, err in items if err is None]
    reads += [(f"the baseline {shown(baseline)}", baseline), (f"the configuration {shown(config)}", config)]
    if output is not None and write_baseline is not None and _same_target(output, write_baseline):
        raise _Fail("--output and --write-baseline name the same file")
    for option, target in targets:
        if target is None:
            continue
        key = _file_key(target)
        if key is None:
            continue
        for label, path in reads:
            if path is not None and _file_key(path) == key:
                what = label if label.startswith("the ") else f"the notebook {shown(label)}"
                raise _Fail(f"{option} {shown(target)} is {what}, an input of this run: it would be overwritten")


def _file_key(path: Path) -> Optional[tuple[int, int]]:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    import stat as st_mod

    return (st.st_dev, st.st_ino) if st_mod.S_ISREG(st.st_mode) else None


def _same_target(a: Path, b: Path) -> bool:
    try:
        return os.path.abspath(a) == os.path.abspath(b) or (_file_key(a) is not None and _file_key(a) == _file_key(b))
    except (OSError, ValueError):
        return False


def _is_report_dir(output: Path) -> bool:
    """`--output reports/` (a folder, or a name without an extension) gets one file per notebook + an index."""
    try:
        return output.is_dir() or output.suffix == "" or str(output).endswith(("/", os.sep))
    except OSError:
        return False


def _run_settings(paths: List[Path], config: Optional[Path], isolated: bool,
                  lang: Optional[str], fail_on: Optional[str]) -> tuple[str, str]:
    """lang and fail-on for the whole run: the flags, else the config of the first path, else defaults.

    A broken configuration there stops the run (ConfigError); one in a sub-folder only stops
    the notebooks below it (see nbreview.batch)."""
    if (lang is None or fail_on is None) and not isolated and paths:
        from .config import Resolver

        cfg = Resolver(config).for_path(paths[0])
        if cfg is not None:
            lang = lang or cfg.lang
            fail_on = fail_on or cfg.fail_on
    return lang or "ru", fail_on or "warning"


def exit_code(run: Any, fail_on: str) -> int:
    """0 clean, 1 findings at or above `fail_on`, 2 nothing reviewed or a file could not be read.
    `run` is a RunReport or the notebooks' summaries."""
    from .model import RunReport, summarize

    summaries = [summarize(nb) for nb in run.notebooks] if isinstance(run, RunReport) else list(run)
    if not summaries:
        return EXIT_ERROR
    if fail_on != "never":
        limit = SEVERITY_RANK[fail_on]
        if any(n and SEVERITY_RANK.get(sev, 2) <= limit for s in summaries for sev, n in s.counts.items()):
            return EXIT_FINDINGS
    if any(s.unreadable for s in summaries):
        return EXIT_ERROR
    return EXIT_CLEAN


# --- the fast parser of `nbreview check` -------------------------------------------------

FAST_OPTIONS: dict[str, str] = {  # option -> parameter of run_check (each takes a value)
    "--format": "format", "-f": "format", "--lang": "lang", "--select": "select", "--ignore": "ignore",
    "--fail-on": "fail_on", "--output": "output", "-o": "output", "--baseline": "baseline",
    "--write-baseline": "write_baseline", "--config": "config", "--jobs": "jobs", "-j": "jobs",
    "--evidence": "evidence",
}
FAST_FLAGS: dict[str, tuple[str, bool]] = {
    "--color": ("color", True), "--no-color": ("color", False), "--isolated": ("isolated", True),
    "--no-suppressions": ("suppressions", False), "--fix": ("fix", True), "--unsafe-fixes": ("unsafe_fixes", True),
}
_MULTIPLE = {"select", "ignore", "evidence"}
_PATHS = {"output", "baseline", "write_baseline", "config"}


def parse_check(argv: List[str]) -> Optional[dict[str, Any]]:
    """The arguments of `nbreview check` as run_check's keywords, or None for anything it does
    not know (`--help`, a typo, a missing value): typer then answers, with its own messages."""
    out: dict[str, Any] = {"paths": []}
    i = 0
    only_paths = False
    while i < len(argv):
        arg = argv[i]
        i += 1
        if only_paths or not arg.startswith("-") or arg == "-":
            out["paths"].append(Path(arg))
            continue
        if arg == "--":
            only_paths = True
            continue
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            attached = bool(eq)
        else:
            name, value = arg[:2], arg[2:]
            attached = bool(value)
        if name in FAST_FLAGS and not attached:
            key, flag = FAST_FLAGS[name]
            out[key] = flag
            continue
        if name not in FAST_OPTIONS:
            return None
        if not attached:
            if i >= len(argv):
                return None
            value = argv[i]
            i += 1
        key = FAST_OPTIONS[name]
        if key in _MULTIPLE:
            out.setdefault(key, []).append(Path(value) if key == "evidence" else value)
        elif key in _PATHS:
            out[key] = Path(value)
        elif key == "jobs":
            try:
                out[key] = int(value)
            except ValueError:
                return None
        else:
            out[key] = value
    if not out["paths"]:
        return None
    return out


def pre_commit_args(args: List[str]) -> List[str]:
    """`nbreview check --pre-commit [options] FILES`: pre-commit appends the staged file names
    after the hook's arguments, with no `--`; a file named `--write-baseline=x.ipynb` would be an
    option. The trailing `*.ipynb` arguments (pre-commit passes only those, `types: [jupyter]`)
    are the files: put `--` before them."""
    if len(args) < 2 or args[0] != "check" or "--pre-commit" not in args[1:]:
        return args
    rest = list(args[1:])
    if "--" in rest and rest.index("--") < rest.index("--pre-commit"):
        return args
    rest.remove("--pre-commit")
    k = len(rest)
    while k > 0 and rest[k - 1].endswith(".ipynb"):
        k -= 1
    options, files = rest[:k], rest[k:]
    if options and options[-1] == "--":
        options.pop()
    return ["check", *options, "--", *files]


def main(argv: Optional[List[str]] = None) -> None:
    args = pre_commit_args(list(sys.argv[1:] if argv is None else argv))
    try:
        if args and args[0] == "check":
            parsed = parse_check(args[1:])
            if parsed is not None:
                _exit(run_check(**parsed))
        _typer_app()(args=args, prog_name="nbreview")
    except KeyboardInterrupt:
        _err("interrupted")
        _exit(EXIT_INTERRUPTED)
    except BrokenPipeError:  # `nbreview check ... | head`: the reader is gone, so is the output
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        _exit(EXIT_ERROR)
    except Exception as exc:  # a bug: say so plainly, never as "findings" (exit status 1)
        import traceback

        _err(f"internal error: {type(exc).__name__}: {exc}; please report it with the traceback below")
        traceback.print_exc()
        _exit(EXIT_ERROR)


def _exit(code: int) -> None:
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    raise SystemExit(code)


# --- typer: help, the other commands, and the reference definition of `check` -------------

_APP = None


def _typer_app():
    global _APP
    if _APP is None:
        _APP = _build_app()
    return _APP


def _build_app():
    import typer

    app = typer.Typer(
        name="nbreview",
        help="A mentor's review of deep-learning student notebooks (Keras / PyTorch), without running them.",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
    )

    def _version(value: bool) -> None:
        if value:
            typer.echo(f"nbreview {__version__}")
            raise typer.Exit()

    @app.callback()
    def _main(
        version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                               help="Show the version and exit."),
    ) -> None:
        """nbreview: static review of Jupyter notebooks of deep-learning students."""

    @app.command()
    def check(
        paths: List[Path] = typer.Argument(..., help="Notebooks or folders (searched recursively)."),
        format: str = typer.Option("text", "--format", "-f", help="text | json | sarif | github | markdown | html "
                                   "(html/markdown with --output DIR: one report per notebook and an index)"),
        lang: Optional[str] = typer.Option(None, "--lang", help="ru | en (default: the config's, else ru)"),
        select: Optional[List[str]] = typer.Option(None, "--select", help="Only these rule slugs (comma-separated)."),
        ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Skip these rule slugs (comma-separated)."),
        fail_on: Optional[str] = typer.Option(None, "--fail-on",
                                              help="Exit 1 when a finding of this severity or worse exists: "
                                                   "error | warning | advice | never (default: the config's, "
                                                   "else warning)."),
        output: Optional[Path] = typer.Option(None, "--output", "-o",
                                              help="Write the report here instead of stdout (never over an input)."),
        color: Optional[bool] = typer.Option(None, "--color/--no-color", help="Force colours on or off."),
        baseline: Optional[Path] = typer.Option(None, "--baseline",
                                                help="Report only findings not recorded in this baseline file."),
        write_baseline: Optional[Path] = typer.Option(None, "--write-baseline",
                                                      help="Record every current finding in this file and exit 0."),
        config: Optional[Path] = typer.Option(None, "--config",
                                              help="Use this nbreview.toml / pyproject.toml instead of looking "
                                                   "upwards from each notebook."),
        isolated: bool = typer.Option(False, "--isolated", help="Ignore every configuration file."),
        jobs: Optional[int] = typer.Option(None, "--jobs", "-j",
                                           help="Review with this many processes (default: every processor "
                                                "available; 1: in this process). The output is the same."),
        no_suppressions: bool = typer.Option(False, "--no-suppressions",
                                             help="Ignore `# nbreview: ignore[...]` comments in the notebooks."),
        evidence: Optional[List[Path]] = typer.Option(None, "--evidence",
                                                      help="Evidence of `nbreview verify` (a file, or a folder of "
                                                           "them): the measured numbers go into the matching remarks."),
        fix: bool = typer.Option(False, "--fix", help="First apply nbreview's safe fixes in place (no backup: for "
                                                      "files under version control), then review what is left."),
        unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="With --fix: also apply the fixes that "
                                                                        "change behaviour beyond the remark."),
    ) -> None:
        """Review notebooks statically (the student's code is never run).

        Put `--` before file names that may start with `-` (as the GitHub Action does)."""
        raise typer.Exit(run_check(paths, format, lang, select, ignore, fail_on, output, color, baseline,
                                   write_baseline, config, isolated, jobs, not no_suppressions, fix, unsafe_fixes,
                                   evidence))

    def fail(message: str) -> None:
        _err(message)
        raise typer.Exit(EXIT_ERROR)

    @app.command("fix")
    def fix_cmd(
        paths: List[Path] = typer.Argument(..., help="Notebooks or folders (searched recursively; *.fixed.ipynb "
                                                     "in folders are skipped)."),
        in_place: bool = typer.Option(False, "--in-place", help="Rewrite the notebooks themselves (atomically; "
                                                                "the original is kept as NAME.ipynb.bak)."),
        backup: bool = typer.Option(True, "--backup/--no-backup", help="With --in-place: keep NAME.ipynb.bak."),
        diff: bool = typer.Option(False, "--diff", help="Only show what would change; write nothing."),
        unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes",
                                          help="Also apply fixes that change behaviour beyond the remark."),
        output: Optional[Path] = typer.Option(None, "--output", "-o",
                                              help="Write the corrected notebook here (one notebook only)."),
        select: Optional[List[str]] = typer.Option(None, "--select", help="Only these rule slugs (comma-separated)."),
        ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Skip these rule slugs (comma-separated)."),
        fail_on: Optional[str] = typer.Option(None, "--fail-on",
                                              help="Exit 1 when findings of this severity or worse remain after "
                                                   "fixing: error | warning | advice | never (default: the "
                                                   "config's, else warning)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No diff; status lines only."),
        color: Optional[bool] = typer.Option(None, "--color/--no-color", help="Force colours on or off."),
        config: Optional[Path] = typer.Option(None, "--config",
                                              help="Use this nbreview.toml / pyproject.toml instead of looking "
                                                   "upwards from each notebook."),
        isolated: bool = typer.Option(False, "--isolated", help="Ignore every configuration file."),
    ) -> None:
        """Correct what nbreview can correct safely; writes NAME.fixed.ipynb and shows a diff per cell."""
        from .config import ConfigError
        from .engine import Options
        from .fixrun import run, summary_line

        try:
            _lang, fail_on = _run_settings(paths, config, isolated, "en", fail_on)
        except ConfigError as exc:
            fail(f"configuration error: {exc}")
        if fail_on not in FAIL_LEVELS:
            fail(f"unknown --fail-on level {fail_on!r}; choose one of: {', '.join(FAIL_LEVELS)}")
        if diff and (in_place or output is not None):
            fail("--diff writes nothing: it cannot be combined with --in-place or --output")
        if in_place and output is not None:
            fail("choose one of --in-place and --output")
        if output is not None and (len(paths) != 1 or paths[0].is_dir()):
            fail("--output takes one notebook; for several, use the default NAME.fixed.ipynb or --in-place")
        selected, ignored = _split(select), _split(ignore)
        try:
            _check_slugs(selected, "--select")
            _check_slugs(ignored, "--ignore")
        except _Fail as exc:
            fail(str(exc))
        options = Options(select=selected or None, ignore=ignored, langs=("en",),
                          use_config=not isolated, config_file=None if isolated else config)
        if color is None:
            color = sys.stdout.isatty()
        try:
            outcome = run(paths, options, unsafe=unsafe_fixes, in_place=in_place, backup=backup, diff_only=diff,
                          output=output, show_diff=not quiet, color=color)
        except ConfigError as exc:
            fail(f"configuration error: {exc}")
            return
        if not outcome.results:
            fail("no notebooks (*.ipynb) found under: " + ", ".join(str(p) for p in paths))
        if len(outcome.results) > 1:
            _err(summary_line(outcome, diff_only=diff).removeprefix("nbreview: "))
        raise typer.Exit(outcome.exit_code(fail_on))

    @app.command()
    def verify(
        paths: Optional[List[Path]] = typer.Argument(None, help="Notebooks or folders (searched recursively)."),
        data: str = typer.Option("synthetic", "--data", help="A folder with one sub-folder per class, a CSV (path and "
                                 "label columns), or `synthetic` (generated images; no data needed)."),
        epochs: Optional[int] = typer.Option(None, "--epochs", min=1, help="Epochs per run (default: the notebook's; "
                                             "at most 5 on a CPU)."),
        image_size: Optional[int] = typer.Option(None, "--image-size", min=16, help="Square input size (default: the "
                                                 "notebook's; at most 64 on a CPU)."),
        limit_images: Optional[int] = typer.Option(None, "--limit-images", min=10,
                                                   help="Use at most this many images (stratified)."),
        seeds: str = typer.Option("3", "--seeds", help="How many seeds (`3` = 0,1,2) or a list (`1,7,42`)."),
        rules: Optional[List[str]] = typer.Option(None, "--rules", help="Only these experiments (rule slugs, "
                                                  "comma-separated); default: every experiment for the notebook's remarks."),
        weights: str = typer.Option("imagenet", "--weights", help="imagenet | none | FILE (weights of the notebook's "
                                    "backbone; falls back to none, with a message, when ImageNet weights cannot be had)."),
        backbone: str = typer.Option("auto", "--backbone", help="auto | notebook | mini: the notebook's keras.applications "
                                     "network, or nbreview-mini, a small stand-in with the same input stem (auto: mini on "
                                     "a CPU, the notebook's on a GPU)."),
        batch_size: Optional[int] = typer.Option(None, "--batch-size", min=1, help="Batch size (default: the notebook's)."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Evidence file (one notebook: FILE.json) or "
                                              "folder (default: NAME.verify.json here; nbreview-verify/ for several)."),
        device: str = typer.Option("auto", "--device", help="auto | cpu | gpu"),
        jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Notebooks verified in parallel (one per GPU, "
                                 "or CPU processes)."),
        lang: str = typer.Option("ru", "--lang", help="ru | en (messages printed while running)"),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars (on a terminal)."),
        list_experiments: bool = typer.Option(False, "--list", help="List the experiments and exit."),
    ) -> None:
        """Measure what the remarks cost: a reference training run, as written and fixed, over several seeds.

        Needs the `verify` extra (pip install "nbreview[verify]"). The notebook's code is never run:
        nbreview trains its own pipeline with the parameters read from the notebook."""
        from .verify.experiments import load_all

        registry = load_all()
        if list_experiments:
            for slug, exp in registry.items():
                typer.echo(f"{slug:<28} {exp.kind:<9} {exp.title.get(lang, exp.title.get('en', ''))}")
            raise typer.Exit(EXIT_CLEAN)
        if not paths:
            fail("verify: give a notebook or a folder (see nbreview verify --help)")
        for name, value, allowed in (("--device", device, ("auto", "cpu", "gpu")),
                                     ("--backbone", backbone, ("auto", "notebook", "mini")),
                                     ("--lang", lang, ("ru", "en"))):
            if value not in allowed:
                fail(f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}")
        if weights not in ("imagenet", "none") and not Path(weights).is_file():
            fail(f"--weights {weights!r}: not imagenet, none or an existing weights file")
        try:
            seed_list = [int(s) for s in seeds.split(",") if s.strip()]
        except ValueError:
            fail(f"--seeds {seeds!r}: a count (3) or a comma-separated list of integers")
        if len(seed_list) == 1 and "," not in seeds:
            seed_list = list(range(max(1, seed_list[0])))
        if not seed_list:
            fail("--seeds: at least one seed")
        wanted = sorted(_split(rules)) if rules else None
        unknown = sorted(set(wanted or []) - set(registry))
        if unknown:
            fail(f"--rules: no experiment for {', '.join(unknown)}; experiments: {', '.join(registry)}")
        if data != "synthetic" and not Path(data).exists():
            fail(f"--data {data!r}: no such folder or file (or use --data synthetic)")
        import importlib.util

        if importlib.util.find_spec("keras") is None:  # found, not imported: the device is chosen first
            fail('verify needs the verify extra: pip install "nbreview[verify]" (TensorFlow and Keras 3)')
        from .verify.plan import Options as VerifyOptions
        from .verify.runner import run

        opts = VerifyOptions(data=data, epochs=epochs, image_size=image_size, limit_images=limit_images,
                             seeds=seed_list, rules=wanted, weights=weights, backbone=backbone, batch_size=batch_size,
                             device=device, lang=lang)
        raise typer.Exit(run(paths, opts, output, jobs, progress))

    @app.command("rules")
    def rules_cmd(lang: str = typer.Option("ru", "--lang", help="ru | en")) -> None:
        """List every rule: code, slug, severity, title."""
        from rich.console import Console
        from rich.table import Table

        from . import catalog as cat
        from .checks import load_all

        implemented = load_all()
        table = Table(show_lines=False)
        for col in ("code", "slug", "severity", "framework", "title"):
            table.add_column(col)
        for info in sorted(cat.catalog().values(), key=lambda r: r.code):
            if info.slug not in implemented and info.kind == "check":
                continue
            table.add_row(info.code, info.slug, info.severity, info.framework, info.text(info.title, lang))
        Console(width=120).print(table)

    @app.command("rule")
    def rule_cmd(slug: str = typer.Argument(..., help="Rule slug or code, e.g. checkpoint-save-best-only"),
                 lang: str = typer.Option("ru", "--lang", help="ru | en")) -> None:
        """Show a rule's page: what it does, why it matters, an example, what to do instead."""
        from . import catalog as cat

        info = cat.get(slug) or next((r for r in cat.catalog().values() if r.code.lower() == slug.lower()), None)
        if info is None:
            _err(f"unknown rule {shown(slug)!r} (see `nbreview rules`)")
            raise typer.Exit(EXIT_ERROR)
        from .rulepage import render_rule_page

        sys.stdout.write(render_rule_page(info, lang))

    return app


def __getattr__(name: str) -> Any:  # `nbreview.cli.app`: the typer application, built on first use
    if name == "app":
        return _typer_app()
    raise AttributeError(name)


if __name__ == "__main__":
    main()
