"""Running a verification: notebook -> recipe -> plan -> experiments over seeds -> evidence file.

One notebook runs in this process; a folder runs one notebook per worker process with
--jobs N (one GPU each when there are GPUs, else a share of the CPU cores). The evidence file
is rewritten after every measured seed, so Ctrl-C leaves a valid partial file.
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import evidence as evd
from .console import Reporter
from .plan import Options

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 2, 130


class VerifyError(Exception):
    """The verification cannot run (bad data, no GPU, unknown experiment): exit 2 with this message."""


@dataclass
class Job:
    notebook: Path
    output: Path


def plan_jobs(paths: list[Path], output: Path | None) -> tuple[list[Job], list[str]]:
    from ..engine import discover

    found: list[tuple[Path, Path | None]] = []
    errors: list[str] = []
    for p in paths:
        for nb, err in discover([p]):
            if err:
                errors.append(f"{nb}: {err}")
            else:
                found.append((nb, p if p.is_dir() else None))
    single_file_out = output is not None and output.suffix == ".json" and len(found) == 1
    jobs = []
    for nb, root in found:
        if single_file_out:
            out = output
        else:
            # names that stay apart in one output folder: the path under the folder given, or as given
            rel = nb.relative_to(root) if root is not None else (nb if not nb.is_absolute() else Path(nb.name))
            rel = Path(*[part for part in rel.parts if part not in ("..", ".")]) if rel.parts else rel
            name = "__".join(rel.with_suffix("").parts) + ".verify.json"
            base = output if output is not None else (Path("nbreview-verify") if len(found) > 1 else Path("."))
            out = base / name
        jobs.append(Job(nb, out))  # type: ignore[arg-type]
    return jobs, errors


def select(recipe, plan, findings: set[str], wanted: list[str] | None, registry: dict) -> tuple[list, dict[str, str]]:
    """(experiments to run, {slug: why not} for the others that concern this notebook)."""
    chosen = []
    skipped: dict[str, str] = {}
    slugs = wanted if wanted is not None else [s for s in registry if s in findings]
    for slug in slugs:
        exp = registry[slug]
        why = exp.applies(recipe, plan)
        if why is None:
            chosen.append(exp)
        else:
            skipped[slug] = why
    return chosen, skipped


def verify_notebook(job: Job, opts: Options, reporter: Reporter, threads: int | None = None) -> str:
    """Verify one notebook; returns its final status (complete | interrupted | failed | nothing)."""
    from ..engine import Options as CheckOptions
    from ..engine import review_path
    from . import recipe as rcp
    from .experiments import load_all

    t0 = time.perf_counter()
    report = review_path(job.notebook, CheckOptions(langs=("ru", "en")))
    if report.unreadable:
        raise VerifyError(f"{job.notebook}: {report.errors[0].message}")
    recipe = rcp.read(job.notebook)
    registry = load_all()
    findings = {f.rule for f in report.findings}
    doc = evd.new_document(job.notebook, opts.seeds)
    doc["findings"] = sorted(findings)
    doc["available"] = sorted(registry)
    fixed, fixed_rules, doc["fix"] = fixed_recipe(job.notebook, recipe)

    from . import plan as pln

    # which experiments apply is known before TensorFlow is imported (seconds saved when none does)
    chosen, skipped = select(recipe, pln.make(recipe, opts, "gpu" if opts.device == "gpu" else "cpu"), findings,
                             opts.rules, registry)
    if not chosen:
        for slug, why in skipped.items():
            doc["experiments"][slug] = {"status": "skipped", "kind": registry[slug].kind, "reason": why}
        doc.update(recipe=recipe.to_json(), status="complete", finished=evd.now(),
                   wall_s=round(time.perf_counter() - t0, 2))
        evd.write(doc, job.output)
        why = "; ".join(f"{slug}: {w}" for slug, w in skipped.items())
        reporter.info(f"nbreview verify: {job.notebook}: no experiment applies"
                      + (f" ({why})" if why else f" to its remarks ({', '.join(sorted(findings)) or 'none'})"))
        return "nothing"

    from .device import setup_device

    try:
        device = setup_device(opts.device)
    except ValueError as exc:
        raise VerifyError(str(exc)) from None
    from . import train

    plan = pln.make(recipe, opts, device)
    if fixed is not None and fixed.get("preprocessing") and fixed.get("preprocessing") != recipe.get("preprocessing"):
        plan.correct_scaling = fixed["preprocessing"]  # the scaling of the notebook as nbreview fix corrects it
    chosen, skipped = select(recipe, plan, findings, opts.rules, registry)
    train.configure(device, plan.mixed_precision, threads)
    env = train.versions()
    env["device"] = device if device == "cpu" else f"gpu ({train.gpu_name() or 'unknown'})"
    env["mixed_precision"] = plan.mixed_precision and device == "gpu"
    doc.update(environment=env, recipe=recipe.to_json(), plan=plan.to_json(), notes=list(plan.notes))
    for slug, why in skipped.items():
        exp = registry[slug]
        doc["experiments"][slug] = {"status": "skipped", "kind": exp.kind, "reason": why}
    for exp in chosen:
        doc["experiments"][exp.slug] = {"status": "pending", "kind": exp.kind, "title": exp.title,
                                        "seeds_done": [], "per_seed": [],
                                        "fixed_variant": "nbreview fix" if exp.slug in fixed_rules else "recipe"}
    _print_recipe(reporter, job, recipe, plan, chosen, skipped, opts.lang, doc["fix"])
    evd.write(doc, job.output)

    from .data import DataError
    from .data import load as load_data
    from .experiments import Context

    status = "complete"
    ctx = None
    try:
        size = plan.image_size
        if plan.backbone != "nbreview-mini":
            from .models import MIN_SIZE

            size = max(size, MIN_SIZE.get(plan.backbone, 32))
            plan.image_size = size
        try:
            images = load_data(opts.data, size, plan.images)
        except DataError as exc:
            doc.update(status="failed", error=str(exc))
            raise VerifyError(str(exc)) from None
        doc["data"] = images.describe()
        ctx = Context(recipe, plan, images, reporter, lang=opts.lang, fixed_recipe=fixed)
        statics = [e for e in chosen if e.kind == "static"]
        trained = [e for e in chosen if e.kind != "static"]
        overall = reporter.overall(f"{job.notebook.name}: experiments x seeds",
                                   len(statics) + len(trained) * len(opts.seeds))
        for exp in statics:
            _run_one(doc, exp, ctx, None, job.output)
            overall.advance(1)
        for seed in opts.seeds:
            for exp in trained:
                _run_one(doc, exp, ctx, seed, job.output)
                overall.advance(1)
            ctx.release(seed)
    except KeyboardInterrupt:
        status = "interrupted"
        for entry in doc["experiments"].values():
            if entry["status"] in ("running", "pending"):
                entry["status"] = "partial" if entry.get("seeds_done") and entry.get("summary") else "interrupted"
        reporter.info(f"nbreview verify: interrupted; the evidence measured so far is in {job.output}")
    finally:
        if ctx is not None:
            doc["notes"] = list(dict.fromkeys(doc["notes"] + ctx.notes))
            import shutil

            shutil.rmtree(ctx.workdir, ignore_errors=True)
        doc["plan"] = plan.to_json()
        if doc.get("status") == "failed":
            status = "failed"
        doc.update(status=status, finished=evd.now(), wall_s=round(time.perf_counter() - t0, 2))
        evd.write(doc, job.output)
    return status


def fixed_recipe(notebook: Path, recipe) -> tuple[Any, set[str], dict[str, Any]]:
    """The recipe of the notebook as `nbreview fix` corrects it (unsafe fixes included), the rules it
    corrected, and what the evidence says about it. The fixed variant of an experiment follows it
    where the fix applies, else it is built from the recipe."""
    from ..engine import Options as CheckOptions
    from ..fixer import fix_notebook
    from . import recipe as rcp

    try:
        result = fix_notebook(notebook, CheckOptions(langs=("en",)), unsafe=True)
    except Exception as exc:  # noqa: BLE001 - the fix is a help here, never a reason to stop
        return None, set(), {"error": f"{type(exc).__name__}: {exc}"}
    if result.error or not result.fixed:
        return None, set(), {"error": result.error, "applied": []}
    try:
        fixed = rcp.read(notebook, result.fixed)
    except Exception as exc:  # noqa: BLE001
        return None, set(), {"error": f"the fixed notebook cannot be read: {exc}"}
    applied = [{"rule": a.rule, "cell": a.cell, "line": a.line, "safe": a.safe} for a in result.applied]
    return fixed, {a.rule for a in result.applied}, {"applied": applied,
                                                     "recipe_changes": rcp.differences(recipe, fixed)}


def _run_one(doc: dict, exp, ctx, seed: int | None, output: Path) -> None:
    entry = doc["experiments"][exp.slug]
    if entry["status"] == "failed":
        return
    entry["status"] = "running"
    t = time.perf_counter()
    had_reference = seed is not None and seed in ctx._refs
    try:
        result = exp.measure(ctx, seed)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one experiment failing never loses the others
        entry.update(status="failed", reason=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
                     traceback=traceback.format_exc(limit=6))
        ctx.reporter.info(f"nbreview verify: {exp.slug} failed: {entry['reason']}")
        evd.write(doc, output)
        return
    entry["per_seed"].append(result)
    if seed is not None:
        entry["seeds_done"].append(seed)
    spent = time.perf_counter() - t
    if exp.uses_reference and had_reference:  # the shared training was run for another experiment: count it too
        spent += ctx._refs[seed].wall_s
    entry["wall_s"] = round(entry.get("wall_s", 0.0) + spent, 2)  # the runs this result rests on
    try:
        entry.update(exp.summarize(entry["per_seed"], ctx))
    except Exception as exc:  # noqa: BLE001
        entry.update(status="failed", reason=f"summary: {type(exc).__name__}: {exc}",
                     traceback=traceback.format_exc(limit=6))
        evd.write(doc, output)
        return
    total = 1 if seed is None else len(doc["seeds"])
    entry["status"] = "done" if len(entry["per_seed"]) >= total else "partial"
    evd.write(doc, output)
    if entry["status"] == "done":
        lang = "ru" if ctx.lang == "ru" else "en"
        ctx.reporter.info(f"✓ {exp.slug}: {entry['summary'].get(lang, '')}")


def _print_recipe(reporter: Reporter, job: Job, recipe, plan, chosen, skipped, lang: str,
                  fix: dict | None = None) -> None:
    from .recipe import describe_value

    lines = [f"nbreview verify {job.notebook} -> {job.output}", "recipe (from the notebook; * = default):"]
    for name, f in recipe.fields.items():
        if f.value is None and f.is_default:
            continue
        src = f.source.describe("en") if not f.is_default else "default"
        mark = "*" if f.is_default else " "
        lines.append(f"  {mark} {name:<22} {describe_value(name, f.value)[:70]:<70}  {src[:70]}")
    if recipe.notes:
        lines += [f"    note: {n}" for n in recipe.notes]
    lines.append(f"run: {plan.device}, {plan.backbone} ({plan.weights or 'random init'}), {plan.image_size}px, "
                 f"{plan.epochs} epoch{'s' if plan.epochs != 1 else ''}, batch {plan.batch_size}, {plan.optimizer} lr={plan.learning_rate:g}, "
                 f"scaling as written: {plan.scaling}, expected: {plan.correct_scaling}")
    lines += [f"    note: {n}" for n in plan.notes]
    changes = (fix or {}).get("recipe_changes") or {}
    if changes:
        lines.append("fixed variant (the notebook as `nbreview fix --unsafe-fixes` corrects it):")
        lines += [f"    {name:<22} {c['as_written'][:40]} -> {c['fixed'][:60]}" for name, c in changes.items()]
    lines.append("experiments: " + (", ".join(e.slug for e in chosen) or "none"))
    lines += [f"    skipped {slug}: {why}" for slug, why in skipped.items()]
    reporter.info("\n".join(lines))


# --- many notebooks -------------------------------------------------------------------

def run(paths: list[Path], opts: Options, output: Path | None, jobs: int, progress: bool) -> int:
    from .console import make_reporter

    job_list, errors = plan_jobs(paths, output)
    for e in errors:
        print(f"nbreview verify: {e}", file=sys.stderr)
    if not job_list:
        print("nbreview verify: no notebooks (*.ipynb) found", file=sys.stderr)
        return EXIT_ERROR
    if jobs <= 1 or len(job_list) == 1:
        code = EXIT_OK
        with make_reporter(progress) as reporter:
            for job in job_list:
                try:
                    status = verify_notebook(job, opts, reporter)
                except VerifyError as exc:
                    print(f"nbreview verify: {exc}", file=sys.stderr)
                    code = EXIT_ERROR
                    continue
                except KeyboardInterrupt:
                    return EXIT_INTERRUPTED
                if status == "interrupted":
                    return EXIT_INTERRUPTED
                reporter.info(f"nbreview verify: wrote {job.output}")
        return code if not errors else EXIT_ERROR
    return _run_parallel(job_list, opts, jobs, progress)


def _gpu_count() -> int:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([v for v in visible.split(",") if v.strip() and v.strip() != "-1"])
    try:
        import subprocess

        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
        return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))
    except (OSError, subprocess.SubprocessError):
        return 0


def _run_parallel(job_list: list[Job], opts: Options, jobs: int, progress: bool) -> int:
    """One notebook per worker process (spawned: TensorFlow must not be forked)."""
    import multiprocessing as mp
    import threading
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from .console import make_reporter

    ctx = mp.get_context("spawn")
    manager = ctx.Manager()
    events = manager.Queue()
    gpus = _gpu_count() if opts.device != "cpu" else 0
    slots = manager.Queue()
    for i in range(jobs):
        slots.put(str(i % gpus) if gpus else None)
    threads = max(1, (os.cpu_count() or 2) // jobs) if not gpus else None
    code = EXIT_OK
    with make_reporter(progress) as reporter:
        overall = reporter.overall("notebooks", len(job_list))
        tasks: dict[tuple[int, int], Any] = {}
        stop = threading.Event()

        def pump() -> None:
            while not stop.is_set() or not events.empty():
                try:
                    kind, job, key, payload = events.get(timeout=0.2)
                except Exception:  # noqa: BLE001 - queue.Empty
                    continue
                if kind == "task":
                    desc, total = payload
                    tasks[(job, key)] = reporter.task(f"{job_list[job].notebook.stem[:18]}: {desc}", total)
                elif kind == "advance" and (job, key) in tasks:
                    tasks[(job, key)].advance(payload)
                elif kind == "finish" and (job, key) in tasks:
                    tasks.pop((job, key)).finish()
                elif kind == "info":
                    reporter.info(f"[{job_list[job].notebook.name}] {payload}")

        th = threading.Thread(target=pump, daemon=True)
        th.start()
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=(slots,))
        try:
            futures = {pool.submit(_worker, i, job_list[i], opts, events, threads): i for i in range(len(job_list))}
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    status, error = fut.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker: this notebook only
                    status, error = "failed", f"{type(exc).__name__}: {exc}"
                if error:
                    reporter.info(f"nbreview verify: {job_list[i].notebook}: {error}")
                    code = EXIT_ERROR
                else:
                    reporter.info(f"nbreview verify: wrote {job_list[i].output} ({status})")
                overall.advance(1)
        except KeyboardInterrupt:
            reporter.info("nbreview verify: interrupted; workers are writing their partial evidence")
            pool.shutdown(wait=True, cancel_futures=True)
            return EXIT_INTERRUPTED
        finally:
            pool.shutdown(wait=True)
            stop.set()
            th.join(timeout=5)
    return code


_SLOT: list[str | None] = []


def _init_worker(slots) -> None:
    slot = slots.get()
    _SLOT.append(slot)
    if slot is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = slot


def _worker(index: int, job: Job, opts: Options, events, threads: int | None) -> tuple[str, str | None]:
    from .console import QueueReporter

    reporter = QueueReporter(events, index)
    try:
        return verify_notebook(job, opts, reporter, threads), None
    except VerifyError as exc:
        return "failed", str(exc)
    except KeyboardInterrupt:
        return "interrupted", None
    except Exception as exc:  # noqa: BLE001
        return "failed", f"{type(exc).__name__}: {exc}"


def options_json(opts: Options) -> dict[str, Any]:
    return asdict(opts)
