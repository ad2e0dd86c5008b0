"""The Review: opening, grouped remarks, praise, questions, checklist, evidence, corrected code."""
from __future__ import annotations

from pathlib import Path

import pytest

from nbreview.engine import review_path
from nbreview.mentor import build_review, same_in

ROOT = Path(__file__).resolve().parent.parent
MISTAKES = "fixtures/review_keras_mistakes.ipynb"
GOOD = "fixtures/review_keras_good.ipynb"


@pytest.fixture(scope="module")
def mistakes():
    return review_path(ROOT / MISTAKES)


@pytest.fixture(scope="module")
def good():
    return review_path(ROOT / GOOD)


def test_opening_names_three_most_important_by_severity_then_consequence(mistakes):
    rv = build_review(mistakes, "ru")
    assert [r.rule for r in rv.top] == ["checkpoint-save-best-only", "augmented-validation", "rescale-efficientnet"]
    # the header counts the remarks the review shows (one remark per rule and kind of message)
    assert "8 замечаний (4 ошибки, 3 предупреждения, 1 совет)" in rv.opening and len(rv.remarks) == 8
    assert "(замечание 1, ячейка 8)" in rv.opening
    assert rv.opening.startswith("Хорошо получилось: fine-tuning")  # praise first, then the mistakes
    en = build_review(mistakes, "en")
    assert "serious mistakes that noticeably affect the result" in en.opening and "8 findings" in en.opening


def test_same_rule_in_several_cells_is_one_remark(mistakes):
    rv = build_review(mistakes, "ru")
    fitgen = [r for r in rv.remarks if r.rule == "deprecated-generator-api" and "fit_generator" in r.message]
    assert len(fitgen) == 1
    r = fitgen[0]
    assert [p.number for p in r.also] == [13]
    assert r.also_text == "То же самое — в ячейке 13."
    # boilerplate (why/fix) is said once per group, not once per cell; lr= and evaluate_generator
    # are other messages with their own advice
    assert len([x for x in rv.remarks if x.rule == "deprecated-generator-api"]) == 3
    [rescale] = [x for x in rv.remarks if x.rule == "rescale-efficientnet"]
    assert [p.number for p in rescale.also] == [16]


def test_same_in_wording():
    from nbreview.mentor import Place

    one = [Place(13, 9, "", None)]
    three = [Place(9, 6, "", None), Place(13, 8, "", None), Place(16, None, "", None)]
    assert same_in(one, "ru") == "То же самое — в ячейке 14."
    assert same_in(three, "ru") == "То же самое — в ячейках 10, 14 и 17."
    assert same_in(three, "en") == "The same in cells 10, 14 and 17."


def test_remark_quotes_the_cell_as_the_student_sees_it(mistakes):
    rv = build_review(mistakes, "ru")
    ckpt = next(r for r in rv.remarks if r.rule == "checkpoint-save-best-only")
    assert ckpt.place.label == "ячейка 8, In [5]" and ckpt.place.section == "Модель"
    marked = [ln for ln in ckpt.place.lines if ln.marked]
    assert len(marked) == 1 and marked[0].text.startswith("checkpoint = ModelCheckpoint(")
    assert ckpt.rule_anchor == "rule-checkpoint-save-best-only"
    assert any(p.slug == "checkpoint-save-best-only" for p in rv.rules)


def test_corrected_code_from_libcst(mistakes):
    rv = build_review(mistakes, "ru")
    ckpt = next(r for r in rv.remarks if r.rule == "checkpoint-save-best-only")
    assert ckpt.corrected is not None
    assert ckpt.corrected[0].text.endswith("mode='max', save_best_only=True)") and ckpt.corrected[0].marked
    fitgen = next(r for r in rv.remarks if r.rule == "deprecated-generator-api" and "fit_generator" in r.message)
    assert fitgen.corrected[0].text == "history = model.fit("


@pytest.mark.parametrize("source,expected", [
    ("from keras.callbacks import ModelCheckpoint\ncb = ModelCheckpoint(\n    'a.h5',\n    monitor='val_loss',\n)",
     ["cb = ModelCheckpoint(", "    'a.h5',", "    monitor='val_loss',", "    save_best_only=True,", ")"]),
    ("from keras.callbacks import ModelCheckpoint\ncb = ModelCheckpoint('a.h5', save_best_only=False)",
     ["cb = ModelCheckpoint('a.h5', save_best_only=True)"]),
    ("!pip install x\nfrom keras.optimizers import Adam\nopt = Adam(lr=1e-3)", ["opt = Adam(learning_rate=1e-3)"]),
])
def test_corrected_lines(notebook, source, expected):
    report = review_path(notebook([source]))
    (finding,) = report.findings
    rv = build_review(report, "en")
    assert [ln.text for ln in rv.remarks[0].corrected] == expected
    assert finding.fix is not None and finding.fix.safe


def test_no_corrected_snippet_when_kwargs_may_hold_the_option(notebook):
    report = review_path(notebook(["from keras.callbacks import ModelCheckpoint\ncb = ModelCheckpoint('a.h5', **kw)"]))
    assert report.findings == []  # `kw` is unknown: it may hold save_best_only=True


def test_a_kwargs_dict_is_corrected_where_it_is_written(notebook):
    report = review_path(notebook([
        "from keras.callbacks import ModelCheckpoint\nparams = {'monitor': 'val_loss'}\n"
        "cb = ModelCheckpoint('a.h5', **params)"]))
    (finding,) = report.findings
    assert finding.fix is not None and [(e.start, e.lines) for e in finding.edits] == [
        (2, ("params = {'monitor': 'val_loss', 'save_best_only': True}",))]


def test_no_fix_promised_when_two_dicts_could_take_the_option(notebook):
    report = review_path(notebook([
        "from keras.callbacks import ModelCheckpoint\na = {'monitor': 'val_loss'}\nb = dict(mode='min')\n"
        "cb = ModelCheckpoint('a.h5', **a, **b)"]))
    (finding,) = report.findings
    assert finding.fix is None and finding.edits == []


def test_evidence_from_the_training_log(mistakes):
    rv = build_review(mistakes, "ru")
    ckpt = next(r for r in rv.remarks if r.rule == "checkpoint-save-best-only")
    (ev,) = ckpt.evidence
    assert "0.842" in ev.message and "эпохе 3" in ev.message and "5-й" in ev.message
    assert ev.place.label == "ячейка 10, In [6]"


def test_evidence_stays_silent_when_the_last_epoch_is_the_best(tmp_path):
    from nbreview.outputs import parse_epochs

    log = ("Epoch 1/2\n5/5 - loss: 1.0 - val_loss: 0.9 - val_accuracy: 0.5\r\n"
           "Epoch 2/2\n5/5 [==] - loss: 0.5 - val_loss: 0.6 - val_accuracy: 0.7\n")
    logs = parse_epochs(log)
    assert [e.epoch for e in logs] == [1, 2] and logs[1].metrics["val_accuracy"] == 0.7


def test_praise_questions_and_checklist_on_a_good_notebook(good):
    assert good.findings == []
    assert [p.rule for p in good.praise] == ["good-albumentations", "good-clean-validation", "good-fine-tuning",
                                             "good-real-tta"]
    assert [q.rule for q in good.questions] == ["question-staged-unfreezing", "question-adaptive-tta"]
    done = {c.task: c.done for c in good.checklist}
    assert done == {"transfer-learning": True, "fine-tuning": True, "lr-schedule": True, "augmentation": True,
                    "tta": True, "ensembling": False, "external-data": False, "submission-file": True}
    rv = build_review(good, "ru")
    assert rv.opening.startswith("Хорошо получилось: аугментации через albumentations")
    assert "не нашла в коде ни ошибок" in rv.opening


def test_praise_is_not_given_where_it_is_not_earned(mistakes):
    rules = {p.rule for p in mistakes.praise}
    assert "good-clean-validation" not in rules  # the validation is augmented there
    assert "good-real-tta" not in rules  # the TTA passes are identical
    assert "good-fine-tuning" in rules  # base_model.trainable = True after the head stage


def test_checklist_fine_tuning_needs_an_unfrozen_backbone(notebook):
    path = notebook([("from tensorflow.keras.applications import ResNet50\n"
                     "base = ResNet50(weights='imagenet', include_top=False)\nbase.trainable = False")])
    report = review_path(path)
    done = {c.task: c.done for c in report.checklist}
    assert done["transfer-learning"] and not done["fine-tuning"]
    assert not report.praise


def test_scratch_model_is_not_transfer_learning(notebook):
    path = notebook(["from tensorflow.keras.applications import ResNet50\nm = ResNet50(weights=None)"])
    assert {c.task: c.done for c in review_path(path).checklist}["transfer-learning"] is False


def test_every_praise_and_question_has_texts_in_both_languages():
    from nbreview import catalog as cat

    notes = [i for i in cat.catalog().values() if i.kind in ("praise", "question")]
    assert {i.slug for i in notes} >= {"good-clean-validation", "good-albumentations", "good-real-tta",
                                       "good-fine-tuning"}
    for info in notes:
        for lang in ("ru", "en"):
            assert info.title.get(lang) and info.message.get(lang), (info.slug, lang)
