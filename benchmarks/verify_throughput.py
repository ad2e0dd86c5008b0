"""Throughput of nbreview verify's training pipeline: images/s of the input pipeline alone and of
training (uint8 images decoded once, augmentation and scaling on the device, prefetch, mixed
precision on a GPU), and peak GPU memory. Runs on a GPU when there is one, else on the CPU.

    python benchmarks/verify_throughput.py --backbone EfficientNetB0 --image-size 224 --batch 64
    python benchmarks/verify_throughput.py --json out.json       # every number as JSON too

Not a test: it always exits 0 unless its own arguments are wrong.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backbone", default="EfficientNetB0", help="a keras.applications name, or nbreview-mini")
    ap.add_argument("--image-size", type=int, default=None, help="default: 224 on a GPU, 64 on a CPU")
    ap.add_argument("--batch", type=int, default=None, help="default: 64 on a GPU, 32 on a CPU")
    ap.add_argument("--images", type=int, default=None, help="synthetic images (default: 4096 GPU, 512 CPU)")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs (after one warm-up epoch)")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "gpu"))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from nbreview.verify.device import setup_device

    device = setup_device(args.device)
    import keras
    import numpy as np

    from nbreview.verify import models, train
    from nbreview.verify.data import synthetic
    from nbreview.verify.recipe import AugOp

    gpu = device == "gpu"
    size = args.image_size or (224 if gpu else 64)
    batch = args.batch or (64 if gpu else 32)
    n = args.images or (4096 if gpu else 512)
    train.configure(device, mixed_precision=gpu)

    t = time.perf_counter()
    x, y = synthetic(n, size, 4, seed=0)
    gen_s = time.perf_counter() - t

    ds = train.dataset(x, y, batch, shuffle_seed=0)
    t = time.perf_counter()
    seen = 0
    for _ in range(2):
        for xb, _yb in ds:
            seen += int(xb.shape[0])
    pipeline_ips = seen / (time.perf_counter() - t)

    keras.utils.set_random_seed(0)
    aug, _ = models.augmenter([AugOp("flip", {"mode": "horizontal"}, "flip"),
                               AugOp("rotation", {"degrees": 20.0}, "rotation"),
                               AugOp("translation", {"height": 0.1, "width": 0.1}, "shift")], size, 0)
    backbone = models.mini_backbone(size, "efficientnet") if args.backbone == models.MINI else \
        models.application(args.backbone, size, None)
    bundle = models.build(backbone, size, 4, "none", aug)
    train.compile_model(bundle.train, keras.optimizers.Adam(1e-3))
    t = time.perf_counter()
    bundle.train.fit(ds, epochs=1, verbose=0, shuffle=False)
    warmup_s = time.perf_counter() - t
    t = time.perf_counter()
    bundle.train.fit(ds, epochs=args.epochs, verbose=0, shuffle=False)
    train_s = time.perf_counter() - t
    train_ips = n * args.epochs / train_s
    t = time.perf_counter()
    bundle.clean.predict(x, batch_size=batch * 2, verbose=0)
    predict_ips = n / (time.perf_counter() - t)

    peak_mb = None
    if gpu:
        try:
            import tensorflow as tf

            peak_mb = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2 ** 20
        except Exception:  # noqa: BLE001
            peak_mb = None
    out = {
        "device": device if not gpu else f"gpu ({train.gpu_name()})", "cpu_cores": os.cpu_count(),
        "versions": train.versions(), "backbone": args.backbone, "image_size": size, "batch": batch,
        "images": n, "mixed_precision": gpu, "synthetic_generation_s": round(gen_s, 2),
        "input_pipeline_images_per_s": round(pipeline_ips), "warmup_epoch_s": round(warmup_s, 2),
        "train_images_per_s": round(train_ips, 1), "predict_images_per_s": round(predict_ips, 1),
        "gpu_peak_memory_mb": round(peak_mb) if peak_mb is not None else None,
        "params": int(sum(np.prod(w.shape) for w in bundle.train.weights)),
    }
    for k, v in out.items():
        print(f"{k:>30}: {v}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
