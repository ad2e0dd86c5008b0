"""The objects a review is made of: locations, findings, praise, per-notebook results.

Everything a renderer needs is here; renderers never look at the analysis itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("error", "warning", "advice")
SEVERITY_RANK = {"error": 0, "warning": 1, "advice": 2}


@dataclass(frozen=True)
class Location:
    """A place in a notebook, as a Jupyter user and as the stored file see it."""

    cell: int  # 0-based index into nb["cells"] (markdown cells count)
    line: int  # 1-based, within the cell's source
    column: int = 1  # 1-based
    end_line: int | None = None
    end_column: int | None = None
    cell_id: str | None = None
    execution_count: int | None = None
    file_line: int | None = None  # physical line of the .ipynb holding `line`

    def to_json(self) -> dict[str, Any]:
        return {
            "cell": self.cell,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line if self.end_line is not None else self.line,
            "cell_id": self.cell_id,
            "file_line": self.file_line,
        }


@dataclass
class Fix:
    """An automatic correction nbreview offers for a finding (`nbreview fix` applies safe ones)."""

    safe: bool
    description: dict[str, str]  # lang -> text


@dataclass(frozen=True)
class CellEdit:
    """Replace lines `start..end` (1-based, inclusive) of a cell with `lines`; `end = start - 1`
    inserts before `start`."""

    cell: int
    start: int
    end: int
    lines: tuple[str, ...]

    def overlaps(self, other: "CellEdit") -> bool:
        if self.cell != other.cell:
            return False
        return self.start == other.start or not (self.end < other.start or other.end < self.start)


@dataclass
class OutputEvidence:
    """What the notebook's saved outputs show about a finding (e.g. the epoch log of a fit)."""

    cell: int
    execution_count: int | None
    messages: dict[str, str]  # lang -> one or two sentences
    lines: list[str] = field(default_factory=list)  # the output lines quoted as they were printed

    def message(self, lang: str = "ru") -> str:
        return self.messages.get(lang) or self.messages.get("en", "")


@dataclass
class Finding:
    rule: str
    code: str
    severity: str
    location: Location
    messages: dict[str, str]  # lang -> rendered message
    related: list[Location] = field(default_factory=list)  # other cells that make it wrong
    fix: Fix | None = None
    params: dict[str, Any] = field(default_factory=dict)
    evidence: list[OutputEvidence] = field(default_factory=list)
    variant: str = "default"  # which message of the rule (catalog variants)
    group: str = ""  # findings with the same rule, variant and group are one remark in a review
    edits: list[CellEdit] = field(default_factory=list)  # the correction, as line hunks (when computed)

    def message(self, lang: str = "ru") -> str:
        return self.messages.get(lang) or self.messages.get("en") or next(iter(self.messages.values()), "")

    @property
    def sort_key(self) -> tuple:
        return (self.location.cell, self.location.line, self.location.column, self.rule)


@dataclass
class Praise:
    rule: str
    location: Location
    messages: dict[str, str]

    def message(self, lang: str = "ru") -> str:
        return self.messages.get(lang) or self.messages.get("en", "")


# An open question a mentor would ask (staged unfreezing, a heavy head, ...): same shape as praise.
Question = Praise


CHECKLIST_STATUSES = ("done", "present", "broken", "unused", "not_run", "missing")


@dataclass
class ChecklistItem:
    """One task of the course project. `status`: "done" (live code that works), "broken" (attempted,
    but a finding says it does not work: `findings` are those findings), "unused" (the code is there
    but never reaches training or prediction), "not_run" (the notebook was run, this cell was not),
    "present" (it is there, but whether it works cannot be told from the code: TTA over data whose
    augmentation the analysis cannot see), "missing" (not found in the code). `done` is True only
    for "done"."""

    task: str
    done: bool
    cell: int | None = None
    status: str = ""
    line: int | None = None
    findings: list["Finding"] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.status:
            self.status = "done" if self.done else "missing"


@dataclass
class NotebookError:
    """A problem that kept part (cell set) or all (cell None) of a notebook from review."""

    message: str
    cell: int | None = None
    line: int | None = None
    kind: str = "error"  # "error" for unreadable files, "note" for a skipped cell

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cell": self.cell, "message": self.message}
        if self.line is not None:
            out["line"] = self.line
        return out


@dataclass
class CellView:
    """What a renderer needs to show a cell: its source as stored and its prompt."""

    index: int
    cell_type: str
    source: str
    execution_count: int | None
    cell_id: str | None
    has_outputs: bool = False


@dataclass
class NotebookReport:
    path: str
    framework: str | None = None
    findings: list[Finding] = field(default_factory=list)
    praise: list[Praise] = field(default_factory=list)
    checklist: list[ChecklistItem] = field(default_factory=list)
    errors: list[NotebookError] = field(default_factory=list)
    cells: list[CellView] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)  # e.g. {"kernel": "Python 3"} from the metadata
    checks_run: list[str] = field(default_factory=list)  # check rules that ran to the end on this notebook
    results: list[OutputEvidence] = field(default_factory=list)  # what the saved outputs show about the run
    unparsed: list[int] = field(default_factory=list)  # code cells that do not parse (their code is unchecked)

    @property
    def has_outputs(self) -> bool:
        return any(c.has_outputs for c in self.cells)

    @property
    def unreadable(self) -> bool:
        return any(e.cell is None and e.kind == "error" for e in self.errors)

    def cell(self, index: int) -> CellView | None:
        if 0 <= index < len(self.cells):
            return self.cells[index]
        return None


@dataclass
class RunReport:
    """The result of one `nbreview check` over one or more notebooks."""

    notebooks: list[NotebookReport]
    lang: str = "ru"

    @property
    def findings(self) -> list[Finding]:
        return [f for nb in self.notebooks for f in nb.findings]
