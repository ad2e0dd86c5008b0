"""Every false statement a review used to make (issue "A review a mentor would sign") is a test:
no false all-clear, no broken "safe" fix, a checklist right in both directions, questions only
with true premises, praise only when nothing contradicts it, no placeholders or fragments."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from nbreview import catalog as cat
from nbreview.edits import apply_edits
from nbreview.engine import review_path
from nbreview.mentor import build_review, same_in

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").rglob("*.ipynb"))
DEVSET = sorted((ROOT.parent / "shared" / "devset").glob("*.ipynb"))

TORCH_CLEAN = """import torch, torch.nn as nn
from torchvision import models
model = models.resnet18(weights='IMAGENET1K_V1')
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(3):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()"""
KERAS_CLEAN = """import tensorflow as tf
base = tf.keras.applications.Xception(include_top=False, weights='imagenet', pooling='avg')
model = tf.keras.Sequential([base, tf.keras.layers.Dense(10, activation='softmax')])
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(train_ds, validation_data=val_ds, epochs=5)"""


def applicable(framework: str) -> int:
    return sum(1 for i in cat.catalog().values() if i.kind == "check" and i.framework in ("any", framework))


def total_checks() -> int:
    return sum(1 for i in cat.catalog().values() if i.kind == "check")


# --- 1. no false all-clear -----------------------------------------------------------------

def test_a_pytorch_notebook_never_gets_a_keras_all_clear(notebook):
    rv = build_review(review_path(notebook([TORCH_CLEAN])), "ru")
    assert rv.remarks == []
    n, total = applicable("torch"), total_checks()
    assert f"{n} из {total}" in rv.opening  # coverage from the catalog, never a hard-coded count
    if n * 2 < total:  # an all-clear only where the catalogue covers the framework
        assert "не нашла в коде ни ошибок" not in rv.opening
        assert "Работа выглядит аккуратно" not in rv.opening
        assert "не полная проверка" in rv.opening and "остальное nbreview пока не проверяет" in rv.verdict
    en = build_review(review_path(notebook([TORCH_CLEAN])), "en")
    assert f"{n} of its {total}" in en.opening or f"{n} of the {total}" in en.opening


def test_a_clean_keras_notebook_is_called_clean_with_its_coverage(notebook):
    rv = build_review(review_path(notebook([KERAS_CLEAN])), "ru")
    assert rv.remarks == []
    n, total = applicable("keras"), total_checks()
    assert f"это {n} из {total} проверок" in rv.opening
    if n * 2 >= total:
        assert "не нашла в коде ни ошибок" in rv.opening


def test_clean_is_not_said_when_a_cell_does_not_parse(notebook):
    rv = build_review(review_path(notebook([KERAS_CLEAN, "print 'hello'"])), "ru")
    assert "не нашла в коде ни ошибок" not in rv.opening
    assert "Код ячейки 2 разобрать не удалось" in rv.opening


def test_coverage_counts_only_the_selected_rules(notebook):
    from nbreview.engine import Options

    report = review_path(notebook([KERAS_CLEAN]), Options(select={"augmented-validation"}))
    rv = build_review(report, "ru")
    assert f"1 из {total_checks()}" in rv.opening and "не нашла в коде ни ошибок" not in rv.opening


# --- 2. no broken "safe" fix ---------------------------------------------------------------

def test_a_list_monitor_gets_no_safe_fix_and_no_corrected_snippet(notebook):
    report = review_path(notebook([
        "from tensorflow.keras.callbacks import ModelCheckpoint\n"
        "checkpoint = ModelCheckpoint('best_model.hdf5', monitor=['val_acc'], verbose=1, mode='max')\n"
        "model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])\n"
        "model.fit(train_gen, validation_data=val_gen, epochs=5, callbacks=[checkpoint])"]))
    ckpt = [f for f in report.findings if f.rule == "checkpoint-save-best-only"]
    assert ckpt and not (ckpt[0].fix and ckpt[0].fix.safe)
    rv = build_review(report, "ru")
    remark = next(r for r in rv.remarks if r.rule == "checkpoint-save-best-only")
    assert remark.corrected is None
    assert remark.autofix.startswith("Автоматически — только с `nbreview fix --unsafe-fixes`")


def test_every_remark_says_whether_nbreview_fix_corrects_it():
    report = review_path(ROOT / "fixtures/review_keras_mistakes.ipynb")
    for lang in ("ru", "en"):
        for r in build_review(report, lang).remarks:
            assert "nbreview fix" in r.autofix or r.autofix.startswith(("Автоматически это не исправить",
                                                                                 "nbreview fix cannot"))
            safe = all(f.fix is not None and f.fix.safe for f in r.findings)
            assert (r.corrected is not None) <= safe


@pytest.mark.parametrize("path", FIXTURES + DEVSET, ids=lambda p: p.name)
def test_every_safe_correction_leaves_cells_that_parse(path):
    from nbreview.ipython import mask

    report = review_path(path)
    for f in report.findings:
        if f.fix is None or not f.fix.safe:
            continue
        assert f.edits, f"{f.rule}: a safe fix with no edits"
        for cell in {e.cell for e in f.edits}:
            text = apply_edits(report.cells[cell].source, [e for e in f.edits if e.cell == cell])
            ast.parse(mask(text).source)


# --- 3. the checklist ----------------------------------------------------------------------

def statuses(report):
    return {c.task: c.status for c in report.checklist}


def test_checklist_counts_a_keras_schedule_a_helper_submission_and_best_plus_last(notebook):
    report = review_path(notebook([
        "import tensorflow as tf\nfrom tensorflow import keras\nimport pandas as pd\n"
        "base = keras.applications.EfficientNetB0(include_top=False, weights='imagenet', pooling='avg')\n"
        "model = keras.Sequential([base, keras.layers.Dense(10, activation='softmax')])\n"
        "lr = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=1000, decay_rate=0.9)\n"
        "model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss='categorical_crossentropy')\n"
        "model.fit(train_ds, validation_data=val_ds, epochs=5)",
        "def make_submission(preds, fname):\n"
        "    sub = pd.DataFrame({'Id': ids, 'Category': preds.argmax(1)})\n"
        "    sub.to_csv(fname, index=False)",
        "model.save('last.h5')\nmodel.load_weights('best.h5')\np_best = model.predict(test_ds)\n"
        "model.load_weights('last.h5')\np_last = model.predict(test_ds)\np = (p_best + p_last) / 2\n"
        "make_submission(p, 'result.csv')"]))
    got = statuses(report)
    assert got["lr-schedule"] == "done"
    assert got["submission-file"] == "done"
    assert got["ensembling"] == "done"


def test_tta_of_one_model_is_not_an_ensemble(notebook):
    report = review_path(notebook([
        "import numpy as np\nimport tensorflow as tf\n"
        "model = tf.keras.applications.ResNet50(weights='imagenet')\n"
        "p1 = model.predict(test_gen)\np2 = model.predict(test_gen)\np = (p1 + p2) / 2"]))
    assert statuses(report)["ensembling"] == "missing"


def test_a_scheduler_never_stepped_is_not_done(notebook):
    report = review_path(notebook([TORCH_CLEAN.replace(
        "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)",
        "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
        "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5)")]))
    item = next(c for c in report.checklist if c.task == "lr-schedule")
    assert item.status == "unused" and not item.done
    rv = build_review(report, "ru")
    task = next(t for t in rv.checklist if t.task == "lr-schedule")
    assert task.mark == "~" and "не используется" in task.text


def test_a_stepped_scheduler_is_done(notebook):
    report = review_path(notebook([TORCH_CLEAN.replace(
        "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)",
        "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
        "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5)") + "\n    scheduler.step()"]))
    assert statuses(report)["lr-schedule"] == "done"


def test_a_keras_lr_callback_passed_to_no_fit_is_unused_and_one_passed_through_a_helper_is_not(notebook):
    unused = review_path(notebook([
        "import tensorflow as tf\nplateau = tf.keras.callbacks.ReduceLROnPlateau(patience=2)\n"
        "model.fit(train_ds, validation_data=val_ds, epochs=5)"]))
    assert statuses(unused)["lr-schedule"] == "unused"
    helper = review_path(notebook([
        "import tensorflow as tf\nplateau = tf.keras.callbacks.ReduceLROnPlateau(patience=2)\n"
        "def train(model, cbs=None):\n    return model.fit(train_ds, callbacks=cbs or [])\n"
        "train(model, cbs=[plateau])"], name="helper.ipynb"))
    assert statuses(helper)["lr-schedule"] != "unused"


TTA_BROKEN = ["import numpy as np\nfrom tensorflow.keras.preprocessing.image import ImageDataGenerator",
              "test_gen = ImageDataGenerator(rescale=1./255).flow_from_directory('test', shuffle=False)",
              "preds = []\nfor i in range(5):\n    test_gen.reset()\n    preds.append(model.predict(test_gen))\n"
              "pred = np.mean(preds, axis=0)"]


def test_a_tta_the_review_calls_broken_is_shown_as_attempted_with_a_link(notebook):
    report = review_path(notebook(TTA_BROKEN))
    item = next(c for c in report.checklist if c.task == "tta")
    assert item.status == "broken" and not item.done and item.cell == 2
    rv = build_review(report, "ru")
    task = next(t for t in rv.checklist if t.task == "tta")
    remark = next(r for r in rv.remarks if r.rule == "tta-no-augmentation")
    assert task.remarks == [remark.number] and task.mark == "!"
    assert task.text.endswith(f"(см. замечание {remark.number})")


def test_a_broken_tta_next_to_a_working_one_leaves_the_task_done(notebook):
    report = review_path(notebook([
        "import numpy as np\nfrom tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
        "test_gen = ImageDataGenerator().flow_from_directory('test', shuffle=False)\n"
        "tta_gen = ImageDataGenerator(horizontal_flip=True, rotation_range=10).flow_from_directory('test', "
        "shuffle=False)",
        "p1 = np.mean([model.predict(test_gen) for _ in range(5)], axis=0)",
        "p2 = np.mean([model.predict(tta_gen) for _ in range(10)], axis=0)"]))
    assert [f.rule for f in report.findings] == ["tta-no-augmentation"]
    assert statuses(report)["tta"] == "done"


def test_a_task_breaking_rule_is_declared_in_the_catalog_not_in_the_checklist():
    src = (ROOT / "nbreview" / "checklist.py").read_text(encoding="utf-8")
    for slug in cat.catalog():
        assert slug not in src
    assert any(i.task == "tta" for i in cat.catalog().values())


def test_tta_in_a_cell_that_never_ran_is_neither_done_nor_praised(notebook):
    cells = ["import numpy as np\nfrom tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
             "tta_gen = ImageDataGenerator(horizontal_flip=True, rotation_range=10).flow_from_directory('t', "
             "shuffle=False)",
             "preds = [model.predict(tta_gen) for _ in range(10)]\npred = np.mean(preds, axis=0)"]
    ran = review_path(notebook(cells, name="ran.ipynb"))
    assert statuses(ran)["tta"] == "done" and any(p.rule == "good-real-tta" for p in ran.praise)
    path = notebook(cells, name="not_run.ipynb")
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nb.cells[1].execution_count = None
    nbformat.write(nb, str(path))
    report = review_path(path)
    assert statuses(report)["tta"] == "not_run"
    assert not any(p.rule == "good-real-tta" for p in report.praise)


def test_fine_tuning_needs_training_after_the_unfreeze(notebook):
    cells = ["import tensorflow as tf\n"
             "base = tf.keras.applications.Xception(include_top=False, weights='imagenet', pooling='avg')\n"
             "model = tf.keras.Sequential([base, tf.keras.layers.Dense(10, activation='softmax')])\n"
             "base.trainable = False\nmodel.fit(train_ds, epochs=2)",
             "base.trainable = True"]
    report = review_path(notebook(cells))
    assert statuses(report)["fine-tuning"] == "unused"
    assert not any(p.rule == "good-fine-tuning" for p in report.praise)
    trained = review_path(notebook([cells[0], cells[1] + "\nmodel.fit(train_ds, epochs=2)"], name="ft.ipynb"))
    assert statuses(trained)["fine-tuning"] == "done"
    assert any(p.rule == "good-fine-tuning" for p in trained.praise)


def test_fine_tuning_through_a_training_helper_counts(notebook):
    report = review_path(notebook([
        "import tensorflow as tf\ndef train(m, epochs):\n    return m.fit(train_ds, epochs=epochs)",
        "base = tf.keras.applications.ResNet50(include_top=False, weights='imagenet', pooling='avg')\n"
        "model = tf.keras.Sequential([base, tf.keras.layers.Dense(10, activation='softmax')])\n"
        "base.trainable = False\ntrain(model, 2)",
        "base.trainable = True\nfor layer in base.layers[:140]:\n    layer.trainable = False\ntrain(model, 2)"]))
    assert statuses(report)["fine-tuning"] == "done"


# --- 4. questions only with true premises ---------------------------------------------------

def test_heavy_head_question_is_not_asked_for_one_hidden_dense_without_batchnorm(notebook):
    report = review_path(notebook([
        "import tensorflow as tf\nfrom tensorflow.keras import layers\n"
        "base = tf.keras.applications.EfficientNetB2(include_top=False, weights='imagenet')\n"
        "x = layers.GlobalAveragePooling2D()(base.output)\nx = layers.Dense(256, activation='relu')(x)\n"
        "x = layers.Dropout(0.25)(x)\nout = layers.Dense(10, activation='softmax')(x)\n"
        "model = tf.keras.Model(base.input, out)\nmodel.fit(train_gen)"]))
    assert not report.questions


def test_heavy_head_question_quotes_the_layers_that_are_there(notebook):
    report = review_path(notebook([
        "import tensorflow as tf\nfrom tensorflow.keras import layers\n"
        "base = tf.keras.applications.Xception(include_top=False, weights='imagenet')\n"
        "model = tf.keras.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(256, activation='relu'),\n"
        "    layers.BatchNormalization(), layers.Dropout(0.25), layers.Dense(10, activation='softmax')])\n"
        "model.fit(train_gen)"]))
    (q,) = [q for q in report.questions if q.rule == "question-heavy-head"]
    assert "`GlobalAveragePooling2D → Dense(256) → BatchNormalization → Dropout(0.25) → Dense(10)`" in q.message("ru")
    assert "несколько полносвязных" not in q.message("ru")


def test_staged_unfreezing_question_says_what_the_notebook_does(notebook):
    base = ("import tensorflow as tf\n"
            "base = tf.keras.applications.EfficientNetB0(include_top=False, weights='imagenet', pooling='avg')\n"
            "model = tf.keras.Sequential([base, tf.keras.layers.Dense(10, activation='softmax')])\n"
            "base.trainable = False\nmodel.fit(train_gen, epochs=3)")
    once = review_path(notebook([base, "for layer in base.layers[-20:]:\n    layer.trainable = True\n"
                                       "model.fit(train_gen)"]))
    (q,) = once.questions
    assert "только часть предобученной сети (`base.layers[-20:]`)" in q.message("ru")
    staged = review_path(notebook([base, "for layer in base.layers[-20:]:\n    layer.trainable = True\n"
                                         "model.fit(train_gen)\nbase.trainable = True\nmodel.fit(train_gen)"],
                                  name="staged.ipynb"))
    (q,) = staged.questions
    assert "поэтапно" in q.message("ru")


# --- 5. praise only when nothing contradicts it --------------------------------------------

def test_clean_validation_praise_is_withdrawn_by_an_augmented_validation_elsewhere(notebook):
    report = review_path(notebook([
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
        "aug = ImageDataGenerator(rescale=1/255, rotation_range=20, validation_split=0.2)\n"
        "clean = ImageDataGenerator(rescale=1/255, validation_split=0.2)\n"
        "tr = aug.flow_from_directory('d', subset='training')\nva = clean.flow_from_directory('d', subset='validation')\n"
        "bad = aug.flow_from_directory('d', subset='validation')\n"
        "model.fit(tr, validation_data=va)\nmodel.fit(tr, validation_data=bad)"]))
    assert any(f.rule == "augmented-validation" for f in report.findings)
    assert not any(p.rule == "good-clean-validation" for p in report.praise)


def test_clean_validation_is_not_praised_when_it_skips_the_training_normalisation(notebook):
    report = review_path(notebook([
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
        "aug = ImageDataGenerator(rescale=1/255, rotation_range=20)\nclean = ImageDataGenerator()\n"
        "model.fit(aug.flow_from_directory('train'), validation_data=clean.flow_from_directory('val'))"]))
    assert not any(p.rule == "good-clean-validation" for p in report.praise)


def test_fine_tuning_is_not_praised_for_a_network_trained_from_scratch(notebook):
    report = review_path(notebook([
        "import tensorflow as tf\nbase = tf.keras.applications.ResNet50(include_top=False, weights=None, pooling='avg')\n"
        "model = tf.keras.Sequential([base, tf.keras.layers.Dense(10, activation='softmax')])\n"
        "base.trainable = False\nmodel.fit(train_ds)\nbase.trainable = True\nmodel.fit(train_ds)"]))
    assert not report.praise
    assert statuses(report)["transfer-learning"] == "missing"


def test_contradicted_by_names_rules_in_slug_form():
    for info in cat.catalog().values():
        for slug in info.contradicted_by:
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", slug), (info.slug, slug)
        if info.contradicted_by:
            assert info.kind in ("praise", "question")


# --- 6. rule pages: a "good" example is good under the whole catalog ------------------------

GOOD_WITH_OTHER_REMARKS: set[tuple[str, str]] = set()  # (rule, example title) allowed to show another rule's case


@pytest.mark.parametrize("info", [i for i in cat.catalog().values() if i.kind == "check"], ids=lambda i: i.slug)
def test_the_good_example_a_rule_page_shows_is_clean_under_every_rule(info, notebook):
    from nbreview.rulepage import render_rule_page

    shown = next((e for e in info.examples if e.kind == "good"), None)
    if shown is None:
        return
    assert shown.cells[0].rstrip() in render_rule_page(info, "en")
    report = review_path(notebook(shown.cells, name=f"{info.slug}.ipynb"))
    errors = [f.rule for f in report.findings if f.severity == "error"]
    assert not errors or (info.slug, shown.title) in GOOD_WITH_OTHER_REMARKS, (shown.title, errors)


# --- 7. no placeholders or fragments -------------------------------------------------------

def test_the_same_cell_is_named_by_its_lines_not_as_another_cell():
    from nbreview.mentor import Place

    here = Place(11, 9, "", None, line=3)
    assert same_in([Place(11, 9, "", None, line=9)], "ru", here=here) == "То же самое — в строке 9 этой же ячейки."
    assert same_in([Place(11, 9, "", None, line=9), Place(13, 10, "", None)], "ru", here=here) == \
        "То же самое — в строке 9 этой же ячейки и в ячейке 14."
    assert same_in([Place(11, 9, "", None, line=9)], "en", here=here) == "The same on line 9 of the same cell."


def test_quoted_code_is_never_cut_in_the_middle_of_a_token():
    from nbreview.facts.naming import trim

    assert trim("tf.data.TFRecordDataset( filepaths, num_parallel_reads = len(filepaths))", 46) == \
        "tf.data.TFRecordDataset( filepaths, …)"
    assert trim("ImageDataGenerator(rescale=1./255, rotation_range=20, zoom_range=0.1)", 40) == \
        "ImageDataGenerator(rescale=1./255, …)"


@pytest.mark.parametrize("path", FIXTURES + DEVSET, ids=lambda p: p.name)
def test_reviews_have_no_placeholders_and_counts_agree(path):
    report = review_path(path)
    for lang in ("ru", "en"):
        rv = build_review(report, lang)
        texts = [rv.opening, rv.verdict, *rv.next_steps, *(t.text for t in rv.checklist)]
        for r in rv.remarks:
            texts += [r.message, r.also_text, r.autofix, *(q.message for q in r.quotes),
                      *(e.message for e in r.evidence)]
        texts += [n.message for n in rv.praise + rv.questions]
        for text in texts:
            prose = re.sub(r"`[^`]+`", "`code`", text)  # the student's own quoted code may hold braces
            assert not re.search(r"\{[a-z_]+\}|\[\[|\]\]|``|\bNone\b|`…`", prose), (path.name, text)
        assert sum(rv.counts.values()) == len(rv.remarks)
        assert [r.number for r in rv.remarks] == list(range(1, len(rv.remarks) + 1))
        assert all(r in rv.remarks for r in rv.top)
        for r in rv.remarks:
            assert not (r.also and r.also_text.startswith("То же самое — в ячейке")
                        and any(p.cell == r.place.cell for p in r.also))


# --- 8. Russian reviews speak Russian ------------------------------------------------------

TERMS = {"TTA", "Keras", "PyTorch", "nbreview", "fix", "fine-tuning", "transfer", "learning", "rate",
         "ModelCheckpoint", "EfficientNet", "save_best_only", "True", "In", "albumentations", "ImageNet",
         "global", "pooling", "ReduceLROnPlateau", "LearningRateScheduler", "KeyboardInterrupt", "test-time",
         "augmentation", "Transfer", "Fine-tuning", "Test-time", "BatchNormalization", "Dense", "Dropout"}


def english_words(text: str) -> list[str]:
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"«[^»]*»", " ", text)
    words = re.findall(r"[A-Za-z][A-Za-z0-9_\-.]{3,}", text)
    # identifiers (snake_case, CamelCase, dotted, with digits) are names, not English prose
    return [w for w in words if w not in TERMS and not re.search(r"[_.0-9]|[a-z][A-Z]|^[A-Z]{2}", w)]


@pytest.mark.parametrize("path", FIXTURES + DEVSET, ids=lambda p: p.name)
def test_what_the_review_itself_says_in_russian_is_russian(path):
    rv = build_review(review_path(path), "ru")
    own = [rv.opening, rv.verdict, *rv.next_steps, *(t.title + " " + t.text for t in rv.checklist)]
    own += [r.autofix + " " + r.also_text + " " + r.topic_title for r in rv.remarks]
    own += [e.message for e in rv.results]
    for text in own:
        assert not english_words(text), (path.name, text, english_words(text))
