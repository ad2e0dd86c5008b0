"""What a mentor does that a linter does not: a calibrated tone and a verdict with next steps, one
order of remarks, the student's own words quoted where a remark explains them, and the results
the saved outputs show."""
from __future__ import annotations

from pathlib import Path

import nbformat

from nbreview.engine import review_path
from nbreview.mentor import build_review
from nbreview.words import Sentence, explained_by, sentences

ROOT = Path(__file__).resolve().parent.parent

GOOD_WITH_ONE_SLIP = [
    "import numpy as np\nimport tensorflow as tf\nimport albumentations as A\n"
    "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
    "from tensorflow.keras.callbacks import ModelCheckpoint",
    "train_datagen = ImageDataGenerator(rotation_range=15, horizontal_flip=True, validation_split=0.2)\n"
    "val_datagen = ImageDataGenerator(validation_split=0.2)\n"
    "train_gen = train_datagen.flow_from_directory('train', subset='training')\n"
    "val_gen = val_datagen.flow_from_directory('train', subset='validation', shuffle=False)",
    "base = tf.keras.applications.EfficientNetB3(include_top=False, weights='imagenet', pooling='avg')\n"
    "model = tf.keras.Sequential([base, tf.keras.layers.Dense(10, activation='softmax')])\n"
    "base.trainable = False\n"
    "model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])\n"
    "checkpoint = ModelCheckpoint('best.h5', monitor='val_accuracy', mode='max')\n"
    "model.fit(train_gen, validation_data=val_gen, epochs=5, callbacks=[checkpoint])",
    "base.trainable = True\n"
    "model.compile(optimizer=tf.keras.optimizers.Adam(1e-5), loss='categorical_crossentropy', metrics=['accuracy'])\n"
    "model.fit(train_gen, validation_data=val_gen, epochs=5, callbacks=[checkpoint])",
]


def test_a_good_notebook_with_one_slip_opens_with_praise_not_with_serious_mistakes(notebook):
    rv = build_review(review_path(notebook(GOOD_WITH_ONE_SLIP)), "ru")
    assert [r.rule for r in rv.remarks] == ["checkpoint-save-best-only"]
    assert rv.opening.startswith("Хорошо получилось:")
    assert "серьёзные ошибки" not in rv.opening
    assert "Но в коде есть ошибка, из-за которой он делает не то, что вы задумали" in rv.opening
    assert rv.verdict.startswith("работа в целом хорошая")
    assert 1 <= len(rv.next_steps) <= 3 and "save_best_only=True" in rv.next_steps[0]
    assert "(замечание 1)" in rv.next_steps[0]


def test_many_errors_sound_serious_and_list_what_to_fix_first():
    rv = build_review(review_path(ROOT / "fixtures/review_keras_mistakes.ipynb"), "ru")
    assert "серьёзные ошибки" in rv.opening and "В первую очередь стоит исправить" in rv.opening
    assert rv.verdict and len(rv.next_steps) == 3


def test_one_order_by_consequence_grouped_by_topic_with_the_same_numbers_everywhere():
    rv = build_review(review_path(ROOT / "fixtures/review_keras_mistakes.ipynb"), "ru")
    numbers = [r.number for t in rv.topics for r in t.remarks]
    assert numbers == list(range(1, len(rv.remarks) + 1))
    topics = [r.topic for r in rv.remarks]
    assert all(topics.index(t) == i or topics[i - 1] == t for i, t in enumerate(topics))  # contiguous groups
    for r in rv.top:
        assert f"(замечание {r.number}, ячейка {r.place.number})" in rv.opening
    assert rv.remarks[0].rule == "checkpoint-save-best-only"  # the most costly first


def test_the_rule_reference_does_not_repeat_the_remark():
    rv = build_review(review_path(ROOT / "fixtures/review_keras_mistakes.ipynb"), "ru")
    for page in rv.rules:
        remark = next(r for r in rv.remarks if r.rule == page.slug)
        assert page.why not in (remark.message, remark.fix)
        assert not hasattr(page, "fix")


# --- the student's own words ---------------------------------------------------------------

TTA = ["import numpy as np\nfrom tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
       "test_gen = ImageDataGenerator(rescale=1./255).flow_from_directory('test', shuffle=False)",
       "preds = []\nfor i in range(5):\n    test_gen.reset()\n    preds.append(model.predict(test_gen))\n"
       "pred = np.mean(preds, axis=0)"]


def test_a_conclusion_in_markdown_is_quoted_in_the_remark_that_explains_it(notebook):
    path = notebook(TTA, markdown={1: "## TTA\nПопробовал TTA на 5 проходов. **TTA не дал прироста**, скор тот же."})
    rv = build_review(review_path(path), "ru")
    remark = next(r for r in rv.remarks if r.rule == "tta-no-augmentation")
    (q,) = remark.quotes
    assert q.text == "TTA не дал прироста, скор тот же"  # its full stop goes after the closing quote
    assert q.message.startswith("Вы сами написали об этом (ячейка 2): «TTA не дал прироста, скор тот же».")
    assert "все проходы TTA одинаковые" in q.message
    en = build_review(review_path(path), "en")
    assert next(r for r in en.remarks if r.rule == "tta-no-augmentation").quotes[0].message.startswith(
        "You wrote about this yourself")


def test_a_question_in_a_comment_is_quoted(notebook):
    path = notebook([
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
        "gen = ImageDataGenerator(rescale=1/255, rotation_range=20, validation_split=0.2)\n"
        "tr = gen.flow_from_directory('d', subset='training')\nva = gen.flow_from_directory('d', subset='validation')",
        "history = model.fit(tr, validation_data=va, epochs=10)  # почему val_accuracy скачет?"])
    rv = build_review(review_path(path), "ru")
    remark = next(r for r in rv.remarks if r.rule == "augmented-validation")
    assert [q.text for q in remark.quotes] == ["почему val_accuracy скачет?"]
    assert "Одна из причин" in remark.quotes[0].message


def test_markdown_code_and_commented_out_code_are_not_words():
    from nbreview.model import CellView

    cells = [CellView(0, "markdown", "Вывод:\n```python\n# TTA не дал прироста\nx = 1\n```\n    TTA тоже без прироста", None, None),
             CellView(1, "code", "# preds = model.predict(x)  # TTA\nx = 1  # TTA не помог", 1, None)]
    found = sentences(cells)
    texts = [s.text for s in found]
    assert texts == ["Вывод:", "TTA не помог"]
    assert explained_by({"about": [r"\bTTA\b"]}, found) == [Sentence(1, "TTA не помог", "comment", 2)]


def test_words_without_a_symptom_are_not_quoted(notebook):
    path = notebook(TTA, markdown={1: "## TTA\nДелаю TTA на 5 проходов."})
    remark = next(r for r in build_review(review_path(path), "ru").remarks if r.rule == "tta-no-augmentation")
    assert remark.quotes == []


# --- the results -----------------------------------------------------------------------------

def with_outputs(path: Path, outputs: dict[int, list]) -> Path:
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for i, outs in outputs.items():
        code[i].outputs = [nbformat.from_dict(o) for o in outs]
    nbformat.write(nb, str(path))
    return path


def stream(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_an_interrupted_run_is_reported(notebook):
    path = with_outputs(notebook(["model.fit(train_ds, validation_data=val_ds, epochs=30)"]), {0: [
        stream("Epoch 1/30\n10/10 - loss: 1.0 - accuracy: 0.5 - val_loss: 0.9 - val_accuracy: 0.6\nEpoch 2/30\n"),
        {"output_type": "error", "ename": "KeyboardInterrupt", "evalue": "", "traceback": []}]})
    rv = build_review(review_path(path), "ru")
    (note,) = rv.results
    assert "прервано вручную на эпохе 2 из 30" in note.message and note.place.label == "ячейка 1, In [1]"


def test_a_cell_that_failed_is_reported(notebook):
    path = with_outputs(notebook(["model.fit(x)"]), {0: [
        {"output_type": "error", "ename": "ValueError", "evalue": "Shapes (None, 10) and (None, 5) are incompatible",
         "traceback": []}]})
    (note,) = build_review(review_path(path), "ru").results
    assert "ошибка `ValueError`" in note.message
    assert note.place.lines[0].text == "ValueError: Shapes (None, 10) and (None, 5) are incompatible"


def test_a_learning_rate_that_never_changed_is_reported(notebook):
    log = "".join(f"Epoch {i}/4\n5/5 - loss: 0.5 - val_loss: 0.6 - val_accuracy: 0.7 - lr: 1.0000e-03\n"
                  for i in range(1, 5))
    path = with_outputs(notebook([
        "import tensorflow as tf\nsched = tf.keras.callbacks.LearningRateScheduler(lambda e: 1e-3)\n"
        "model.fit(train_ds, validation_data=val_ds, epochs=4, callbacks=[sched])"]), {0: [stream(log)]})
    (note,) = build_review(review_path(path), "ru").results
    assert "learning rate за всё обучение (4 эпохи) оставался 0.001" in note.message
    assert "LearningRateScheduler ни разу его не изменил" in note.message


def test_validation_accuracy_jumping_is_cited_for_augmented_validation(notebook):
    values = [0.61, 0.55, 0.68, 0.59, 0.71, 0.64]
    log = "".join(f"Epoch {i}/6\n5/5 - loss: 0.5 - accuracy: 0.8 - val_loss: 0.6 - val_accuracy: {v}\n"
                  for i, v in enumerate(values, 1))
    path = with_outputs(notebook([
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
        "gen = ImageDataGenerator(rotation_range=20, validation_split=0.2)\n"
        "tr = gen.flow_from_directory('d', subset='training')\nva = gen.flow_from_directory('d', subset='validation')",
        "model.fit(tr, validation_data=va, epochs=6)"]), {1: [stream(log)]})
    remark = next(r for r in build_review(review_path(path), "ru").remarks if r.rule == "augmented-validation")
    (ev,) = remark.evidence
    assert "то растёт, то падает: 0.61 → 0.55 → 0.68 → 0.59 → 0.71 → 0.64" in ev.message


def test_a_notebook_saved_without_outputs_is_said_so(notebook):
    rv = build_review(review_path(notebook(GOOD_WITH_ONE_SLIP)), "ru")
    assert "Ноутбук сохранён без выводов ячеек" in rv.opening
