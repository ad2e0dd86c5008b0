"""Russian (and English) counts: 1 замечание, 2 замечания, 5 замечаний, 11 замечаний, 21 замечание..."""
from __future__ import annotations

import pytest

from nbreview.plural import count, ru_form

EXPECTED_FORM = {0: 2, 1: 0, 2: 1, 5: 2, 11: 2, 21: 0, 22: 1, 25: 2, 101: 0, 111: 2}


@pytest.mark.parametrize("n", sorted(EXPECTED_FORM))
def test_ru_form(n):
    assert ru_form(n) == EXPECTED_FORM[n]


@pytest.mark.parametrize("n,finding,notebook,error,place", [
    (0, "0 замечаний", "0 ноутбуков", "0 ошибок", "0 мест"),
    (1, "1 замечание", "1 ноутбук", "1 ошибка", "1 место"),
    (2, "2 замечания", "2 ноутбука", "2 ошибки", "2 места"),
    (5, "5 замечаний", "5 ноутбуков", "5 ошибок", "5 мест"),
    (11, "11 замечаний", "11 ноутбуков", "11 ошибок", "11 мест"),
    (21, "21 замечание", "21 ноутбук", "21 ошибка", "21 место"),
    (22, "22 замечания", "22 ноутбука", "22 ошибки", "22 места"),
    (25, "25 замечаний", "25 ноутбуков", "25 ошибок", "25 мест"),
    (101, "101 замечание", "101 ноутбук", "101 ошибка", "101 место"),
    (111, "111 замечаний", "111 ноутбуков", "111 ошибок", "111 мест"),
])
def test_ru_counts(n, finding, notebook, error, place):
    assert count(n, "finding", "ru") == finding
    assert count(n, "notebook", "ru") == notebook
    assert count(n, "error", "ru") == error
    assert count(n, "place", "ru") == place


@pytest.mark.parametrize("n,text", [(0, "0 findings"), (1, "1 finding"), (2, "2 findings"), (21, "21 findings")])
def test_en_counts(n, text):
    assert count(n, "finding", "en") == text


def test_summary_line_uses_plurals():
    from nbreview.mentor import summary_line

    assert summary_line({"error": 2, "warning": 1, "advice": 0}, "ru") == "3 замечания (2 ошибки, 1 предупреждение)"
    assert summary_line({"error": 21, "warning": 0, "advice": 5}, "ru") == \
        "26 замечаний (21 ошибка, 5 советов)"
    assert summary_line({"error": 1, "warning": 0, "advice": 0}, "en") == "1 finding (1 error)"
