"""What a reference run really trains: the recipe, scaled to the machine and the options.

The recipe says what the notebook does; the plan says what nbreview runs, and why each value
differs from the recipe (a CPU budget, an option, a backbone stand-in). Pure Python.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from .recipe import AugOp, Recipe

# A CPU verification must finish in minutes: these caps apply unless an option says otherwise.
CPU_IMAGE_SIZE = 64
CPU_EPOCHS = 8
CPU_MIN_BATCH = 32  # smaller batches run at half the images/s on a CPU
CPU_SYNTHETIC_IMAGES = 480
GPU_SYNTHETIC_IMAGES = 3000
MAX_TTA_PASSES_CPU = 8
EFFICIENTNET = re.compile(r"^EfficientNet(B[0-7]|V2(B[0-3]|S|M|L))$")


@dataclass
class Options:
    data: str = "synthetic"
    epochs: int | None = None
    image_size: int | None = None
    limit_images: int | None = None
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    rules: list[str] | None = None
    weights: str = "imagenet"  # imagenet | none | FILE
    backbone: str = "auto"  # auto | notebook | mini
    batch_size: int | None = None
    device: str = "auto"  # auto | cpu | gpu
    lang: str = "ru"


@dataclass
class Plan:
    device: str
    image_size: int
    epochs: int
    batch_size: int
    images: int | None  # limit of images read (None: all)
    backbone: str  # a keras.applications name or "nbreview-mini"
    stem: str  # "efficientnet" (0..255 rescaled inside) | "none"
    weights: str | None  # "imagenet" | "pretext" | a file | None
    trainable: bool
    scaling: str  # the notebook's scaling, as written
    correct_scaling: str  # what the backbone expects
    augmentation: list[AugOp]
    optimizer: str
    learning_rate: float
    val_fraction: float
    tta_passes: int
    mixed_precision: bool
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["augmentation"] = [a.text for a in self.augmentation]
        return d


def correct_scaling(backbone: str | None) -> str:
    """What keras.applications' own preprocess_input gives (for nbreview-mini stand-ins, the same)."""
    from .recipe import PREPROCESS_MODES

    if not backbone or backbone == "small-cnn":
        return "unit"
    b = backbone
    family = ("efficientnet" if b.startswith("EfficientNet") else
              "mobilenet_v3" if b.startswith("MobileNetV3") else
              "mobilenet_v2" if b == "MobileNetV2" else "mobilenet" if b == "MobileNet" else
              "resnet_v2" if re.match(r"ResNet\d+V2$", b) else "resnet_rs" if b.startswith("ResNetRS") else
              "resnet" if b.startswith("ResNet") else "vgg16" if b.startswith("VGG") else
              "densenet" if b.startswith("DenseNet") else "xception" if b == "Xception" else
              "inception_v3" if b == "InceptionV3" else "inception_resnet_v2" if b == "InceptionResNetV2" else
              "nasnet" if b.startswith("NASNet") else "convnext" if b.startswith("ConvNeXt") else
              "regnet" if b.startswith("RegNet") else "")
    return PREPROCESS_MODES.get(family, "unit")


def make(recipe: Recipe, opts: Options, device: str) -> Plan:
    notes: list[str] = []
    cpu = device == "cpu"
    nb_backbone = recipe.get("backbone")
    keras_app = nb_backbone not in (None, "small-cnn")
    inside = bool(recipe.get("preprocessing_inside", False))
    stem = "efficientnet" if inside else "none"

    size = recipe.get("input_size", 224)
    size = int(size[0]) if isinstance(size, (list, tuple)) else int(size)
    if opts.image_size:
        size = opts.image_size
    elif cpu and size > CPU_IMAGE_SIZE:
        notes.append(f"image size {size} -> {CPU_IMAGE_SIZE} (CPU budget; --image-size to change)")
        size = CPU_IMAGE_SIZE

    epochs = int(recipe.get("epochs", 1))
    if opts.epochs:
        epochs = opts.epochs
    elif cpu and epochs > CPU_EPOCHS:
        notes.append(f"epochs {epochs} -> {CPU_EPOCHS} (CPU budget; --epochs to change)")
        epochs = CPU_EPOCHS
    epochs = max(1, epochs)

    batch = int(opts.batch_size or recipe.get("batch_size", 32))
    lr = float(recipe.get("learning_rate", 1e-3))
    if cpu and not opts.batch_size and batch > 64:
        notes.append(f"batch size {batch} -> 64 (CPU budget)")
        batch = 64
    elif cpu and not opts.batch_size and batch < CPU_MIN_BATCH:
        # linear scaling rule: the same learning per image with fewer, larger steps
        lr_scaled = lr * CPU_MIN_BATCH / batch
        notes.append(f"batch size {batch} -> {CPU_MIN_BATCH} and learning rate {lr:g} -> {lr_scaled:g} "
                     f"(CPU budget: larger batches run faster; --batch-size to change)")
        batch, lr = CPU_MIN_BATCH, lr_scaled

    # the backbone: the notebook's own network, or the nbreview-mini stand-in with the same stem
    choice = opts.backbone
    if choice == "auto":
        choice = "mini" if cpu or not keras_app else "notebook"
    if choice == "notebook" and not keras_app:
        notes.append("the notebook's network is its own code (not a keras.applications model): "
                     "nbreview-mini stands in for it")
        choice = "mini"
    nb_weights = recipe.get("weights") if keras_app else None
    if choice == "notebook":
        backbone = str(nb_backbone)
        if opts.weights == "none":
            weights = None
        elif opts.weights == "imagenet":
            weights = "imagenet" if nb_weights == "imagenet" else None
        else:
            weights = opts.weights
    else:
        backbone = "nbreview-mini"
        if keras_app:
            notes.append(f"nbreview-mini stands in for {nb_backbone}" +
                         (" (same stem: Rescaling(1/255) + ImageNet Normalization inside the network)"
                          if inside else "") + ("" if not cpu else "; --backbone notebook to train the real one"))
        if opts.weights not in ("imagenet", "none"):
            notes.append(f"--weights {opts.weights} applies to the notebook's backbone only (--backbone notebook)")
        pretrained = nb_weights == "imagenet" and opts.weights != "none"
        weights = "pretext" if pretrained else None
        if pretrained:
            notes.append("ImageNet weights are not used for nbreview-mini: it is pretrained by nbreview on a synthetic "
                         "pretext task at the input scale its stem expects, so the runs fine-tune a pretrained "
                         "network, as the notebook does")

    scaling = str(recipe.get("preprocessing", "none"))
    correct = "none" if inside else correct_scaling(nb_backbone if keras_app else None)
    trainable = bool(recipe.get("backbone_trainable", True))
    if weights is None and not trainable:
        notes.append("the notebook freezes a pretrained backbone; trained from scratch here, it is left trainable")
        trainable = True

    val_fraction = float(recipe.get("validation_split", 0.2))
    if not 0.05 <= val_fraction <= 0.5:
        notes.append(f"validation fraction {val_fraction} -> 0.2")
        val_fraction = 0.2

    tta = recipe.get("tta") or {}
    passes = int(tta.get("passes", 10)) if tta else 10
    if cpu and passes > MAX_TTA_PASSES_CPU:
        notes.append(f"TTA passes {passes} -> {MAX_TTA_PASSES_CPU} (CPU budget)")
        passes = MAX_TTA_PASSES_CPU

    images = opts.limit_images
    if images is None and opts.data == "synthetic":
        images = CPU_SYNTHETIC_IMAGES if cpu else GPU_SYNTHETIC_IMAGES

    return Plan(device=device, image_size=size, epochs=epochs, batch_size=batch, images=images,
                backbone=backbone, stem=stem, weights=weights, trainable=trainable, scaling=scaling,
                correct_scaling=correct, augmentation=list(recipe.get("augmentation", []) or []),
                optimizer=str(recipe.get("optimizer", "Adam")), learning_rate=lr, val_fraction=val_fraction,
                tta_passes=max(2, passes), mixed_precision=not cpu, notes=notes)
