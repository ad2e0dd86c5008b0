"""Every message about a file or a cell that nbreview could not review, in the review's language.

A NotebookError carries a message code and its parameters; `render(code, params, lang)` turns
them into text. The English text is also kept on the error (`NotebookError.message`) for the
Python API. Parameters that come from the outside world (an OS error, a JSON or Python syntax
error) are translated here when their wording is known, and quoted as they are otherwise.
"""
from __future__ import annotations

import errno as _errno
from typing import Any

LANGS = ("ru", "en")

MESSAGES: dict[str, dict[str, str]] = {
    # --- a file that could not be read at all (kind "error", cell None) -------------------
    "missing": {
        "en": "no such file or directory",
        "ru": "такого файла или папки нет",
    },
    "is_directory": {
        "en": "a folder, not a notebook file",
        "ru": "это папка, а не файл ноутбука",
    },
    "cannot_read": {
        "en": "cannot read the file: {reason}",
        "ru": "файл не удалось открыть: {reason}",
    },
    "cannot_list": {
        "en": "cannot list the folder, its notebooks were not reviewed: {reason}",
        "ru": "не удалось просмотреть папку, её ноутбуки не проверены: {reason}",
    },
    "symlink_loop": {
        "en": "a symbolic link that leads back to itself (a loop of links)",
        "ru": "символическая ссылка ведёт сама на себя (цикл ссылок)",
    },
    "not_regular": {
        "en": "not a regular file ({kind}); only notebook files are read",
        "ru": "это не обычный файл ({kind}); читаются только файлы ноутбуков",
    },
    "too_large": {
        "en": "the file is too large to review ({size} MB, the limit is {limit} MB); clear the cell outputs "
              "(Kernel → Restart & Clear Output) and save the notebook again",
        "ru": "файл слишком большой для проверки ({size} МБ при пределе {limit} МБ); очистите выводы ячеек "
              "(Kernel → Restart & Clear Output) и сохраните ноутбук заново",
    },
    "binary": {
        "en": "a binary file, not a notebook",
        "ru": "это двоичный файл, а не ноутбук",
    },
    "not_utf8": {
        "en": "not a notebook: the file is not UTF-8 text (byte {offset}) and not JSON",
        "ru": "это не ноутбук: файл не в кодировке UTF-8 (байт {offset}) и не в формате JSON",
    },
    "empty": {
        "en": "the file is empty",
        "ru": "файл пустой",
    },
    "invalid_json": {
        "en": "invalid JSON at line {line}, column {column} ({reason}): the file is damaged",
        "ru": "ошибка JSON в строке {line}, столбце {column} ({reason}): файл повреждён",
    },
    "json_too_deep": {
        "en": "the JSON is nested too deeply to be a notebook",
        "ru": "JSON вложен слишком глубоко — это не похоже на ноутбук",
    },
    "not_object": {
        "en": "the file is JSON, but not a notebook (it holds {type}, not an object)",
        "ru": "файл в формате JSON, но это не ноутбук (в нём {type}, а не объект)",
    },
    "no_cells": {
        "en": "JSON without 'cells': not a Jupyter notebook",
        "ru": "в JSON нет списка ячеек ('cells'): это не ноутбук Jupyter",
    },
    "cells_not_list": {
        "en": "'cells' is not a list: not a Jupyter notebook",
        "ru": "поле 'cells' — не список: это не ноутбук Jupyter",
    },
    "unsupported_nbformat": {
        "en": "unsupported notebook format version {version} (nbreview reads versions 3 and 4)",
        "ru": "неподдерживаемая версия формата ноутбука {version} (nbreview читает версии 3 и 4)",
    },
    "nbformat_failed": {
        "en": "nbformat could not read this version-3 notebook: {reason}",
        "ru": "nbformat не смог прочитать этот ноутбук версии 3: {reason}",
    },
    "not_python": {
        "en": "not a Python notebook (kernel language: {language}); nbreview reviews Python notebooks only",
        "ru": "это ноутбук не на Python (язык ядра: {language}); nbreview проверяет только ноутбуки на Python",
    },
    "too_nested": {
        "en": "the code is nested too deeply to analyse",
        "ru": "код вложен слишком глубоко, чтобы его разобрать",
    },
    "config_error": {
        "en": "configuration error, the notebook was not reviewed: {reason}",
        "ru": "ошибка в файле настроек, ноутбук не проверен: {reason}",
    },
    "timeout": {
        "en": "the analysis took longer than {seconds} s and was stopped; please report this notebook",
        "ru": "анализ занял больше {seconds} с и был остановлен; пожалуйста, сообщите об этом ноутбуке разработчикам",
    },
    "crashed": {
        "en": "the analysis process crashed on this notebook; please report it",
        "ru": "процесс анализа аварийно завершился на этом ноутбуке; пожалуйста, сообщите о нём разработчикам",
    },
    "internal_error": {
        "en": "internal error of nbreview, the notebook was not reviewed: {error}; please report it",
        "ru": "внутренняя ошибка nbreview, ноутбук не проверен: {error}; пожалуйста, сообщите о ней разработчикам",
    },
    # --- notes: the notebook was reviewed, something in it was skipped -----------------------
    "replaced_bytes": {
        "en": "some bytes of the file are not valid UTF-8 (the first at byte {offset}, {count} in all); they were "
              "replaced with �, and the notebook was reviewed as it is",
        "ru": "часть байтов файла не в кодировке UTF-8 (первый — байт {offset}, всего {count}); они заменены "
              "знаком �, а ноутбук проверен как есть",
    },
    "cell_not_object": {
        "en": "this cell is not a JSON object and was skipped",
        "ru": "эта ячейка — не объект JSON, она пропущена",
    },
    "syntax": {
        "en": "the code does not parse as Python 3 (line {line}: {what}), so this cell was not reviewed. {advice}",
        "ru": "код не разбирается как Python 3 (строка {line}: {what}), поэтому эта ячейка не проверялась. {advice}",
    },
    "cell_unparseable": {
        "en": "the cell could not be parsed, so it was not reviewed: {reason}",
        "ru": "ячейку не удалось разобрать, поэтому она не проверялась: {reason}",
    },
    "budget": {
        "en": "the code is too large or too repetitive to analyse in full: the analysis stopped in cell {cell}, "
              "so remarks about the code from there on may be missing",
        "ru": "код слишком объёмный или однообразный, чтобы разобрать его целиком: анализ остановился на ячейке "
              "{cell}, поэтому замечаний о коде начиная с неё может не хватать",
    },
    "rule_error": {
        "en": "internal error in rule {rule}, its remarks are missing: {error}",
        "ru": "внутренняя ошибка в правиле {rule}, его замечаний нет: {error}",
    },
    "outputs_error": {
        "en": "internal error while reading the cell outputs: {error}",
        "ru": "внутренняя ошибка при разборе выводов ячеек: {error}",
    },
    "checklist_error": {
        "en": "internal error in the project checklist: {error}",
        "ru": "внутренняя ошибка при проверке задач проекта: {error}",
    },
    "suppress_unused_bare": {
        "en": "unused suppression `# nbreview: ignore`: no finding on this line",
        "ru": "комментарий `# nbreview: ignore` ничего не скрывает: на этой строке нет замечаний",
    },
    "suppress_empty": {
        "en": "empty suppression `# nbreview: ignore[]`: name the rules to ignore",
        "ru": "пустой комментарий `# nbreview: ignore[]`: перечислите в скобках правила, которые нужно скрыть",
    },
    "suppress_unterminated": {
        "en": "unfinished suppression `# nbreview: ignore[` without `]`: nothing was ignored; close the bracket",
        "ru": "незаконченный комментарий `# nbreview: ignore[` без `]`: ничего не скрыто; закройте скобку",
    },
    "suppress_unknown": {
        "en": "unknown rule {slug!r} in a suppression comment (see `nbreview rules`)",
        "ru": "в комментарии-исключении указано неизвестное правило {slug!r} (список правил: `nbreview rules`)",
    },
    "suppress_unused": {
        "en": "unused suppression of {slug!r}: no such finding on this {where}",
        "ru": "исключение {slug!r} ничего не скрывает: {where_ru} такого замечания нет",
    },
}

# Python's own syntax error wording -> what a student reads.
SYNTAX_WHAT = {
    "invalid syntax": {"ru": "синтаксическая ошибка", "en": "invalid syntax"},
    "unexpected indent": {"ru": "лишний отступ", "en": "unexpected indent"},
    "unindent does not match any outer indentation level": {
        "ru": "отступ не совпадает ни с одним из внешних уровней", "en": "the indentation does not match"},
    "unterminated string literal": {"ru": "строка не закрыта кавычкой", "en": "unterminated string literal"},
    "unterminated triple-quoted string literal": {
        "ru": "строка в тройных кавычках не закрыта", "en": "unterminated triple-quoted string"},
    "EOL while scanning string literal": {"ru": "строка не закрыта кавычкой", "en": "unterminated string literal"},
    "unexpected EOF while parsing": {"ru": "код обрывается на середине", "en": "the code ends too early"},
    "invalid character in identifier": {"ru": "недопустимый символ в имени", "en": "invalid character in a name"},
    "inconsistent use of tabs and spaces in indentation": {
        "ru": "в отступах смешаны табуляции и пробелы", "en": "tabs and spaces mixed in the indentation"},
    "unmatched ')'": {"ru": "лишняя закрывающая скобка «)»", "en": "an unmatched ')'"},
    "unmatched ']'": {"ru": "лишняя закрывающая скобка «]»", "en": "an unmatched ']'"},
    "unmatched '}'": {"ru": "лишняя закрывающая скобка «}»", "en": "an unmatched '}'"},
    "cannot assign to function call here. Maybe you meant '==' instead of '='?": {
        "ru": "присваивание вызову функции (может быть, имелось в виду «==»?)",
        "en": "assignment to a function call (did you mean '=='?)"},
}

SYNTAX_ADVICE = {
    "default": {
        "ru": "Проверьте скобки, кавычки и отступы в этой строке и строкой выше.",
        "en": "Check the brackets, quotes and indentation on that line and the line above.",
    },
    "print2": {
        "ru": "Это инструкция print из Python 2: в Python 3 print — функция, пишите print(...).",
        "en": "This is a Python 2 print statement: in Python 3 print is a function, write print(...).",
    },
    "indent": {
        "ru": "Выровняйте отступы: внутри одного блока у всех строк должен быть одинаковый отступ "
              "(лучше всего — четыре пробела).",
        "en": "Line the indentation up: every line of one block needs the same indentation (four spaces is best).",
    },
    "string": {
        "ru": "Закройте строку той же кавычкой, которой она открыта.",
        "en": "Close the string with the same quote it opens with.",
    },
    "shell": {
        "ru": "Если это команда оболочки, начните её с «!», например !pip install ...",
        "en": "If this is a shell command, start it with '!', for example !pip install ...",
    },
}

REASONS = {  # OS errors, by errno
    _errno.EACCES: {"ru": "нет прав на чтение", "en": "permission denied"},
    _errno.EPERM: {"ru": "операция не разрешена", "en": "operation not permitted"},
    _errno.ENOENT: {"ru": "такого файла нет", "en": "no such file"},
    _errno.ELOOP: {"ru": "цикл символических ссылок", "en": "a loop of symbolic links"},
    _errno.ENAMETOOLONG: {"ru": "слишком длинное имя", "en": "the name is too long"},
    _errno.EIO: {"ru": "ошибка ввода-вывода", "en": "input/output error"},
    _errno.ENOTDIR: {"ru": "часть пути — не папка", "en": "a part of the path is not a folder"},
}

FILE_KINDS = {
    "fifo": {"ru": "именованный канал, FIFO", "en": "a named pipe, FIFO"},
    "char": {"ru": "символьное устройство", "en": "a character device"},
    "block": {"ru": "блочное устройство", "en": "a block device"},
    "socket": {"ru": "сокет", "en": "a socket"},
    "other": {"ru": "особый файл", "en": "a special file"},
}

JSON_TYPES = {
    "list": {"ru": "список", "en": "a list"},
    "str": {"ru": "строка", "en": "a string"},
    "int": {"ru": "число", "en": "a number"},
    "float": {"ru": "число", "en": "a number"},
    "bool": {"ru": "логическое значение", "en": "a boolean"},
    "NoneType": {"ru": "null", "en": "null"},
}

JSON_REASONS = {
    "Expecting value": {"ru": "ожидалось значение", "en": "a value was expected"},
    "Expecting ',' delimiter": {"ru": "пропущена запятая", "en": "a ',' is missing"},
    "Expecting ':' delimiter": {"ru": "пропущено двоеточие", "en": "a ':' is missing"},
    "Expecting property name enclosed in double quotes": {
        "ru": "имя поля должно быть в двойных кавычках", "en": "a field name in double quotes was expected"},
    "Unterminated string starting at": {"ru": "строка не закрыта кавычкой", "en": "an unterminated string"},
    "Extra data": {"ru": "лишние данные после конца JSON", "en": "extra data after the end of the JSON"},
    "Invalid control character at": {"ru": "недопустимый управляющий символ", "en": "an invalid control character"},
    "Invalid \\escape": {"ru": "неверная escape-последовательность", "en": "an invalid escape sequence"},
}

CELL_REASONS = {
    "null": {"ru": "в коде есть нулевые байты (\\0)", "en": "the code contains null bytes (\\0)"},
    "nested": {"ru": "код вложен слишком глубоко", "en": "the code is nested too deeply"},
    "memory": {"ru": "код слишком велик для разбора", "en": "the code is too large to parse"},
    "other": {"ru": "Python отказался разбирать этот код", "en": "Python refused to parse this code"},
}

SHELL_WORDS = frozenset({"pip", "apt", "apt-get", "git", "wget", "curl", "ls", "unzip", "conda", "mkdir",
                         "cd", "cp", "mv", "rm", "nvidia-smi", "kaggle"})

WHERE = {"line": {"en": "line", "ru": "на этой строке"}, "cell": {"en": "cell", "ru": "в этой ячейке"}}


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(code: str, params: dict[str, Any] | None, lang: str = "en") -> str:
    """The text of message `code` in `lang` (English for an unknown language)."""
    lang = lang if lang in LANGS else "en"
    table = MESSAGES.get(code)
    if table is None:
        return str((params or {}).get("text", code))
    values = _Keep(_localised(params or {}, lang))
    try:
        return table[lang].format_map(values)
    except (ValueError, IndexError, KeyError):
        return table[lang]


def _pick(table: dict[str, dict[str, str]], key: Any, lang: str, default: Any = None) -> Any:
    entry = table.get(key) if isinstance(key, (str, int)) else None
    if entry is None:
        return default
    return entry.get(lang) or entry.get("en")


def _localised(params: dict[str, Any], lang: str) -> dict[str, Any]:
    out = dict(params)
    if "errno" in params:
        out["reason"] = _pick(REASONS, params["errno"], lang, params.get("reason", ""))
    if "file_kind" in params:
        out["kind"] = _pick(FILE_KINDS, params["file_kind"], lang, params["file_kind"])
    if "json_type" in params:
        out["type"] = _pick(JSON_TYPES, params["json_type"], lang, params["json_type"])
    if "json_reason" in params:
        out["reason"] = _pick(JSON_REASONS, params["json_reason"], lang, params["json_reason"])
    if "cell_reason" in params:
        out["reason"] = _pick(CELL_REASONS, params["cell_reason"], lang, params["cell_reason"])
    if "syntax" in params:
        out["what"] = _pick(SYNTAX_WHAT, params["syntax"], lang, params["syntax"])
        out["advice"] = _pick(SYNTAX_ADVICE, params.get("hint", "default"), lang, "")
    if "where" in params:
        out["where_ru"] = _pick(WHERE, params["where"], "ru", "")
        if lang == "en":
            out["where"] = _pick(WHERE, params["where"], "en", params["where"])
    for key in ("slug",):
        if key in out:
            out[key] = str(out[key])
    return out


def os_reason(exc: OSError) -> dict[str, Any]:
    """Parameters naming an OS error: translated by errno, else its own English text."""
    return {"errno": exc.errno, "reason": exc.strerror or str(exc) or type(exc).__name__}


def syntax_params(exc: SyntaxError) -> dict[str, Any]:
    """Parameters of the `syntax` note: Python's wording, and advice on what to check."""
    what = (exc.msg or "invalid syntax").strip() or "invalid syntax"
    text = (exc.text or "").strip()
    if (text.startswith("print ") and not text.startswith("print(")) or what.startswith(
            "Missing parentheses in call to 'print'"):
        hint = "print2"
    elif isinstance(exc, IndentationError) or "indent" in what:
        hint = "indent"
    elif "string" in what:
        hint = "string"
    elif text.split(" ", 1)[0] in SHELL_WORDS:
        hint = "shell"
    else:
        hint = "default"
    return {"syntax": what, "line": exc.lineno or 1, "hint": hint}
