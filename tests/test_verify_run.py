"""`nbreview verify` end to end on a CPU with tiny synthetic images (needs the verify extra:
scripts/test.sh installs tensorflow-cpu). Asserts the deterministic facts: identical TTA passes
(spread exactly 0), the range the stem reads, the checkpoint files against the history."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="the verify extra (tensorflow + keras) is not installed")

from nbreview.verify import evidence as evd  # noqa: E402
from nbreview.verify import models  # noqa: E402
from nbreview.verify.console import PlainReporter  # noqa: E402
from nbreview.verify.plan import Options  # noqa: E402
from nbreview.verify.runner import Job, verify_notebook  # noqa: E402

from .conftest import FIXTURES, ROOT, make_notebook  # noqa: E402

EXAMPLE = FIXTURES / "example_student.ipynb"
TINY = dict(epochs=2, image_size=32, limit_images=120, seeds=[0, 1])


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NBREVIEW_CACHE", str(tmp_path_factory.getbasetemp() / "nbreview-cache"))
    monkeypatch.setattr(models, "PRETEXT_BUDGET", (160, 1, 32))  # a tiny pretext task: seconds, not a minute


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """One verification of the example notebook (all five experiments, two seeds), shared by the tests."""
    os.environ["NBREVIEW_CACHE"] = str(tmp_path_factory.getbasetemp() / "nbreview-cache")
    old = models.PRETEXT_BUDGET
    models.PRETEXT_BUDGET = (160, 1, 32)
    try:
        out = tmp_path_factory.mktemp("verify") / "example.verify.json"
        status = verify_notebook(Job(EXAMPLE, out), Options(**TINY), PlainReporter(quiet=True))
    finally:
        models.PRETEXT_BUDGET = old
    assert status == "complete"
    return out, json.loads(out.read_text(encoding="utf-8"))


def test_evidence_document(example_run):
    _path, doc = example_run
    assert doc["evidence_version"] == 1 and doc["status"] == "complete"
    assert doc["notebook"]["sha256"] == evd.sha256_of(EXAMPLE)
    assert doc["environment"]["backend"] == "tensorflow" and doc["environment"]["device"] == "cpu"
    assert doc["environment"]["keras"].startswith("3.")
    assert doc["data"]["source"] == "synthetic" and doc["data"]["images"] == 120
    assert doc["recipe"]["fields"]["backbone"]["value"] == "EfficientNetB3"
    assert doc["plan"]["image_size"] == 32 and doc["plan"]["epochs"] == 2 and doc["plan"]["weights"] == "pretext"
    exps = doc["experiments"]
    assert set(exps) == {"rescale-efficientnet", "augmented-validation", "checkpoint-save-best-only",
                         "tta-no-augmentation", "deprecated-generator-api"}
    for slug, e in exps.items():
        assert e["status"] == "done", (slug, e.get("reason"))
        assert e["summary"]["ru"] and e["summary"]["en"]
        if e["kind"] == "training":
            assert e["seeds_done"] == [0, 1] and len(e["per_seed"]) == 2
    m = exps["rescale-efficientnet"]["metrics"]["val_accuracy_final"]
    assert len(m["as_written"]["values"]) == 2 and m["as_written"]["std"] is not None


def test_identical_tta_passes_have_spread_exactly_zero(example_run):
    _path, doc = example_run
    e = doc["experiments"]["tta-no-augmentation"]
    for r in e["per_seed"]:
        assert r["as_written"]["max_abs_difference"] == 0.0
        assert r["as_written"]["tta"] == r["as_written"]["single"]
        assert r["fixed"]["spread"] > 0  # real augmentation: the passes differ
    assert e["facts"]["identical_passes"] is True


def test_stem_input_range(example_run):
    _path, doc = example_run
    stem = doc["experiments"]["rescale-efficientnet"]["facts"]["stem_input"]
    mean, std = np.array(models.IMAGENET_MEAN), np.sqrt(models.IMAGENET_VAR)
    lo, hi = float(np.min(-mean / std)), float(np.max((1 / 255 - mean) / std))
    w, f = stem["as_written"], stem["fixed"]
    assert lo - 1e-4 <= w["min"] and w["max"] <= hi + 1e-4  # /255 twice: everything in a sliver near -2
    assert f["max"] > 2.0 and f["min"] < -1.5
    assert f["signal"] / w["signal"] == pytest.approx(255, rel=0.01)


def test_stem_of_the_real_efficientnet():
    from nbreview.verify.experiments.rescale_efficientnet import stem_range

    bundle = models.build(models.application("EfficientNetB0", 32, None), 32, 3, "unit", None)
    x = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3)).astype("uint8")
    w, f = stem_range(bundle, "unit", x), stem_range(bundle, "none", x)
    assert w["min"] >= 0 and w["max"] <= 1 / 255 + 1e-7
    assert f["max"] == pytest.approx(x.max() / 255) and f["min"] == pytest.approx(x.min() / 255)


def test_checkpoint_files_against_the_history(example_run):
    _path, doc = example_run
    e = doc["experiments"]["checkpoint-save-best-only"]
    for r in e["per_seed"]:
        clean = r["clean"]
        assert r["monitor"] == "val_accuracy" and r["monitor_series"] == pytest.approx(clean)
        # as written (save_best_only=False): the file holds the last epoch
        assert r["as_written"]["epoch"] == len(clean)
        assert r["as_written"]["accuracy"] == pytest.approx(clean[-1], abs=1e-9)
        # fixed: the first epoch with the best monitored value
        best = int(np.argmax(clean))
        assert r["fixed"]["epoch"] == best + 1
        assert r["fixed"]["accuracy"] == pytest.approx(clean[best], abs=1e-9)
        assert r["fixed"]["accuracy"] >= r["as_written"]["accuracy"]


def test_augmented_validation_same_weights(example_run):
    _path, doc = example_run
    e = doc["experiments"]["augmented-validation"]
    ck = doc["experiments"]["checkpoint-save-best-only"]
    for r, c in zip(e["per_seed"], ck["per_seed"]):
        assert r["clean"] == c["clean"]  # one reference training per seed, read by both experiments
        assert len(r["passes"]) == len(r["clean"]) and all(len(p) == 3 for p in r["passes"])
    assert e["metrics"]["best_epoch_changed"]["of"] == 2


def test_deprecated_calls_reproduced(example_run):
    _path, doc = example_run
    calls = {c["name"]: c for c in doc["experiments"]["deprecated-generator-api"]["facts"]["calls"]}
    assert calls["fit_generator"]["fails"] and "AttributeError" in calls["fit_generator"]["outcome"]
    assert calls["lr"]["fails"] and "lr" in calls["lr"]["outcome"]
    assert calls["lr"]["reproduction"] == "keras.optimizers.Adam(lr=1e-4)"
    # the fixed variant is the call as nbreview fix writes it, and it works
    assert calls["lr"]["fixed_reproduction"] == "keras.optimizers.Adam(learning_rate=1e-4)"
    assert not calls["lr"]["fixed_fails"] and not calls["fit_generator"]["fixed_fails"]


def test_fixed_variants_come_from_nbreview_fix(example_run):
    _path, doc = example_run
    fixed_rules = {a["rule"] for a in doc["fix"]["applied"]}
    assert {"rescale-efficientnet", "augmented-validation", "checkpoint-save-best-only",
            "tta-no-augmentation", "deprecated-generator-api"} <= fixed_rules
    changes = doc["fix"]["recipe_changes"]
    assert changes["preprocessing"] == {"as_written": "unit", "fixed": "none"}
    assert changes["validation_augmented"] == {"as_written": "True", "fixed": "False"}
    assert all(e["fixed_variant"] == "nbreview fix" for e in doc["experiments"].values())
    assert doc["plan"]["correct_scaling"] == "none"


def test_rendered_review_cites_the_run(example_run):
    path, _doc = example_run
    r = subprocess.run([sys.executable, "-m", "nbreview", "check", str(EXAMPLE), "--evidence", str(path),
                        "--format", "html"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1, r.stderr
    assert r.stdout.count('<div class="evidence training">') == 4
    assert "Проверено обучением на синтетических данных (2 запуска с разными сидами" in r.stdout
    assert "Проверено на установленной Keras" in r.stdout and "AttributeError" in r.stdout


def test_static_experiments(tmp_path):
    nb = make_notebook([
        "import keras\nfrom keras import layers\n",
        "model = keras.Sequential([keras.Input((8, 8, 3)), layers.Conv2D(4, 3), layers.GlobalAveragePooling2D(),\n"
        "    layers.Dense(3, activation='softmax')])\n"
        "sched = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=100, decay_rate=0.5)\n"
        "model.compile(optimizer=keras.optimizers.SGD(learning_rate=sched), loss='sparse_categorical_crossentropy',\n"
        "              metrics=['accuracy'])\n"
        "cb = [keras.callbacks.ModelCheckpoint('m.keras', monitor='val_acc', save_best_only=True)]\n"
        "model.fit(x, y, validation_data=(xv, yv), epochs=4, batch_size=10, callbacks=cb)\n",
    ], tmp_path / "static.ipynb")
    out = tmp_path / "static.verify.json"
    opts = Options(limit_images=60, seeds=[0], rules=["checkpoint-monitor-invalid", "slow-lr-decay"])
    assert verify_notebook(Job(nb, out), opts, PlainReporter(quiet=True)) == "complete"
    exps = json.loads(out.read_text(encoding="utf-8"))["experiments"]
    mon = exps["checkpoint-monitor-invalid"]
    assert mon["status"] == "done"
    assert "val_accuracy" in mon["facts"]["logged_keys"] and "val_acc" not in mon["facts"]["logged_keys"]
    assert mon["facts"]["checks"] == [{"callback": "ModelCheckpoint", "monitor": "val_acc", "logged": False}]
    lr = exps["slow-lr-decay"]["facts"]
    assert lr["steps_per_epoch"] == 5 and lr["train_images"] == 48  # 60 images, 20% validation, batch 10
    assert lr["lr"] == pytest.approx([0.01 * 0.5 ** (e * 5 / 100) for e in range(5)], rel=1e-5)


def test_ctrl_c_leaves_a_valid_partial_file(tmp_path, monkeypatch):
    from nbreview.verify.experiments import load_all

    exp = load_all()["tta-no-augmentation"]
    real = type(exp).measure

    def interrupted(self, ctx, seed):
        if seed == 1:
            raise KeyboardInterrupt
        return real(self, ctx, seed)

    monkeypatch.setattr(type(exp), "measure", interrupted)
    out = tmp_path / "partial.verify.json"
    opts = Options(epochs=1, image_size=32, limit_images=80, seeds=[0, 1, 2], rules=["tta-no-augmentation"],
                   weights="none")
    assert verify_notebook(Job(EXAMPLE, out), opts, PlainReporter(quiet=True)) == "interrupted"
    doc = evd.load(out)
    assert doc["status"] == "interrupted" and doc["finished"]
    e = doc["experiments"]["tta-no-augmentation"]
    assert e["status"] == "partial" and e["seeds_done"] == [0] and e["summary"]["ru"]
    r = subprocess.run([sys.executable, "-m", "nbreview", "check", str(EXAMPLE), "--evidence", str(out),
                        "--no-color"], capture_output=True, text=True, cwd=ROOT)
    assert "Проверка была прервана: измерено 1 из 3." in " ".join(r.stdout.split())


def test_paired_variants_start_from_the_same_weights():
    from nbreview.verify import train
    from nbreview.verify.plan import make
    from nbreview.verify.recipe import read
    from nbreview.verify.data import load
    from nbreview.verify.experiments import Context

    recipe = read(EXAMPLE)
    plan = make(recipe, Options(image_size=32, weights="none"), "cpu")
    ctx = Context(recipe, plan, load("synthetic", 32, 40), PlainReporter(quiet=True))
    weights = []
    for scaling in ("unit", "none"):
        train.seed_all(3)
        weights.append(ctx.bundle(scaling, seed=3).core.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(*weights))


def test_cli_folder_with_jobs(tmp_path):
    folder = tmp_path / "cohort"
    folder.mkdir()
    for name in ("a.ipynb", "b.ipynb"):
        shutil.copy(EXAMPLE, folder / name)
    env = dict(os.environ, NBREVIEW_CACHE=str(tmp_path / "cache"))
    r = subprocess.run([sys.executable, "-m", "nbreview", "verify", str(folder), "--rules", "deprecated-generator-api",
                        "--jobs", "2", "--output", str(tmp_path / "ev"), "--no-progress"],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    for name in ("a", "b"):
        doc = evd.load(tmp_path / "ev" / f"{name}.verify.json")
        assert doc["status"] == "complete" and doc["experiments"]["deprecated-generator-api"]["status"] == "done"
    check = subprocess.run([sys.executable, "-m", "nbreview", "check", str(folder), "--evidence", str(tmp_path / "ev"),
                            "--format", "json"], capture_output=True, text=True, cwd=ROOT)
    docs = json.loads(check.stdout)["notebooks"]
    assert all(any("verification" in f for f in nb["findings"]) for nb in docs)


def test_cli_usage_errors(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "nbreview", "verify", *args], capture_output=True, text=True,
                              cwd=ROOT)

    assert "no experiment for nope" in run(str(EXAMPLE), "--rules", "nope").stderr
    assert run(str(EXAMPLE), "--device", "tpu").returncode == 2
    bad = run(str(EXAMPLE), "--data", str(tmp_path / "none"))
    assert bad.returncode == 2 and "no such folder" in bad.stderr
    listed = run("--list")
    assert listed.returncode == 0 and "rescale-efficientnet" in listed.stdout


def test_folder_and_csv_data(tmp_path):
    import tensorflow as tf

    from nbreview.verify.data import DataError, load, split

    root = tmp_path / "train"
    rng = np.random.default_rng(0)
    rows = ["path,label"]
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True)
        for i in range(6):
            img = rng.integers(0, 256, (20, 30, 3)).astype("uint8")
            p = root / c / f"{i}.png"
            tf.io.write_file(str(p), tf.image.encode_png(img))
            rows.append(f"train/{c}/{i}.png,{c}")
    (tmp_path / "train.csv").write_text("\n".join(rows), encoding="utf-8")
    a = load(str(root), 16)
    assert a.x.shape == (12, 16, 16, 3) and a.x.dtype == np.uint8 and a.classes == ["cat", "dog"]
    assert not a.from_cache and load(str(root), 16).from_cache  # decoded once, then read from the cache
    b = load(str(tmp_path / "train.csv"), 16, limit=8)
    assert len(b.y) == 8 and sorted(np.bincount(b.y).tolist()) == [4, 4]
    tr, va = split(a.y, 0.25, seed=1)
    assert len(va) == 4 and set(a.y[va]) == {0, 1} and not set(tr) & set(va)
    with pytest.raises(DataError):
        load(str(tmp_path / "train.csv").replace("train.csv", "nothing.txt"), 16)
