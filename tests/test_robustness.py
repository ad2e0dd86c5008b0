"""Hostile or broken inputs never crash a review, and pathological code stays fast."""
from __future__ import annotations

import json
import random
import time

from nbreview.engine import review_path

from .conftest import DEVSET, FIXTURES, make_notebook

CKPT = "from tensorflow.keras.callbacks import ModelCheckpoint\nc = ModelCheckpoint('x')\n"


def test_fan_out_of_notebook_functions_and_long_expressions(tmp_path):
    code = "def f0(x):\n    return x\n"
    for i in range(1, 8):  # 10**7 calls if every call were followed
        code += f"def f{i}(x):\n" + "".join(f"    f{i - 1}(x)\n" for _ in range(10)) + "    return x\n"
    code += "f7(1)\n" + "y = " + " + ".join(["a"] * 900) + "\n" + CKPT
    path = make_notebook([code, "def r(n):\n    return r(n - 1)\nr(5)", CKPT], tmp_path / "bomb.ipynb")
    start = time.perf_counter()
    report = review_path(path)
    assert time.perf_counter() - start < 5
    assert [f.location.cell for f in report.findings] == [0, 2]


def test_random_corruptions_of_real_notebooks_never_crash(tmp_path):
    sources = sorted(FIXTURES.glob("*.ipynb")) + sorted(DEVSET.glob("*.ipynb"))
    rnd = random.Random(7)
    for i in range(60):
        data = rnd.choice(sources).read_bytes()
        op = i % 4
        if op == 0:
            data = data[: rnd.randrange(len(data))]
        elif op == 1:
            b = bytearray(data)
            for _ in range(5):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            data = bytes(b)
        else:
            nb = json.loads(data)
            for c in nb["cells"]:
                src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                if src and op == 2:
                    k = rnd.randrange(len(src))
                    c["source"] = src[:k] + rnd.choice(["(", ")", ":", "\n    ", '"""', "\\", "**", "%", "!", "?"]) + src[k:]
            if op == 3:
                rnd.shuffle(nb["cells"])
            data = json.dumps(nb).encode()
        path = tmp_path / f"c{i}.ipynb"
        path.write_bytes(data)
        report = review_path(path)  # must not raise
        assert not [e for e in report.errors if "internal error" in e.message], (i, report.errors)
