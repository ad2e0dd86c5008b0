"""Limits of the abstract interpreter: no value it computes, and no notebook, can cost too much.

Student code can be cheap to write and expensive to fold: `x = 10 ** 64` then `x = x ** 64`
a few times, `1 << 10 ** 10`, a list doubled thirty times, `'ab' * 10 ** 9`, tuples nested
inside each other and turned into a string, a thousand calls of a function that makes a
thousand calls. The interpreter asks here before it computes: a value beyond a cap becomes
unknown (as anything the interpreter cannot tell), and every notebook gets a budget of
evaluation steps; when it is spent the analysis stops with a note in the report.
"""
from __future__ import annotations

from typing import Any

MAX_INT_BITS = 4096  # an int the interpreter folds (10 ** 1000 fits; nothing in a notebook needs more)
MAX_LEN = 100_000  # characters of a str/bytes, items of a tuple/list/set it builds
MAX_ITEMS = 10_000  # items of a symbolic list/tuple (Seq) it builds by concatenation
MAX_STEPS = 500_000  # expressions evaluated per notebook (~1 s; the largest real notebooks take a few thousand)


class BudgetExceeded(BaseException):
    """The notebook's budget of steps is spent. A BaseException: the interpreter's `except
    Exception` guards, which skip a statement on an analysis bug, must not swallow it."""


class Budget:
    __slots__ = ("left",)

    def __init__(self, steps: int | None = None) -> None:
        self.left = MAX_STEPS if steps is None else steps

    def step(self, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise BudgetExceeded()


def size(value: Any, limit: int = MAX_LEN) -> int:
    """A measure of a constant's size (characters, items, 64-bit words of an int), counted up to
    just past `limit`: nested tuples share their parts, so the count stops early."""
    total = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (str, bytes, bytearray)):
            total += len(v)
        elif isinstance(v, bool) or v is None:
            total += 1
        elif isinstance(v, int):
            total += 1 + v.bit_length() // 64
        elif isinstance(v, (tuple, list, frozenset, set)):
            total += 1 + len(v)
            if total <= limit:
                stack.extend(v)
        else:
            total += 1
        if total > limit:
            return total
    return total


def fits(value: Any) -> bool:
    """A computed constant small enough to keep."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() <= MAX_INT_BITS
    if isinstance(value, (str, bytes, tuple, frozenset)):
        return size(value) <= MAX_LEN
    return True


def _bits(v: Any) -> int:
    return abs(v).bit_length() if isinstance(v, int) else 64


def _length(v: Any) -> int | None:
    if isinstance(v, (str, bytes)):
        return len(v)
    if isinstance(v, (tuple, list, frozenset)):
        return size(v)
    return None


def binop_ok(name: str, left: Any, right: Any) -> bool:
    """Whether folding `left <op> right` stays within the caps (checked before computing it)."""
    if name == "pow":
        if isinstance(left, int) and isinstance(right, int):
            if right < 0 or abs(left) <= 1:
                return True  # a float, or 0 / 1 / -1: cheap
            return _bits(left) * right <= MAX_INT_BITS
        return True  # floats overflow with an error, which the caller turns into unknown
    if name == "lshift":
        return isinstance(right, int) and right <= MAX_INT_BITS - _bits(left)
    if name == "mul":
        if isinstance(left, int) and isinstance(right, int):
            return _bits(left) + _bits(right) <= MAX_INT_BITS
        seq, n = (left, right) if isinstance(right, int) else (right, left)
        length = _length(seq)
        if length is not None and isinstance(n, int):
            return length * max(n, 0) <= MAX_LEN
        return True
    if name == "add":
        a, b = _length(left), _length(right)
        if a is not None and b is not None:
            return a + b <= MAX_LEN
    return True


def seq_ok(*lengths: int) -> bool:
    """Whether a symbolic sequence of these many items (put together) stays within the cap."""
    return sum(lengths) <= MAX_ITEMS


def str_ok(value: Any) -> bool:
    """Whether `str(value)` of a constant is cheap: a small int (Python refuses > 4300 digits
    anyway) or a container whose parts are few."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() <= MAX_INT_BITS
    return size(value) <= MAX_LEN // 10
