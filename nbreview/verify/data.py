"""The images a reference run trains on, decoded once into a uint8 array at the target size.

Sources: `synthetic` (class-separable images generated with numpy, so effects show in a
few epochs), a folder with one sub-folder per class, or a CSV with a path column and a
label column. Decoded arrays are cached on disk (keyed by the files, their sizes and
modification times, the target size and the limit), so a cohort of notebooks verified on
the same data decodes it once.
"""
from __future__ import annotations

import csv
import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
SYNTHETIC_CLASSES = 4
PATH_COLUMNS = ("path", "filepath", "file", "filename", "image", "img", "id", "image_id", "fname")
LABEL_COLUMNS = ("label", "class", "category", "target", "y", "labels", "class_name")


class DataError(Exception):
    """The data given with --data cannot be used (the message says why)."""


@dataclass
class Images:
    x: np.ndarray  # (N, S, S, 3) uint8
    y: np.ndarray  # (N,) int32
    classes: list[str]
    source: str  # synthetic | folder | csv
    path: str | None = None
    decode_s: float = 0.0
    from_cache: bool = False
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict:
        counts = np.bincount(self.y, minlength=len(self.classes)).tolist()
        return {"source": self.source, "path": self.path, "images": int(len(self.y)),
                "classes": list(self.classes), "per_class": counts, "image_size": int(self.x.shape[1]),
                "decode_s": round(self.decode_s, 2), "from_cache": self.from_cache, "notes": list(self.notes)}


def cache_dir() -> Path:
    base = os.environ.get("NBREVIEW_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "nbreview")
    return Path(base) / "verify"


def load(spec: str, image_size: int, limit: int | None = None, seed: int = 0) -> Images:
    """`spec`: "synthetic", a folder (one sub-folder per class) or a CSV file."""
    if spec == "synthetic":
        t = time.perf_counter()
        x, y = synthetic(limit or 600, image_size, SYNTHETIC_CLASSES, seed=seed + 1000)
        return Images(x, y, [f"class_{i}" for i in range(SYNTHETIC_CLASSES)], "synthetic", None,
                      time.perf_counter() - t)
    path = Path(spec)
    if path.is_dir():
        files, labels, classes = _folder_files(path)
        kind = "folder"
    elif path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".txt"):
        files, labels, classes = _csv_files(path)
        kind = "csv"
    else:
        raise DataError(f"--data {spec!r}: not 'synthetic', a folder with one sub-folder per class, or a CSV file")
    if len(classes) < 2:
        raise DataError(f"--data {spec}: found {len(classes)} class(es); at least 2 are needed")
    if limit is not None and limit < len(files):
        files, labels = _stratified_subset(files, labels, limit, seed)
    return _decode_cached(files, labels, classes, image_size, kind, str(path))


# --- synthetic ------------------------------------------------------------------------

def synthetic(n: int, size: int, classes: int = SYNTHETIC_CLASSES, seed: int = 0, noise: float = 12.0,
              task: str = "texture") -> tuple[np.ndarray, np.ndarray]:
    """Class-separable images generated with numpy, on a random background with pixel noise.

    task "texture" (the data of a verification): the class is the kind of pattern in a soft patch —
    stripes, a grid, concentric rings, dots — at a random orientation, frequency, colour, position and
    size; flips, rotations, shifts and zooms keep the class, so any augmentation a notebook uses is
    label-preserving. task "texture-frequency" (the pretext task nbreview-mini is pretrained on, 8
    classes): the kind of pattern and whether it is coarse or fine. task "orientation": stripes whose
    orientation (180/classes degrees apart) is the class."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    x = np.empty((n, size, size, 3), np.uint8)
    y = (np.arange(n) % classes).astype(np.int32)
    rng.shuffle(y)
    for i in range(n):
        base = rng.uniform(40, 215, 3).astype(np.float32)
        cx, cy = rng.uniform(0.3, 0.7, 2)
        r = rng.uniform(0.22, 0.4)
        mask = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
        freq = rng.uniform(3.0, 6.0)
        if task == "texture-frequency":  # the pretext: 4 kinds x 2 frequency bands
            freq = rng.uniform(2.5, 4.0) if y[i] // 4 == 0 else rng.uniform(5.0, 7.0)
        phase = rng.uniform(0, 2 * np.pi)
        if task == "orientation":
            theta = np.pi * y[i] / classes + rng.normal(0, 0.08)
        else:
            theta = rng.uniform(0, np.pi)
        u = np.cos(theta) * (xx - cx) + np.sin(theta) * (yy - cy)
        v = -np.sin(theta) * (xx - cx) + np.cos(theta) * (yy - cy)
        k = y[i] % 4 if task != "orientation" else 0
        if k == 0:  # stripes
            pattern = np.sin(2 * np.pi * freq * u + phase)
        elif k == 1:  # grid
            pattern = np.sin(2 * np.pi * freq * u + phase) * np.sin(2 * np.pi * freq * v + phase) * 1.6
        elif k == 2:  # concentric rings
            pattern = np.sin(2 * np.pi * freq * np.sqrt(u * u + v * v) * 1.4 + phase)
        else:  # dots
            pattern = np.zeros_like(xx)
            for _ in range(rng.integers(5, 9)):
                dx, dy = rng.normal(0, r * 0.7, 2)
                pattern += np.exp(-((xx - cx - dx) ** 2 + (yy - cy - dy) ** 2) / (2 * (0.035 ** 2))) * 1.6
        amp = rng.uniform(50, 100) * rng.choice([-1.0, 1.0], 3) * rng.uniform(0.4, 1.0, 3)
        img = base + (pattern * mask)[..., None] * amp + rng.normal(0, noise, (size, size, 3))
        x[i] = np.clip(img, 0, 255).astype(np.uint8)
    return x, y


# --- files ----------------------------------------------------------------------------

def _folder_files(root: Path) -> tuple[list[str], list[int], list[str]]:
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    files: list[str] = []
    labels: list[int] = []
    for i, c in enumerate(classes):
        for dirpath, _dirs, names in os.walk(root / c):
            for name in sorted(names):
                if name.lower().endswith(IMAGE_EXTENSIONS):
                    files.append(os.path.join(dirpath, name))
                    labels.append(i)
    if not files:
        raise DataError(f"--data {root}: no images ({', '.join(IMAGE_EXTENSIONS)}) in class sub-folders")
    return files, labels, classes


def _csv_files(path: Path) -> tuple[list[str], list[int], list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = list(csv.DictReader(fh, dialect=dialect))
    if not rows:
        raise DataError(f"--data {path}: the CSV has no rows")
    cols = {c.lower().strip(): c for c in rows[0].keys() if c}
    pcol = next((cols[c] for c in PATH_COLUMNS if c in cols), None)
    lcol = next((cols[c] for c in LABEL_COLUMNS if c in cols), None)
    names = list(rows[0].keys())
    if pcol is None and len(names) >= 2:
        pcol = names[0]
    if lcol is None and len(names) >= 2:
        lcol = next(n for n in names if n != pcol)
    if pcol is None or lcol is None:
        raise DataError(f"--data {path}: need a path column ({'/'.join(PATH_COLUMNS[:4])}) and a label column "
                        f"({'/'.join(LABEL_COLUMNS[:4])})")
    base = path.parent
    found: list[tuple[str, str]] = []
    missing = 0
    for row in rows:
        p, label = (row.get(pcol) or "").strip(), (row.get(lcol) or "").strip()
        if not p or not label:
            continue
        full = Path(p) if os.path.isabs(p) else base / p
        if not full.exists():
            # Kaggle style: ids without a folder or an extension, images beside the CSV in train/<label>/
            cands = [base / label / p, base / "train" / p, base / "train" / label / p]
            full = next((c for c in cands if c.exists()), full)
        if full.exists():
            found.append((str(full), label))
        else:
            missing += 1
    if not found:
        raise DataError(f"--data {path}: none of the {len(rows)} paths in column {pcol!r} exists "
                        f"(relative paths are read from {base})")
    classes = sorted({label for _p, label in found}, key=_natural)
    index = {c: i for i, c in enumerate(classes)}
    files = [p for p, _l in found]
    labels = [index[label] for _p, label in found]
    if missing:
        print(f"nbreview verify: {missing} of {len(rows)} images listed in {path} do not exist; skipped")
    return files, labels, classes


def _natural(s: str):
    return (0, int(s)) if s.isdigit() else (1, s)


def _stratified_subset(files: list[str], labels: list[int], limit: int, seed: int) -> tuple[list[str], list[int]]:
    rng = np.random.default_rng(seed)
    labels_a = np.asarray(labels)
    chosen: list[int] = []
    classes = np.unique(labels_a)
    per = max(1, limit // len(classes))
    for c in classes:
        idx = np.flatnonzero(labels_a == c)
        rng.shuffle(idx)
        chosen.extend(idx[:per].tolist())
    rest = np.setdiff1d(np.arange(len(files)), chosen)
    rng.shuffle(rest)
    chosen.extend(rest[: max(0, limit - len(chosen))].tolist())
    chosen = sorted(chosen[:limit])
    return [files[i] for i in chosen], [labels[i] for i in chosen]


def _cache_key(files: list[str], labels: list[int], size: int) -> str:
    h = hashlib.sha256(f"v1|{size}".encode())
    for f, label in zip(files, labels):
        st = os.stat(f)
        h.update(f"{f}|{st.st_size}|{int(st.st_mtime)}|{label}\n".encode())
    return h.hexdigest()[:24]


def _decode_cached(files: list[str], labels: list[int], classes: list[str], size: int, kind: str,
                   path: str) -> Images:
    t = time.perf_counter()
    key = _cache_key(files, labels, size)
    cfile = cache_dir() / "images" / f"{key}.npz"
    if cfile.exists():
        try:
            with np.load(cfile) as z:
                return Images(z["x"], z["y"], classes, kind, path, time.perf_counter() - t, True)
        except Exception:  # noqa: BLE001 - a broken cache file is decoded again
            pass
    x = decode(files, size)
    y = np.asarray(labels, np.int32)
    try:
        cfile.parent.mkdir(parents=True, exist_ok=True)
        tmp = cfile.with_suffix(".tmp.npz")
        np.savez(tmp, x=x, y=y)
        os.replace(tmp, cfile)
    except OSError:
        pass
    return Images(x, y, classes, kind, path, time.perf_counter() - t, False)


def decode(files: list[str], size: int) -> np.ndarray:
    """Decode and resize every file once, in parallel (tf.data), into (N, size, size, 3) uint8."""
    import tensorflow as tf

    def one(p):
        img = tf.io.decode_image(tf.io.read_file(p), channels=3, expand_animations=False)
        img = tf.image.resize(img, (size, size), antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)

    ds = tf.data.Dataset.from_tensor_slices(files).map(one, num_parallel_calls=tf.data.AUTOTUNE).batch(256)
    out = np.empty((len(files), size, size, 3), np.uint8)
    i = 0
    try:
        for batch in ds:
            b = batch.numpy()
            out[i:i + len(b)] = b
            i += len(b)
    except tf.errors.InvalidArgumentError as exc:
        raise DataError(f"an image could not be decoded: {str(exc).splitlines()[0]}") from None
    return out


def split(y: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A stratified train/validation split, the same for every variant of a seed."""
    rng = np.random.default_rng(seed)
    train: list[int] = []
    val: list[int] = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        k = max(1, int(round(len(idx) * val_fraction))) if len(idx) > 1 else 0
        val.extend(idx[:k].tolist())
        train.extend(idx[k:].tolist())
    return np.asarray(sorted(train)), np.asarray(sorted(val))
