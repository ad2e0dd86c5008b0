"""What a rule is: one class in one module, reporting through a context.

A rule module holds everything about one catalog entry (`rules/<slug>.toml` holds its texts
and examples):

    @register
    class SaveBest(Rule):
        slug = "my-new-rule"  # as in rules/my-new-rule.toml

        def check(self, ctx: Context) -> None:          # required: ask Facts, report findings
            for ckpt in ctx.facts.created("keras.callbacks.ModelCheckpoint"):
                ctx.report(ckpt.site, subject=ckpt, params={...}, variant=..., fix=FixOffer(safe=True))

        def fix(self, edit: NotebookEditor, hit: Hit) -> None:      # optional: the correction
            edit.set_keyword(hit.site, "save_best_only", "True")

        def evidence(self, hit: Hit, outputs: Outputs) -> OutputEvidence | None:  # optional
            ...

Checks, praise and mentor questions are all rules (the catalog's `kind` says which). A
rule never imports another rule: what two rules share belongs in `nbreview.facts`.
Whether a finding can be fixed is decided per finding (`fix=` in `report`), by the rule
that knows whether its correction is certain there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..facts import Facts
from ..facts.values import Reach, Site

if TYPE_CHECKING:
    from ..edits import NotebookEditor
    from ..model import OutputEvidence
    from ..outputs import Outputs


@dataclass
class FixOffer:
    """A rule's promise that it can correct this finding: `safe` fixes are applied by
    `nbreview fix`; unsafe ones only with `--unsafe-fixes` (they change behaviour beyond the
    remark). `variant` picks the description in the catalog's `[autofix]` table; `data` is
    for the rule's own `fix` function."""

    safe: bool = True
    variant: str = "default"
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Hit:
    """One finding (or praise, or question) as a rule reports it."""

    rule: str
    site: Site  # where it is anchored (the line the remark quotes)
    subject: Any = None  # the analysis object it is about (an Obj, a CallRecord, a Loop), for fix/evidence
    params: dict[str, Any] = field(default_factory=dict)  # for the message template; None = unknown
    related: list[Site] = field(default_factory=list)  # other places that make it true
    variant: str = "default"  # which message of the rule
    severity: str | None = None  # lower than the catalog's when the rule is less sure
    group: str = ""  # hits with the same rule, variant and group read as one remark
    fix: FixOffer | None = None
    reach: Reach | None = None  # the finding is about code the saved notebook does not run (see Context.report)


class Context:
    """What a rule sees while it runs: the facts, its options, and `report`."""

    def __init__(self, facts: Facts, slug: str, options: dict[str, Any] | None = None) -> None:
        self.facts = facts
        self.slug = slug
        self.options = options or {}
        self.hits: list[Hit] = []
        self._keys: set[tuple[int, int, int]] = set()

    def option(self, key: str, default: Any = None) -> Any:
        """A rule option (`[tool.nbreview.rules.<slug>]` in the config, else the catalog default)."""
        return self.options.get(key, default)

    def report(self, at: Site, *, subject: Any = None, params: dict[str, Any] | None = None,
               related: list[Site] | tuple[Site, ...] = (), variant: str = "default", severity: str | None = None,
               group: str = "", fix: FixOffer | None = None, reach: Reach | None | str = "auto") -> Hit | None:
        """Report a finding anchored at `at`. A second report at the same place is ignored.

        Code the saved notebook does not run (a function nothing calls, a branch no call takes)
        is reported like any other: by default the finding is about such code when `at` or one of
        the `related` sites (the places that make it true) does not run, and the review then says
        so (and lowers a dead branch's severity). A rule that knows better passes `reach`."""
        if at.key in self._keys:
            return None
        self._keys.add(at.key)
        if reach == "auto":
            reach = next((s.reach for s in (at, *related) if s.reach is not None), None)
        hit = Hit(self.slug, at, subject, dict(params or {}), list(related), variant, severity, group, fix,
                  reach if isinstance(reach, Reach) else None)
        self.hits.append(hit)
        return hit


class Rule:
    """Base class of every rule; subclasses set `slug` and implement `check`."""

    slug: ClassVar[str] = ""

    def check(self, ctx: Context) -> None:
        raise NotImplementedError

    # Optional hooks (looked up by `has_fix` / `has_evidence`).
    def fix(self, edit: "NotebookEditor", hit: Hit) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def evidence(self, hit: Hit, outputs: "Outputs") -> "OutputEvidence | None":  # pragma: no cover
        return None

    @property
    def has_fix(self) -> bool:
        return type(self).fix is not Rule.fix

    @property
    def has_evidence(self) -> bool:
        return type(self).evidence is not Rule.evidence


REGISTRY: dict[str, Rule] = {}


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator: make the rule known to the engine under its slug."""
    if not cls.slug:
        raise ValueError(f"{cls.__name__} has no slug")
    REGISTRY[cls.slug] = cls()
    return cls
