#!/usr/bin/env python
"""A repeatable fuzzing campaign: mutated notebooks, hostile file names and file systems.

    python benchmarks/fuzz.py                   # 20,000 notebooks, seed 1 (a few minutes)
    python benchmarks/fuzz.py --n 2000 --seed 7 --keep /tmp/fuzz   # keep what failed

Every mutated notebook is reviewed in this process (every output format rendered and
checked), and every `--batch` of them is also checked through the command line as one
folder, with hostile names and special files among them and a known notebook (the canary)
whose finding must survive. A problem is: a traceback, an exit status other than 0/1/2, a
notebook slower than `--slow` seconds, output that is not valid UTF-8 / JSON / SARIF, a raw
control character in text output, a lost notebook or a lost canary finding. The campaign
prints what it did and every problem; it exits 1 when there is one (tests/test_fuzz.py runs
a short campaign in the test suite).

Notebook `i` depends only on the seed and `i`: a problem is reproduced with the same two.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CKPT = "from tensorflow.keras.callbacks import ModelCheckpoint\nckpt = ModelCheckpoint('best.h5', monitor='val_loss')"

HOSTILE_STRINGS = [
    "", " " * 3000, "\t\n\r\x0b\x0c", "\x1b[2J\x1b]0;title\x07", "\x00\x01\x7f\x9b", "::error file=x::pwned",
    "##[set-env name=X]1", "<!-- hidden", "-->", "`", "``` fence", "<script>alert(1)</script>", "\ud800", "\udfff",
    "\ud83d\ude00", "\u202e\u2066rtl", "\u2028\u2029\x85", "%0A::error::x", "{x}", "{0}", "%s", "\\", '"', "'''",
    "# nbreview: ignore[", "# nbreview: ignore[]", "# nbreview: ignore", "Привет, мир", "a" * 10000,
]
HOSTILE_VALUES = [None, True, 0, -1, 2 ** 70, 1.5, float("1e308"), [], {}, [[[[[]]]]], {"a": {"b": {}}},
                  ["x", 1, None], "x"] + HOSTILE_STRINGS
HOSTILE_CODE = [
    "x = 10 ** 64\n" + "x = x ** 64\n" * 5, "y = 1 << 10 ** 10", "a = [1]\n" + "a = a + a\n" * 30,
    "s = 'ab' * 10 ** 9", "t = (1,)\n" + "t = (t, t)\n" * 50 + "s = str(t)", "(" * 150 + ")" * 150,
    "x = " + "(" * 300 + "1" + ")" * 300, " " * 20000 + "=", "def f(:\n  pass", "print 'py2'", "%%bash\nls",
    "!pip install x", "x = !ls", "%time f()", "model?", "??model", "x = '''unterminated", "\x00",
    "def f0(x): return x\n" + "".join(f"def f{i}(x):\n" + f"    f{i - 1}(x)\n" * 20 + "    return x\n"
                                     for i in range(1, 6)) + "f5(1)",
    "[[[[x for x in (a,b,c,d)] for y in (a,b,c,d)] for z in (a,b,c,d)] for w in (a,b,c,d)]",
    "if True:\n\tx = 1\n        y = 2", "x = f'{" + "{" * 50 + "}'", "lambda: " * 200 + "1",
    "import " + ", ".join(f"m{i}" for i in range(2000)), "a" + "+a" * 20000, "x = 1\r\ny = 2\rz = 3",
    "from tensorflow.keras.callbacks import ModelCheckpoint\nModelCheckpoint(" + "'x'," * 3000 + ")",
    "from tensorflow.keras.optimizers import Adam\nAdam(lr=`1`)", "model.fit_generator(g, " * 10 + ")" * 10,
]
HOSTILE_NAMES = [
    "-o.ipynb", "--write-baseline=zz.ipynb", "--help.ipynb", "x\n::error title=pwned::owned.ipynb",
    "<!--.ipynb", "a`b.ipynb", "a%0Ab.ipynb", "\x1b[31mred.ipynb", "index.ipynb", "con.ipynb", " .ipynb",
    "Иванов И. (копия).ipynb", "\u202egnp.ipynb", "a" * 200 + ".ipynb", ".hidden.ipynb", "a,b:c.ipynb",
]
BAD_BYTES_NAMES = [b"\xff\xfe.ipynb", b"caf\xe9.ipynb", b"\xed\xa0\x80.ipynb"]


def seeds() -> list[bytes]:
    paths = sorted((ROOT / "fixtures").rglob("*.ipynb"))
    shared = ROOT.parent / "shared" / "devset"
    paths += sorted(shared.glob("*.ipynb")) if shared.exists() else []
    return [p.read_bytes() for p in paths]


# --- mutations -----------------------------------------------------------------------------

def _walk(doc, rng: random.Random, depth: int = 0):
    """A random (container, key) inside a JSON value."""
    node = doc
    for _ in range(rng.randint(1, 6)):
        if isinstance(node, dict) and node:
            key = rng.choice(list(node))
        elif isinstance(node, list) and node:
            key = rng.randrange(len(node))
        else:
            break
        child = node[key]
        if not isinstance(child, (dict, list)) or not child or rng.random() < 0.3:
            return node, key
        node = child
    return None, None


def mutate_structure(doc: dict, rng: random.Random) -> str:
    op = rng.randrange(12)
    cells = doc.get("cells") if isinstance(doc.get("cells"), list) else []
    if op == 0:
        parent, key = _walk(doc, rng)
        if parent is not None:
            parent[key] = rng.choice(HOSTILE_VALUES)
        return "value"
    if op == 1:
        parent, key = _walk(doc, rng)
        if parent is not None:
            del parent[key]
        return "delete"
    if op == 2:
        doc[rng.choice(["nbformat", "nbformat_minor"])] = rng.choice([3, 4, 5, -1, 99, "4", None, 4.5, [4]])
        return "version"
    if op == 3 and cells:
        c = rng.choice(cells)
        if isinstance(c, dict):
            c[rng.choice(["cell_type", "source", "id", "execution_count", "outputs", "metadata"])] = \
                rng.choice(HOSTILE_VALUES)
        return "cell-field"
    if op == 4 and cells:
        c = rng.choice(cells)
        if isinstance(c, dict):
            code = rng.choice(HOSTILE_CODE)
            c["cell_type"] = "code"
            c["source"] = code if rng.random() < 0.5 else code.splitlines(keepends=True)
        return "code"
    if op == 5:
        rng.shuffle(cells)
        cells.extend(rng.sample(cells, min(len(cells), rng.randint(0, 5))))
        return "cells"
    if op == 6:
        meta = doc.setdefault("metadata", {})
        if isinstance(meta, dict):
            meta[rng.choice(["kernelspec", "language_info"])] = rng.choice(
                [{"name": rng.choice(HOSTILE_VALUES), "display_name": rng.choice(HOSTILE_VALUES),
                  "language": rng.choice(HOSTILE_VALUES)}, rng.choice(HOSTILE_VALUES)])
        return "metadata"
    if op == 7 and cells:
        c = rng.choice(cells)
        if isinstance(c, dict):
            src = c.get("source")
            text = "".join(s for s in src if isinstance(s, str)) if isinstance(src, list) else str(src)
            k = rng.randrange(len(text) + 1)
            c["source"] = text[:k] + rng.choice(HOSTILE_STRINGS + HOSTILE_CODE) + text[k:]
        return "splice"
    if op == 8:
        nest: object = rng.choice(HOSTILE_VALUES)
        for _ in range(rng.choice([10, 500, 3000])):
            nest = [nest] if rng.random() < 0.5 else {"a": nest}
        doc[rng.choice(["metadata", "cells", "extra"])] = nest
        return "nesting"
    if op == 9 and cells:
        c = rng.choice(cells)
        if isinstance(c, dict):
            c["outputs"] = [{"output_type": "stream", "name": "stdout",
                             "text": rng.choice(HOSTILE_STRINGS) + "\nEpoch 1/3\n" + "x" * rng.randint(0, 5000)}]
        return "outputs"
    if op == 10:
        doc["worksheets"] = [{"cells": cells}]
        doc.pop("cells", None) if rng.random() < 0.5 else None
        doc["nbformat"] = 3
        return "v3"
    cells.append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
                  "source": rng.choice(HOSTILE_CODE) + "\n" + rng.choice(HOSTILE_STRINGS)})
    return "append"


def mutate_bytes(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    op = rng.randrange(6)
    b = bytearray(data)
    if op == 0:
        return bytes(b[: rng.randrange(len(b) + 1)]), "truncate"
    if op == 1:
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b), "flip"
    if op == 2:
        at = rng.randrange(len(b) + 1)
        return bytes(b[:at]) + rng.choice([b"\xff\xfe", b"\xc3", b"\xe9", b"\x00", b"\r", b"\xef\xbb\xbf",
                                           "Привет".encode("cp1251")]) + bytes(b[at:]), "insert"
    if op == 3:
        return data.replace(b"\n", b"\r"), "cr-only"
    if op == 4:
        return rng.choice([b"", b"\xef\xbb\xbf", b"null", b"[]", b"{}", b'{"cells": {}}', b"\x89PNG\r\n\x1a\n",
                           "Привет".encode("utf-16")]), "tiny"
    return data.replace(b"\n", b"\r\n"), "crlf"


def make(seed: int, i: int, pool: list[bytes]) -> tuple[bytes, str]:
    """Mutated notebook `i` of campaign `seed`: its bytes and what was done to it."""
    rng = random.Random(seed * 1_000_003 + i)
    data = rng.choice(pool)
    kinds = []
    if rng.random() < 0.75:
        try:
            doc = json.loads(data)
            for _ in range(rng.randint(1, 4)):
                kinds.append(mutate_structure(doc, rng))
            data = json.dumps(doc, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1, 2])).encode(
                "utf-8", "surrogatepass")
        except (ValueError, RecursionError) as exc:
            kinds.append(f"unserialisable:{type(exc).__name__}")
    if rng.random() < 0.3 or not kinds:
        data, kind = mutate_bytes(data, rng)
        kinds.append(kind)
    return data, "+".join(kinds)


# --- checks ----------------------------------------------------------------------------------

def check_outputs(reports, problems: list[str], what: str) -> None:
    """Render the reports in every format (as a batch does) and check each output."""
    from nbreview.model import RunReport
    from nbreview.render import RenderContext, renderer

    for fmt in ("json", "sarif", "github", "text", "markdown", "html"):
        for lang in ("ru", "en"):
            ctx = RenderContext(lang=lang, color=fmt == "text" and lang == "en")
            try:
                text = renderer(fmt)(RunReport(list(reports), lang), ctx)
            except Exception as exc:  # noqa: BLE001 - that is what we look for
                problems.append(f"{what}: render {fmt}/{lang}: {type(exc).__name__}: {exc}")
                continue
            from nbreview.notebook import scrub

            try:
                scrub(text).encode("utf-8")
            except UnicodeEncodeError as exc:
                problems.append(f"{what}: {fmt}/{lang} output is not UTF-8: {exc}")
            if fmt in ("json", "sarif"):
                try:
                    json.loads(text)
                except ValueError as exc:
                    problems.append(f"{what}: {fmt}/{lang} output is not JSON: {exc}")
            if fmt == "text":
                raw = text.replace("\x1b[", "")  # rich's own colours (with --color) start with ESC [
                if any(ch in raw for ch in "\x1b\x07\x08\x9b"):
                    problems.append(f"{what}: text/{lang} lets a control character through")


def review_inprocess(path: Path, problems: list[str], slow: float, what: str):
    from nbreview.engine import Options, review_path

    start = time.perf_counter()
    try:
        report = review_path(path, Options(langs=("ru", "en")))
    except Exception as exc:  # noqa: BLE001
        problems.append(f"{what}: review_path raised {type(exc).__name__}: {exc}")
        return None, time.perf_counter() - start
    took = time.perf_counter() - start
    if took > slow:
        problems.append(f"{what}: took {took:.1f} s")
    for e in report.errors:
        for lang in ("ru", "en"):
            text = e.text(lang)
            if not text.strip() or text.rstrip().endswith(":"):
                problems.append(f"{what}: an empty message ({e.code})")
    return report, took


def special_files(folder: Path) -> int:
    """Hostile file-system entries among a batch; returns how many notebooks they add."""
    n = 0
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "fifo.ipynb")
        n += 1
    if hasattr(os, "symlink") and sys.platform != "win32":
        os.symlink("/dev/zero", folder / "zero.ipynb")
        os.symlink("loop.ipynb", folder / "loop.ipynb")
        (folder / "sub").mkdir()
        os.symlink("..", folder / "sub" / "up")  # a folder loop, not followed
        n += 2
    (folder / "dir.ipynb").mkdir()  # a folder named like a notebook is walked into, not read
    (folder / "deep" / ("d" * 20)).mkdir(parents=True)
    (folder / "deep" / "nbreview.toml").write_text("x = " + "[" * 3000 + "]" * 3000)
    (folder / "deep" / ("d" * 20) / "n.ipynb").write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5,
                                                                      "metadata": {}, "cells": []}))
    return n + 1


def check_batch(folder: Path, expected: int, canary: str, problems: list[str], jobs: int, timeout: float) -> None:
    """The command line over the folder: every format, valid, nothing lost, the canary found."""
    for fmt in ("json", "sarif", "text", "github", "markdown"):
        cmd = [sys.executable, "-m", "nbreview", "check", str(folder), "--format", fmt, "--jobs", str(jobs)]
        try:
            r = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            problems.append(f"batch {folder.name}/{fmt}: no answer in {timeout:.0f} s")
            continue
        err = r.stderr.decode("utf-8", "replace")
        if r.returncode not in (0, 1, 2) or "Traceback" in err:
            problems.append(f"batch {folder.name}/{fmt}: exit {r.returncode}: {err[-800:]}")
            continue
        try:
            out = r.stdout.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"batch {folder.name}/{fmt}: output is not UTF-8: {exc}")
            continue
        if any(line.lstrip().startswith("::") for line in err.splitlines()):
            problems.append(f"batch {folder.name}/{fmt}: a workflow command on stderr")
        if fmt == "json":
            try:
                doc = json.loads(out)
            except ValueError as exc:
                problems.append(f"batch {folder.name}/json: not JSON: {exc}")
                continue
            if len(doc["notebooks"]) != expected:
                problems.append(f"batch {folder.name}/json: {len(doc['notebooks'])} notebooks, expected {expected}")
            hits = [nb for nb in doc["notebooks"] if nb["path"].endswith(canary)]
            if not hits or not any(f["rule"] == "checkpoint-save-best-only" for f in hits[0]["findings"]):
                problems.append(f"batch {folder.name}/json: the canary's finding is lost")
        elif fmt == "sarif":
            try:
                json.loads(out)["runs"][0]["results"]
            except (ValueError, KeyError, IndexError) as exc:
                problems.append(f"batch {folder.name}/sarif: not SARIF: {exc}")
        elif fmt == "text" and "\x1b" in out:
            problems.append(f"batch {folder.name}/text: a raw escape character")
        elif fmt == "github":
            # the runner reads lines ending in \n, \r or \r\n; every one must be ours
            lines = out.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if any(line and not line.startswith(("::", "nbreview:")) for line in lines):
                problems.append(f"batch {folder.name}/github: a line that is not an annotation")


def campaign(n: int, seed: int, batch: int, jobs: int, slow: float, keep: Path | None,
             log=print) -> dict:
    pool = seeds()
    problems: list[str] = []
    stats: dict[str, int] = {}
    times: list[float] = []
    start = time.perf_counter()
    batches = 0
    with tempfile.TemporaryDirectory(prefix="nbreview-fuzz-") as tmp:
        work = Path(tmp)
        for first in range(0, n, batch):
            folder = work / f"b{first // batch:04d}"
            folder.mkdir()
            names = []
            for i in range(first, min(n, first + batch)):
                data, kind = make(seed, i, pool)
                stats[kind.split("+")[0]] = stats.get(kind.split("+")[0], 0) + 1
                rng = random.Random(seed * 7919 + i)
                name: str | bytes = f"n{i:06d}.ipynb"
                if rng.random() < 0.1:
                    name = rng.choice(HOSTILE_NAMES)
                    if name in names:
                        name = f"n{i:06d}-{name}"[:240]
                if rng.random() < 0.02 and sys.platform != "win32":
                    name = rng.choice(BAD_BYTES_NAMES)
                target = folder / (os.fsdecode(name) if isinstance(name, bytes) else name)
                if target.exists() or target.name in names:
                    target = folder / f"n{i:06d}.ipynb"
                names.append(target.name)
                target.write_bytes(data)
                before = len(problems)
                report, took = review_inprocess(target, problems, slow, f"notebook {i} ({kind})")
                times.append(took)
                if report is not None and (i % 5 == 0 or kind.startswith(("value", "metadata", "splice"))):
                    check_outputs([report], problems, f"notebook {i} ({kind})")
                if len(problems) > before and keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(target, keep / f"{seed}-{i}.ipynb")
            canary = "zz-canary.ipynb"
            (folder / canary).write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
                {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1, "source": CKPT}]}))
            expected = len(names) + 1 + special_files(folder)
            check_batch(folder, expected, canary, problems, jobs, timeout=max(120.0, batch * 2.0))
            batches += 1
            shutil.rmtree(folder, ignore_errors=True)
            if log and (first // batch) % 10 == 0:
                log(f"  {min(n, first + batch)}/{n} notebooks, {len(problems)} problems, "
                    f"{time.perf_counter() - start:.0f} s")
    times.sort()
    return {"notebooks": n, "batches": batches, "seed": seed, "problems": problems, "mutations": stats,
            "seconds": time.perf_counter() - start, "slowest_s": times[-1] if times else 0.0,
            "p99_s": times[int(len(times) * 0.99)] if times else 0.0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20_000, help="mutated notebooks (default 20,000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=500, help="notebooks per command-line batch (default 500)")
    ap.add_argument("--jobs", type=int, default=2, help="--jobs of the command-line batches (default 2)")
    ap.add_argument("--slow", type=float, default=10.0, help="a notebook slower than this is a problem (s)")
    ap.add_argument("--keep", type=Path, help="copy the notebooks with problems here")
    args = ap.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    print(f"fuzzing nbreview: {args.n} notebooks, seed {args.seed}, batches of {args.batch}")
    res = campaign(args.n, args.seed, args.batch, args.jobs, args.slow, args.keep)
    print(f"\n{res['notebooks']} mutated notebooks in {res['batches']} command-line batches "
          f"(each with hostile names, a FIFO, /dev/zero, a symlink loop, a deeply nested nbreview.toml) "
          f"in {res['seconds']:.0f} s")
    print(f"slowest notebook {res['slowest_s']:.2f} s, p99 {res['p99_s'] * 1000:.0f} ms")
    print("mutations:", ", ".join(f"{k} {v}" for k, v in sorted(res["mutations"].items())))
    print(f"problems: {len(res['problems'])}")
    for p in res["problems"][:50]:
        print("  " + p)
    return 1 if res["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
