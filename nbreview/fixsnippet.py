"""The corrected code a remark shows: the student's own lines, rewritten losslessly with libcst.

Only the cell concerned is parsed (libcst is slow to import and parse; see DESIGN.md), and
only for rules whose correction is mechanical. Anything unexpected gives None and the
review falls back to the catalog's `fix` text.
"""
from __future__ import annotations

from .ipython import mask

RENAMES = {"fit_generator": "fit", "evaluate_generator": "evaluate", "predict_generator": "predict"}
SUPPORTED = ("checkpoint-save-best-only", "deprecated-generator-api")


def corrected_lines(rule: str, source: str, line: int, end_line: int) -> list[str] | None:
    """The lines `line..end_line` of the cell after the fix, or None when there is no safe rewrite."""
    if rule not in SUPPORTED:
        return None
    from .quickfix import UNHANDLED, corrected_lines as quick

    fast = quick(rule, mask(source).source, source, line, end_line)  # the usual shapes, without libcst
    if fast is not UNHANDLED:
        return fast
    return _with_libcst(rule, source, line, end_line)


def _with_libcst(rule: str, source: str, line: int, end_line: int) -> list[str] | None:
    try:
        import libcst as cst
        from libcst.metadata import MetadataWrapper, PositionProvider
    except ImportError:  # pragma: no cover - libcst is a dependency
        return None
    masked = mask(source).source  # IPython lines become `pass`: positions are kept
    try:
        wrapper = MetadataWrapper(cst.parse_module(masked))
    except Exception:  # noqa: BLE001 - libcst rejects some code ast accepts: no snippet then
        return None
    transformer = _transformer(cst, PositionProvider, rule, line, end_line)
    try:
        new = wrapper.visit(transformer).code
    except Exception:  # noqa: BLE001 - a snippet is a nicety, never a failure
        return None
    if not transformer.changed:
        return None
    delta = new.count("\n") - masked.count("\n")  # lines added inside the span (one argument per line)
    if delta < 0:
        return None
    original = source.split("\n")[line - 1:end_line]
    fixed = new.split("\n")[line - 1:end_line + delta]
    return fixed if fixed != original else None


def _transformer(cst, PositionProvider, rule: str, line: int, end_line: int):
    class Fixer(cst.CSTTransformer):
        METADATA_DEPENDENCIES = (PositionProvider,)

        def __init__(self) -> None:
            super().__init__()
            self.changed = False

        def _in_span(self, node) -> bool:
            pos = self.get_metadata(PositionProvider, node)
            return line <= pos.start.line <= end_line or pos.start.line <= line <= pos.end.line

        def leave_Call(self, original, updated):
            if not self._in_span(original):
                return updated
            name = _callee_name(cst, updated.func)
            if rule == "checkpoint-save-best-only" and name == "ModelCheckpoint":
                return self._save_best(updated)
            if rule == "deprecated-generator-api":
                if name in RENAMES and isinstance(updated.func, cst.Attribute):
                    self.changed = True
                    updated = updated.with_changes(func=updated.func.with_changes(attr=cst.Name(RENAMES[name])))
                args = []
                for a in updated.args:
                    if a.keyword is not None and a.keyword.value in ("lr", "generator"):
                        new_kw = "learning_rate" if a.keyword.value == "lr" else "x"
                        a = a.with_changes(keyword=cst.Name(new_kw))
                        self.changed = True
                    args.append(a)
                return updated.with_changes(args=args)
            return updated

        def _save_best(self, call):
            if any(a.star for a in call.args):
                return call  # **kwargs: the option may live in the dict; leave it to the student
            args = list(call.args)
            for i, a in enumerate(args):
                if a.keyword is not None and a.keyword.value == "save_best_only":
                    args[i] = a.with_changes(value=cst.Name("True"))
                    self.changed = True
                    return call.with_changes(args=args)
            if len(args) >= 4 and all(a.keyword is None for a in args[:4]):
                args[3] = args[3].with_changes(value=cst.Name("True"))  # positional save_best_only
                self.changed = True
                return call.with_changes(args=args)
            new_arg = cst.Arg(value=cst.Name("True"), keyword=cst.Name("save_best_only"),
                              equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                    whitespace_after=cst.SimpleWhitespace("")))
            if args:
                last = args[-1]
                trailing = isinstance(last.comma, cst.Comma)
                if trailing and len(args) >= 2:  # one argument per line: keep that layout
                    args[-1] = last.with_changes(comma=args[-2].comma)
                    args.append(new_arg.with_changes(comma=last.comma))
                else:
                    args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                    args.append(new_arg.with_changes(comma=last.comma) if trailing else new_arg)
            else:
                args.append(new_arg)
            self.changed = True
            return call.with_changes(args=args)

    return Fixer()


def _callee_name(cst, func) -> str | None:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None
