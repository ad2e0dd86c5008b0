"""Orientation: does the task's data have a natural up and down, and which augmentations turn
images upside down (vertical flips) or on their side (transposes, 90-degree turns)?

The first question is answered from what the student says the data is, never from the code's
shape: the markdown, comments, string constants (paths, class names) and printed output of
the notebook. Photos of cars, animals, people or street scenes have a natural up/down;
satellite tiles, microscopy patches, skin lesions or textures do not. Words of both kinds, or
data the lists do not cover (X-rays, leaves, digits, food), leave the answer unknown, and a
rule that needs it stays silent.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import apis
from .values import Const, Func, Obj, ObjKind, Site, Value

if TYPE_CHECKING:
    from . import Facts

# what the student's words say the images are: (pattern, kind, what)
_UPRIGHT = [
    (r"\b(cars?|automobiles?|vehicles?|stanford[-_ ]?cars|sf-dl-car\w*|car[-_ ]classification)\b", "cars"),
    (r"(автомоб\w*|\bмашин(а|ы|у|е|ой|ам|ами|ах)?\b|\bавто\b|легков\w*)", "cars"),
    (r"\b(lada|priora|kia|hyundai|solaris|volkswagen|toyota|camry|renault|logan|skoda|octavia|chevrolet|"
     r"mercedes|nissan|mazda)\b", "cars"),
    (r"\b(dogs?|cats?|puppies|kittens?|animals?|horses?|breeds?|pets?|cifar-?10|wildlife)\b", "animals"),
    (r"(собак\w*|\bкош(ка|ки|ек|ке|ку)\b|\bкот(ы|ов|а|ик\w*)?\b|животн\w*|пород\w*)", "animals"),
    (r"\b(birds?|bird species)\b(?!'?s?[- ]eye)", "animals"),
    (r"(птиц\w*)", "animals"),
    (r"\b(people|persons?|faces?|pedestrians?|humans?|celebrit\w+|selfies?|emotions?)\b", "people"),
    (r"(\bлюд(и|ей|ям)\b|\bлиц(о|а)\b|человек\w*|эмоци\w*)", "people"),
    (r"\b(scenes?|buildings?|streets?|landscapes?|landmarks?|intel[-_ ]image\w*)\b", "scenes"),
    (r"(пейзаж\w*|здани\w*|улиц\w*|сцен(а|ы)\b)", "scenes"),
    (r"\b(fashion|clothes|clothing|traffic signs?|road signs?)\b", "objects"),
]
_FREE = [
    r"\b(satellite|aerial|overhead|top[- ]down|from above|bird'?s?[- ]eye|remote sensing|eurosat|sentinel-?2?|"
    r"landsat|drone|planet)\b",
    r"(спутник\w*|аэрофото\w*|\bсверху\b|с высоты|дрон\w*|ориентаци\w* не важн\w*)",
    r"\b(histopatholog\w*|histolog\w*|microscop\w*|patholog\w*|pcam|cell images|blood cells?|cytolog\w*|"
    r"biopsy|whole[- ]slide|wsi|lymph)\b",
    r"(микроскоп\w*|гистолог\w*|клет(ка|ки|ок)\b)",
    r"\b(skin|lesions?|dermoscop\w*|melanoma|isic|moles?|retina\w*|fundus)\b",
    r"\b(galax\w+|astronom\w*|textures?|fabric|surface defects?|rotation[- ]invariant|any orientation|"
    r"no natural orientation|orientation (does not|doesn't) matter)\b",
    r"\b(seedlings?|leaf|leaves|cassava|plants?|weeds?)\b",
    r"(лист(ья|ьев)|растени\w*|рассад\w*)",
    # data where a vertical flip changes the meaning or the orientation is unclear: not ours to judge
    r"\b(x-?rays?|xray|chest|mri|ct scans?|ultrasound|digits?|mnist|letters?|handwrit\w*|characters?|food|"
    r"dishes|plates?|documents?|receipts?|ocr)\b",
    r"(рентген\w*|цифр\w*|рукопис\w*|\bбукв\w*|\bеда\b|\bеды\b|блюд\w*)",
]
_SEPARATORS = re.compile(r"[_/\\]+")  # `cats_vs_dogs`, paths: words apart
_COURSE = re.compile(r"(\b15561\b|\b6675\b|test_upload)")  # the course's car data set (train / test sizes, folder)
_UPRIGHT_RE = [(re.compile(p, re.I), what) for p, what in _UPRIGHT]
_FREE_RE = [re.compile(p, re.I) for p in _FREE]

WHAT = {  # how messages name the data, per language
    "cars": ("автомобилей", "cars"),
    "animals": ("животных", "animals"),
    "people": ("людей", "people"),
    "scenes": ("сцен и зданий", "scenes and buildings"),
    "objects": ("предметов", "objects"),
}


@dataclass(frozen=True)
class Domain:
    upright: bool | None  # True: photos with a natural up/down; False / None: not / unknown
    what: str | None = None  # a key of WHAT
    evidence: str | None = None  # the student's words that decided it
    cell: int | None = None


def _texts(facts: "Facts"):
    """(cell, text) of everything the student wrote about the data: markdown, comments, string
    constants, printed output (shortened)."""
    from ..outputs import output_text

    for cell in facts.program.notebook.cells:
        if cell.cell_type == "markdown":
            yield cell.index, cell.source
        elif cell.cell_type == "code" and cell.outputs:
            yield cell.index, output_text(cell.outputs)[:4000]
    for cc in facts.program.cells:
        if cc.tree is None:
            continue
        for node in ast.walk(cc.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 300:
                yield cc.index, node.value
        try:
            for tok in tokenize.generate_tokens(io.StringIO(cc.masked.source).readline):
                if tok.type == tokenize.COMMENT:
                    yield cc.index, tok.string
        except (tokenize.TokenError, IndentationError, SyntaxError):
            continue


def domain(facts: "Facts") -> Domain:
    """What the notebook says its images are, as far as orientation goes."""
    upright: list[tuple[int, str, str]] = []
    for cell, raw in _texts(facts):
        text = _SEPARATORS.sub(" ", raw)
        if any(r.search(text) for r in _FREE_RE):
            return Domain(None)
        for r, what in _UPRIGHT_RE:
            m = r.search(text)
            if m:
                upright.append((cell, what, _around(text, m)))
                break
        else:
            if _COURSE.search(text):
                upright.append((cell, "cars", None))  # type: ignore[arg-type]
    if not upright:
        return Domain(None)
    kinds = {w for _c, w, _e in upright}
    if len(kinds) > 1 and "cars" in kinds:
        kinds = {"cars"}  # "cars" and e.g. "scenes" (street photos of cars) agree on orientation
    best = next((u for u in upright if u[1] in kinds and u[2]), upright[0])
    return Domain(True, best[1], best[2], best[0])


def _around(text: str, m: re.Match) -> str:
    """The student's phrase around a keyword, on one line, for the message."""
    line_start = text.rfind("\n", 0, m.start()) + 1
    line_end = text.find("\n", m.end())
    line = text[line_start: line_end if line_end >= 0 else len(text)].strip(" #\t")
    line = re.sub(r"^[#>*\s]+", "", line)
    return line if len(line) <= 80 else line[:79] + "…"


# --- augmentations that change the orientation ----------------------------------------------

@dataclass(frozen=True)
class Turn:
    """An augmentation that turns images upside down (`flip`) or on their side (`rotate`)."""

    site: Site
    kind: str  # "flip" | "rotate"
    owner: Obj | None  # the augmentation object (None for a tf.image call in a function)


_ALBU = {"VerticalFlip": "flip", "Flip": "flip", "Transpose": "rotate", "RandomRotate90": "rotate",
         "D4": "rotate", "SquareSymmetry": "rotate"}
_CONTAINERS = ("albumentations.Compose", "albumentations.OneOf", "albumentations.SomeOf", "albumentations.Sequential",
               "albumentations.OneOrOther", "torchvision.transforms.Compose", "torchvision.transforms.RandomApply",
               "torchvision.transforms.RandomChoice", "torchvision.transforms.RandomOrder", "imgaug.augmenters.Sequential",
               "imgaug.augmenters.SomeOf", "imgaug.augmenters.OneOf", "imgaug.augmenters.Sometimes", "keras.Sequential")


def turns(facts: "Facts") -> list[Turn]:
    """Every augmentation that flips images vertically, transposes them or turns them by 90
    degrees, and is applied to data (its generator, pipeline or layer is used)."""
    out: list[Turn] = []
    for o in facts.objects:
        if o.kind is not ObjKind.CALL or o.site.uncalled:
            continue
        kind = _turn_kind(o)
        if kind is None:
            continue
        if o.api in (apis.IMAGE_DATA_GENERATOR,):
            if not any(facts.roles_of(u.call.result) for u in o.uses
                       if u.param == "self" and u.call.method in apis.FLOW_METHODS):
                continue
            node = o.arg_sites.get("vertical_flip")
            s = o.site
            site = Site(s.cell, node, s.loops, s.funcs, s.uncalled, s.contexts, s.conds) if node is not None else s
            out.append(Turn(site, "flip", o))
        elif _applied(o):
            out.append(Turn(o.site, kind, o))
    for rec in facts.calls:
        if rec.site.uncalled or not rec.site.funcs:
            continue
        if rec.name in ("tensorflow.image.random_flip_up_down", "tensorflow.image.stateless_random_flip_up_down"):
            out.append(Turn(rec.site, "flip", None))
        elif rec.name == "tensorflow.image.rot90" and _random(rec.args.get("k", rec.args.get("#1"))):
            out.append(Turn(rec.site, "rotate", None))
    return out


def _turn_kind(o: Obj) -> str | None:
    api = o.api or ""
    short = api.rsplit(".", 1)[-1]
    p = o.args.get("p")
    if isinstance(p, Const) and p.value == 0:
        return None
    if api == apis.IMAGE_DATA_GENERATOR:
        v = o.args.get("vertical_flip")
        return "flip" if isinstance(v, Const) and v.value is True else None
    if api.startswith("albumentations."):
        return _ALBU.get(short)
    if api == "torchvision.transforms.RandomVerticalFlip":
        return "flip"
    if api in ("keras.layers.RandomFlip", "keras_cv.layers.RandomFlip"):
        mode = o.arg("mode", o.args.get("#0", Const("horizontal_and_vertical")))
        if isinstance(mode, Const) and mode.value in ("vertical", "horizontal_and_vertical"):
            return "flip"
        return None
    if api in ("imgaug.augmenters.Flipud", "imgaug.augmenters.flip.Flipud"):
        return "flip"
    if api in ("imgaug.augmenters.Rot90",):
        return "rotate"
    return None


def _applied(o: Obj, depth: int = 0) -> bool:
    """The augmentation reaches data: it is called, handed to a dataset / augmentor / map, or is
    in a container (Compose, Sequential) that is."""
    if depth > 8:
        return False
    for u in o.uses:
        rec = u.call
        if rec.site.uncalled:
            continue
        if rec.name in _CONTAINERS:
            if isinstance(rec.result, Obj) and _applied(rec.result, depth + 1):
                return True
            continue
        if u.param == "self" and rec.method in ("summary", "get_config", "count_params"):
            continue
        return True
    return False


def _random(v: Value | None) -> bool:
    return isinstance(v, Obj) and v.kind is ObjKind.CALL and apis.is_random_call(v.api or "") or isinstance(v, Func)
