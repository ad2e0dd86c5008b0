"""A rule's page for `nbreview rule SLUG`: what it does / why it matters / example / use instead."""
from __future__ import annotations

from .catalog import RuleInfo

HEAD = {
    "ru": ("Что проверяет", "Почему это важно", "Как исправить", "Пример с ошибкой", "Как надо",
           "серьёзность", "ячейка", "Автоматическое исправление (nbreview fix)"),
    "en": ("What it checks", "Why it matters", "How to fix", "Example with the problem", "Use instead",
           "severity", "cell", "Automatic fix (nbreview fix)"),
}
AUTOFIX_NOTE = {
    "ru": "Применяется там, где nbreview уверен, что исправленный код работает; где не уверен — только с "
          "`--unsafe-fixes`; в остальных случаях замечание остаётся советом.",
    "en": "Applied where nbreview is sure the corrected code works; where it is not sure, only with "
          "`--unsafe-fixes`; elsewhere the remark stays advice.",
}
AUTOFIX_UNSAFE_NOTE = {
    "ru": "Только с `nbreview fix --unsafe-fixes`: исправление меняет поведение кода сильнее, чем касается замечание.",
    "en": "Only with `nbreview fix --unsafe-fixes`: the correction changes the code's behaviour beyond the remark.",
}
SEVERITY = {"ru": {"error": "ошибка", "warning": "предупреждение", "advice": "совет"},
            "en": {"error": "error", "warning": "warning", "advice": "advice"}}


def render_rule_page(info: RuleInfo, lang: str) -> str:
    h = HEAD.get(lang, HEAD["en"])
    sev = SEVERITY.get(lang, SEVERITY["en"]).get(info.severity, info.severity)
    out = [f"{info.code} {info.slug} — {info.text(info.title, lang)}", f"({h[5]}: {sev}, {info.framework})", ""]
    # what the rule checks (a message template has holes such as {name}: it is never shown here)
    if info.checks:
        out += [f"## {h[0]}", info.text(info.checks, lang).strip(), ""]
    out += [f"## {h[1]}", info.text(info.why, lang).strip(), ""]
    out += [f"## {h[2]}", info.text(info.fix, lang).strip(), ""]
    if info.autofix:
        variants = [info.autofix_text(lang)] + [info.autofix_text(lang, v) for v in (info.autofix.get("variants") or {})]
        out += [f"## {h[7]}", *[f"- {t}" for t in dict.fromkeys(variants) if t],
                (AUTOFIX_UNSAFE_NOTE if info.autofix.get("safe") is False else AUTOFIX_NOTE).get(lang, AUTOFIX_NOTE[
                    "en"]), ""]
    for kind, title in (("bad", h[3]), ("good", h[4])):
        ex = next((e for e in info.examples if e.kind == kind), None)
        if ex is None:
            continue
        out.append(f"## {title}")
        for i, cell in enumerate(ex.cells):
            out.append(f"# [{h[6]} {i + 1}]")
            out.append(cell.rstrip())
        out.append("")
    return "\n".join(out) + "\n"

