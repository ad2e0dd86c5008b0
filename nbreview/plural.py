"""Counting words correctly: 1 замечание, 2 замечания, 5 замечаний; 1 finding, 2 findings."""
from __future__ import annotations

# lang -> word -> forms (ru: one, few, many; en: one, other)
WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "ru": {
        "finding": ("замечание", "замечания", "замечаний"),
        "notebook": ("ноутбук", "ноутбука", "ноутбуков"),
        "error": ("ошибка", "ошибки", "ошибок"),
        "warning": ("предупреждение", "предупреждения", "предупреждений"),
        "advice": ("совет", "совета", "советов"),
        "cell": ("ячейка", "ячейки", "ячеек"),
        "file": ("файл", "файла", "файлов"),
        "pass": ("проход", "прохода", "проходов"),
        "epoch": ("эпоха", "эпохи", "эпох"),
        "place": ("место", "места", "мест"),
        "mistake": ("ошибка", "ошибки", "ошибок"),
        "unreadable": ("файл не прочитан", "файла не прочитаны", "файлов не прочитано"),
    },
    "en": {
        "finding": ("finding", "findings"),
        "notebook": ("notebook", "notebooks"),
        "error": ("error", "errors"),
        "warning": ("warning", "warnings"),
        "advice": ("advice", "advice"),
        "cell": ("cell", "cells"),
        "file": ("file", "files"),
        "pass": ("pass", "passes"),
        "epoch": ("epoch", "epochs"),
        "place": ("place", "places"),
        "mistake": ("mistake", "mistakes"),
        "unreadable": ("file unreadable", "files unreadable"),
    },
}


def ru_form(n: int) -> int:
    """Index of the Russian plural form for n: 0 = one, 1 = few, 2 = many."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


def word(n: int, key: str, lang: str = "ru") -> str:
    forms = WORDS.get(lang, WORDS["en"]).get(key) or WORDS["en"][key]
    if lang == "ru":
        return forms[ru_form(n)]
    return forms[0] if abs(n) == 1 else forms[-1]


def count(n: int, key: str, lang: str = "ru") -> str:
    return f"{n} {word(n, key, lang)}"
