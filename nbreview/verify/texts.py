"""Words and numbers for the evidence texts (ru/en). Pure Python."""
from __future__ import annotations

import math
from typing import Any, Iterable

from ..plural import ru_form

FORMS = {
    "ru": {"run": ("запуск", "запуска", "запусков"), "epoch": ("эпоха", "эпохи", "эпох"),
           "epoch_loc": ("эпохе", "эпохах", "эпохах"), "pass": ("проход", "прохода", "проходов"),
           "seed": ("сид", "сида", "сидов")},
    "en": {"run": ("run", "runs"), "epoch": ("epoch", "epochs"), "epoch_loc": ("epoch", "epochs"),
           "pass": ("pass", "passes"), "seed": ("seed", "seeds")},
}


def word(n: int, key: str, lang: str) -> str:
    forms = FORMS["ru" if lang == "ru" else "en"][key]
    if lang == "ru":
        return forms[ru_form(n)]
    return forms[0] if n == 1 else forms[-1]


def count(n: int, key: str, lang: str) -> str:
    return f"{n} {word(n, key, lang)}"


def stat(values: Iterable[float | None]) -> dict[str, Any]:
    """Per-seed values with their mean and spread (sample standard deviation; 0 for one value)."""
    vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not vals:
        return {"values": [], "mean": None, "std": None, "min": None, "max": None}
    m = sum(vals) / len(vals)
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
    return {"values": [round(v, 6) for v in vals], "mean": round(m, 6), "std": round(sd, 6),
            "min": round(min(vals), 6), "max": round(max(vals), 6)}


def pm(s: dict[str, Any], digits: int = 2, signed: bool = False) -> str:
    """"0.81 ± 0.03" (or "0.81" for a single run)."""
    if s.get("mean") is None:
        return "—"
    fmt = f"{{:{'+' if signed else ''}.{digits}f}}"
    head = fmt.format(s["mean"])
    if len(s.get("values", [])) > 1:
        return f"{head} ± {s['std']:.{digits}f}"
    return head


def num(v: float | None, digits: int = 2) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def rng(lo: float, hi: float) -> str:
    def f(v: float) -> str:
        if v == 0:
            return "0"
        a = abs(v)
        return f"{v:.4f}" if a < 0.1 else f"{v:.3f}" if a < 10 else f"{v:.1f}"

    return f"{f(lo)}…{f(hi)}"


def consistency(deltas: list[float], lang: str, tol: float = 1e-9) -> tuple[str, int, int]:
    """Direction of a paired effect over seeds: ("fixed_better" | "as_written_better" | "no_difference" |
    "mixed", how many seeds agree, how many seeds)."""
    n = len(deltas)
    pos = sum(1 for d in deltas if d > tol)
    neg = sum(1 for d in deltas if d < -tol)
    if pos and not neg:
        return "fixed_better", pos, n
    if neg and not pos:
        return "as_written_better", neg, n
    if not pos and not neg:
        return "no_difference", n, n
    return "mixed", max(pos, neg), n


def in_runs(k: int, n: int, lang: str) -> str:
    if lang == "ru":
        if k == n:
            return f"во всех {n} запусках" if n > 1 else "в единственном запуске"
        gen = "запуска" if n % 10 == 1 and n % 100 != 11 else "запусков"  # «из 21 запуска», «из 3 запусков»
        return f"в {k} из {n} {gen}"
    if k == n:
        return f"in all {count(n, 'run', lang)}" if n > 1 else "in the single run"
    return f"in {k} of {count(n, 'run', lang)}"


def after_epochs(n: int) -> str:
    """«после 1 эпохи», «после 5 эпох» (genitive)."""
    return f"{n} {'эпохи' if n % 10 == 1 and n % 100 != 11 else 'эпох'}"
