"""The `nbreview` command line (typer)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__
from .model import SEVERITY_RANK

app = typer.Typer(
    name="nbreview",
    help="A mentor's review of deep-learning student notebooks (Keras / PyTorch), without running them.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FAIL_LEVELS = ("error", "warning", "advice", "never")


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


def _split(values: Optional[List[str]]) -> set[str]:
    out: set[str] = set()
    for v in values or []:
        out.update(s.strip() for s in v.split(",") if s.strip())
    return out


def _fail(message: str) -> None:
    typer.echo(f"nbreview: {message}", err=True)
    raise typer.Exit(EXIT_ERROR)


def _check_slugs(slugs: set[str], option: str) -> None:
    from . import catalog as cat

    known = set(cat.catalog())
    unknown = sorted(slugs - known)
    if unknown:
        _fail(f"unknown rule in {option}: {', '.join(unknown)} (see `nbreview rules`)")


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
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
    color: Optional[bool] = typer.Option(None, "--color/--no-color", help="Force colours on or off."),
    baseline: Optional[Path] = typer.Option(None, "--baseline",
                                            help="Report only findings not recorded in this baseline file."),
    write_baseline: Optional[Path] = typer.Option(None, "--write-baseline",
                                                  help="Record every current finding in this file and exit 0."),
    config: Optional[Path] = typer.Option(None, "--config",
                                          help="Use this nbreview.toml / pyproject.toml instead of looking "
                                               "upwards from each notebook."),
    isolated: bool = typer.Option(False, "--isolated", help="Ignore every configuration file."),
    fix: bool = typer.Option(False, "--fix", help="First apply nbreview's safe fixes in place (no backup: for "
                                                  "files under version control), then review what is left."),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="With --fix: also apply the fixes that "
                                                                    "change behaviour beyond the remark."),
) -> None:
    """Review notebooks statically (the student's code is never run)."""
    from .config import ConfigError
    from .engine import Options, review_paths
    from .render import FORMATS, RenderContext, renderer

    try:
        lang, fail_on = _run_settings(paths, config, isolated, lang, fail_on)
    except ConfigError as exc:
        _fail(f"configuration error: {exc}")

    if format not in FORMATS:
        _fail(f"unknown format {format!r}; choose one of: {', '.join(FORMATS)}")
    if lang not in ("ru", "en"):
        _fail(f"unknown language {lang!r}; choose ru or en")
    if fail_on not in FAIL_LEVELS:
        _fail(f"unknown --fail-on level {fail_on!r}; choose one of: {', '.join(FAIL_LEVELS)}")
    selected, ignored = _split(select), _split(ignore)
    _check_slugs(selected, "--select")
    _check_slugs(ignored, "--ignore")

    options = Options(select=selected or None, ignore=ignored, langs=(lang,),
                      use_config=not isolated, config_file=None if isolated else config,
                      edits=format in ("text", "markdown", "html"))  # corrected code is shown there only
    if fix or unsafe_fixes:
        _fix_before_check(paths, options, unsafe_fixes)
    from .progress import batch_progress

    try:
        with batch_progress(paths, format) as progress:
            run = review_paths(paths, options, progress=progress)
    except ConfigError as exc:
        _fail(f"configuration error: {exc}")
    if not run.notebooks:
        _fail("no notebooks (*.ipynb) found under: " + ", ".join(str(p) for p in paths))
    run.lang = lang
    if write_baseline is not None or baseline is not None:
        _baseline(run, baseline, write_baseline)
    if output is not None and format in ("html", "markdown") and _is_report_dir(output):
        from .cohort import write_reports

        try:
            written = write_reports(run, output, format, lang)
        except OSError as exc:
            _fail(f"cannot write reports to {output}: {exc.strerror or exc}")
        typer.echo(f"nbreview: wrote {len(written) - 1} report(s) and {written[-1]}", err=True)
        raise typer.Exit(exit_code(run, fail_on))
    if color is None:
        color = output is None and sys.stdout.isatty()
    text = renderer(format)(run, RenderContext(lang=lang, color=color, fail_on=fail_on))
    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    raise typer.Exit(exit_code(run, fail_on))


def _fix_before_check(paths: List[Path], options, unsafe: bool) -> None:
    """`check --fix`: correct the notebooks in place (status on stderr), then review as usual."""
    from dataclasses import replace

    from .config import ConfigError
    from .fixrun import run, summary_line

    try:
        outcome = run(paths, replace(options, langs=("en",)), unsafe=unsafe, in_place=True, backup=False,
                      show_diff=False, err=sys.stderr)
    except ConfigError as exc:
        _fail(f"configuration error: {exc}")
        return
    if outcome.results:
        typer.echo(summary_line(outcome, diff_only=False), err=True)


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
        _fail(f"configuration error: {exc}")
    if fail_on not in FAIL_LEVELS:
        _fail(f"unknown --fail-on level {fail_on!r}; choose one of: {', '.join(FAIL_LEVELS)}")
    if diff and (in_place or output is not None):
        _fail("--diff writes nothing: it cannot be combined with --in-place or --output")
    if in_place and output is not None:
        _fail("choose one of --in-place and --output")
    if output is not None and (len(paths) != 1 or paths[0].is_dir()):
        _fail("--output takes one notebook; for several, use the default NAME.fixed.ipynb or --in-place")
    selected, ignored = _split(select), _split(ignore)
    _check_slugs(selected, "--select")
    _check_slugs(ignored, "--ignore")
    options = Options(select=selected or None, ignore=ignored, langs=("en",),
                      use_config=not isolated, config_file=None if isolated else config)
    if color is None:
        color = sys.stdout.isatty()
    try:
        outcome = run(paths, options, unsafe=unsafe_fixes, in_place=in_place, backup=backup, diff_only=diff,
                      output=output, show_diff=not quiet, color=color)
    except ConfigError as exc:
        _fail(f"configuration error: {exc}")
        return
    if not outcome.results:
        _fail("no notebooks (*.ipynb) found under: " + ", ".join(str(p) for p in paths))
    if len(outcome.results) > 1:
        typer.echo(summary_line(outcome, diff_only=diff), err=True)
    raise typer.Exit(outcome.exit_code(fail_on))


def _is_report_dir(output: Path) -> bool:
    """`--output reports/` (a folder, or a name without an extension) gets one file per notebook + an index."""
    return output.is_dir() or output.suffix == ""


def _run_settings(paths: List[Path], config: Optional[Path], isolated: bool,
                  lang: Optional[str], fail_on: Optional[str]) -> tuple[str, str]:
    """lang and fail-on for the whole run: the flags, else the config of the first path, else defaults."""
    if (lang is None or fail_on is None) and not isolated and paths:
        from .config import Resolver

        cfg = Resolver(config).for_path(paths[0])
        if cfg is not None:
            lang = lang or cfg.lang
            fail_on = fail_on or cfg.fail_on
    return lang or "ru", fail_on or "warning"


def _baseline(run, baseline: Optional[Path], write_baseline: Optional[Path]) -> None:
    from . import baseline as bl

    try:
        if write_baseline is not None:
            n = bl.write(run, write_baseline)
            typer.echo(f"nbreview: recorded {n} finding(s) in the baseline {write_baseline}", err=True)
            raise typer.Exit(EXIT_CLEAN if run.notebooks else EXIT_ERROR)
        if baseline is not None:
            n = bl.apply(run, baseline)
            if n:
                typer.echo(f"nbreview: {n} finding(s) recorded in the baseline {baseline} are not shown", err=True)
    except bl.BaselineError as exc:
        _fail(str(exc))


def exit_code(run, fail_on: str) -> int:
    if not run.notebooks:
        return EXIT_ERROR
    if fail_on != "never":
        limit = SEVERITY_RANK[fail_on]
        if any(SEVERITY_RANK.get(f.severity, 2) <= limit for f in run.findings):
            return EXIT_FINDINGS
    if any(nb.unreadable for nb in run.notebooks):
        return EXIT_ERROR
    return EXIT_CLEAN


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
        _fail(f"unknown rule {slug!r} (see `nbreview rules`)")
        return
    from .rulepage import render_rule_page

    sys.stdout.write(render_rule_page(info, lang))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
