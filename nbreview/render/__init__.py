"""Output formats. Each module has `render(run: RunReport, ctx: RenderContext) -> str`.

Formats are imported lazily by name, so `--format json` never pays for rich or jinja2.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

from ..model import RunReport

FORMATS: dict[str, str] = {
    "text": "nbreview.render.text",
    "json": "nbreview.render.json",
    "sarif": "nbreview.render.sarif",
    "github": "nbreview.render.github",
    "markdown": "nbreview.render.markdown",
    "html": "nbreview.render.html",
}


@dataclass
class RenderContext:
    lang: str = "ru"
    color: bool | None = None  # None: decide from the terminal
    fail_on: str = "warning"
    extra: dict = field(default_factory=dict)


def renderer(fmt: str) -> Callable[[RunReport, RenderContext], str]:
    module = importlib.import_module(FORMATS[fmt])
    return module.render  # type: ignore[no-any-return]
