"""preprocess-mismatch: a pretrained backbone gets inputs scaled differently from what its
weights were trained with: `/255` or raw pixels instead of its own `preprocess_input` (or
another family's), the legacy `efficientnet` package or an EfficientNetV2 with
`include_preprocessing=False` fed `/255` alone, a ConvNeXt-style model (rescales inside) fed
`/255`; in PyTorch, an ImageNet-pretrained torchvision/timm model fed `Normalize` with other
statistics, or no `Normalize` at all."""
from __future__ import annotations

from ..facts import apis
from ..facts.models import is_pretrained
from ..facts.preprocessing import FAMILY_TEXT, Scaling, effective, expects
from ..facts.values import Const, Obj, ObjKind, Seq, Site
from .base import Context, Rule, register

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# timm model names whose pretrained weights use the ImageNet mean/std (others, e.g. `vit_*`,
# `inception_*`, `tf_efficientnetv2_*`, `xception`, use 0.5 / 0.5)
TIMM_IMAGENET = ("resnet", "resnext", "seresnext", "efficientnet_b", "tf_efficientnet_b", "efficientnetv2_",
                 "densenet", "convnext", "regnet", "mobilenetv2", "mobilenetv3", "wide_resnet", "resnest", "rexnet",
                 "mixnet", "mnasnet", "dpn", "nfnet")


@register
class PreprocessMismatch(Rule):
    slug = "preprocess-mismatch"

    def check(self, ctx: Context) -> None:
        self._keras(ctx)
        self._torch(ctx)

    def _keras(self, ctx: Context) -> None:
        facts = ctx.facts
        seen: set[int] = set()
        for fit, model in facts.models_trained(include_uncalled=True):
            for backbone in facts.backbones(model):
                if backbone.id in seen or not is_pretrained(backbone):
                    continue
                exp = expects(backbone)
                if exp is None:
                    continue
                inside = facts.model_scaling(model, backbone)
                pre = facts.preproc(fit.args.get("x"))
                eff = effective(pre.scaling, inside)
                if eff is None:
                    continue
                variant = _verdict(exp, eff, backbone)
                if variant is None:
                    continue
                seen.add(backbone.id)
                arch = (backbone.api or "").rsplit(".", 1)[-1]
                anchor = eff.site or (pre.source.site if pre.source is not None else fit.site)
                ctx.report(anchor, subject=backbone, variant=variant, params={
                    "arch": arch, "base": facts.name_of(backbone) or arch,
                    "scaling": eff.text or None, "data": facts.describe(fit.args.get("x")),
                    "source": facts.describe(eff.owner) if eff.owner is not None else None,
                    "expected": FAMILY_TEXT.get(exp), "module": _module(backbone),
                    "used": eff.module}, related=[backbone.site, fit.site])

    def _torch(self, ctx: Context) -> None:
        facts = ctx.facts
        for model in facts.created_matching(lambda a: a.startswith(("torchvision.models.", "timm.create_model")),
                                            include_uncalled=True):
            if model.kind is not ObjKind.CALL or not is_pretrained(model) or not _imagenet_stats(model):
                continue
            for data in _training_data(facts, model):
                transform = _transform_of(data)
                if transform is None:
                    continue
                norm = _normalisation(transform)
                if norm is None or norm == "imagenet":
                    continue
                if norm == "none":
                    site = transform.site
                    ctx.report(site, subject=model, variant="torch_none", params={
                        "model": facts.describe(model), "transform": facts.describe(transform)},
                        related=[model.site])
                else:
                    ctx.report(norm.site, subject=model, variant="torch_stats", params={
                        "model": facts.describe(model), "normalize": facts.quote(norm.site, 90)},
                        related=[model.site])
                break


def _verdict(exp: str, eff: Scaling, backbone: Obj) -> str | None:
    px = eff.pixels
    if exp in ("tf", "caffe", "torch"):
        if px == exp:
            return None
        if px == "unit":
            return "default"
        if px == "raw":
            return "raw"
        if px in ("tf", "caffe", "torch"):
            return "family"
        return None
    if exp == "none":
        efficientnet = apis.EFFICIENTNET_V1.match(backbone.api or "") or apis.EFFICIENTNET_V2.match(backbone.api or "")
        return "expects_raw" if px == "unit" and not efficientnet else None
    if exp == "v2_norm":
        return "v2_no_preprocessing" if px == "unit" else None
    if exp == "legacy":
        return "legacy" if px == "unit" else None
    return None


def _module(backbone: Obj) -> str:
    """Where the backbone's own preprocess_input lives, as the student would import it."""
    api = backbone.api or ""
    if apis.LEGACY_EFFICIENTNET.match(api):
        return "efficientnet.tfkeras"
    name = api.rsplit(".", 1)[-1]
    table = (("Xception", "xception"), ("InceptionResNetV2", "inception_resnet_v2"), ("InceptionV3", "inception_v3"),
             ("MobileNetV2", "mobilenet_v2"), ("MobileNetV3", "mobilenet_v3"), ("MobileNet", "mobilenet"),
             ("ResNet50V2", "resnet_v2"), ("ResNet101V2", "resnet_v2"), ("ResNet152V2", "resnet_v2"),
             ("ResNet50", "resnet50"), ("ResNet", "resnet"), ("VGG16", "vgg16"), ("VGG19", "vgg19"),
             ("DenseNet", "densenet"), ("NASNet", "nasnet"), ("EfficientNetV2", "efficientnet_v2"),
             ("EfficientNet", "efficientnet"), ("ConvNeXt", "convnext"), ("RegNet", "regnet"),
             ("ResNetRS", "resnet_rs"))
    for prefix, module in table:
        if name.startswith(prefix):
            return f"keras.applications.{module}"
    return "keras.applications"


def _imagenet_stats(model: Obj) -> bool:
    api = model.api or ""
    if api.startswith("torchvision.models."):
        return True
    name = model.args.get("model_name", model.args.get("#0"))
    return isinstance(name, Const) and isinstance(name.value, str) and name.value.split(".")[0].startswith(TIMM_IMAGENET)


def _training_data(facts, model: Obj) -> list[Obj]:
    """The loaders a training loop walks while it runs this model."""
    out: list[Obj] = []
    for rec in facts.model_calls(model):
        for loop in reversed(rec.site.loops):
            if loop not in facts.training_loops:
                continue
            over = _unwrap(loop.over)
            if isinstance(over, Obj) and over not in out:
                out.append(over)
                break
    return out


def _unwrap(v):
    from ..facts.interpreter import unwrap_iterable

    return unwrap_iterable(v)


def _transform_of(data: Obj, depth: int = 0):
    if depth > 6 or not isinstance(data, Obj) or data.kind is not ObjKind.CALL:
        return None
    api = data.api or ""
    if api in ("torch.utils.data.DataLoader", "torch.utils.data.Subset"):
        return _transform_of(data.arg("dataset"), depth + 1)
    if api.startswith("torchvision.datasets."):
        if data.attrs.get("transform"):
            return None  # re-assigned later: not followed here
        t = data.arg("transform", Const(None))
        return t if isinstance(t, Obj) else None
    return None


def _normalisation(t: Obj):
    """"imagenet", "none" (a complete pipeline without Normalize), the Normalize object with other
    statistics, or None (unknown)."""
    api = t.api or ""
    short = api.rsplit(".", 1)[-1]
    if t.kind is not ObjKind.CALL:
        return None
    if api.startswith(("torchvision.transforms.", "albumentations.")) and short == "Compose":
        items = t.args.get("transforms", t.args.get("#0"))
        if not isinstance(items, Seq) or not items.complete:
            return None
        found = None
        for item in items.items:
            if not isinstance(item, Obj) or item.kind is not ObjKind.CALL:
                return None
            sub = (item.api or "").rsplit(".", 1)[-1]
            if sub == "Normalize":
                found = _normalize_kind(item)
                if found is None:
                    return None
            elif not (item.api or "").startswith(("torchvision.transforms.", "albumentations.")):
                return None
            elif sub in ("Compose", "Lambda", "RandomApply", "OneOf"):
                return None
        return found or "none"
    return None


def _normalize_kind(n: Obj):
    api = n.api or ""
    mean = n.args.get("mean", n.args.get("#0"))
    std = n.args.get("std", n.args.get("#1"))
    if api.startswith("albumentations.") and mean is None and std is None:
        return "imagenet"  # A.Normalize() defaults to the ImageNet statistics
    m, s = _triple(mean), _triple(std)
    if m is None or s is None:
        return None
    for scale in (1.0, 255.0):
        if all(abs(a - b * scale) < 0.01 * scale for a, b in zip(m, IMAGENET_MEAN)) and \
                all(abs(a - b * scale) < 0.01 * scale for a, b in zip(s, IMAGENET_STD)):
            return "imagenet"
    return n


def _triple(v) -> tuple[float, float, float] | None:
    if isinstance(v, Const) and isinstance(v.value, (tuple, list)) and len(v.value) == 3 and all(
            isinstance(x, (int, float)) for x in v.value):
        return tuple(float(x) for x in v.value)  # type: ignore[return-value]
    if isinstance(v, Seq) and v.complete and len(v.items) == 3 and all(
            isinstance(i, Const) and isinstance(i.value, (int, float)) for i in v.items):
        return tuple(float(i.value) for i in v.items)  # type: ignore[union-attr,return-value]
    return None


__all__ = ["PreprocessMismatch", "Site"]
