"""What nbreview knows about the libraries students use: names, signatures, semantics.

Qualified names are normalised so that `tf.keras.X`, `tensorflow.keras.X`,
`tensorflow.python.keras.X`, `keras.src.X` and standalone `keras.X` are one name.
"""
from __future__ import annotations

import re
from functools import lru_cache

_KERAS_PREFIXES = (
    "tensorflow.python.keras.",
    "tensorflow._api.v2.keras.",
    "tensorflow.compat.v2.keras.",
    "tensorflow.compat.v1.keras.",
    "tensorflow.keras.",
    "keras._tf_keras.keras.",
    "keras.api._v2.keras.",
    "keras.api.",
    "keras.src.",
    "tf_keras.src.",
    "tf_keras.",
)
_KERAS_ALIASES = {
    "keras.models.Model": "keras.Model",
    "keras.models.model.Model": "keras.Model",
    "keras.engine.training.Model": "keras.Model",
    "keras.engine.functional.Functional": "keras.Model",
    "keras.models.functional.Functional": "keras.Model",
    "keras.models.Sequential": "keras.Sequential",
    "keras.models.sequential.Sequential": "keras.Sequential",
    "keras.engine.sequential.Sequential": "keras.Sequential",
    "keras.layers.Input": "keras.Input",
    "keras.engine.input_layer.Input": "keras.Input",
    "keras.layers.core.input_layer.Input": "keras.Input",
    "keras.models.load_model": "keras.models.load_model",
    "keras.saving.load_model": "keras.models.load_model",
    "keras.saving.saving_api.load_model": "keras.models.load_model",
    "keras.models.saving_api.load_model": "keras.models.load_model",
    "keras.saving.save.load_model": "keras.models.load_model",
    "keras.preprocessing.image_dataset_from_directory": "keras.utils.image_dataset_from_directory",
    "keras.preprocessing.image_dataset.image_dataset_from_directory": "keras.utils.image_dataset_from_directory",
    "keras.legacy.preprocessing.image.ImageDataGenerator": "keras.preprocessing.image.ImageDataGenerator",
    "keras.preprocessing.image.image.ImageDataGenerator": "keras.preprocessing.image.ImageDataGenerator",
    "keras.utils.load_img": "keras.preprocessing.image.load_img",
    "keras.utils.img_to_array": "keras.preprocessing.image.img_to_array",
    "keras.experimental.CosineDecay": "keras.optimizers.schedules.CosineDecay",
    "keras.experimental.CosineDecayRestarts": "keras.optimizers.schedules.CosineDecayRestarts",
}
# Other packages, exact names: the paths a package really exposes for the same object
_ALIASES = {
    # ImageDataAugmentor re-exports its class at the package's top level
    "ImageDataAugmentor.ImageDataAugmentor": "ImageDataAugmentor.image_data_augmentor.ImageDataAugmentor",
    # the standalone keras-preprocessing package (Keras 2.x, TF <= 2.8 used it under the hood)
    "keras_preprocessing.image.ImageDataGenerator": "keras.preprocessing.image.ImageDataGenerator",
    "keras_preprocessing.image.image_data_generator.ImageDataGenerator": "keras.preprocessing.image.ImageDataGenerator",
    "keras_preprocessing.image.load_img": "keras.preprocessing.image.load_img",
    "keras_preprocessing.image.img_to_array": "keras.preprocessing.image.img_to_array",
    "keras_preprocessing.image.utils.load_img": "keras.preprocessing.image.load_img",
    "keras_preprocessing.image.utils.img_to_array": "keras.preprocessing.image.img_to_array",
}
# keras.<module>.<submodule...>.<Name> -> keras.<module>.<Name> for these modules (classes and
# functions live in private submodules: keras.src.callbacks.model_checkpoint.ModelCheckpoint)
_KERAS_FLAT = frozenset({"layers", "callbacks", "metrics", "losses", "optimizers", "activations", "utils",
                         "initializers", "regularizers"})


@lru_cache(maxsize=4096)  # the same few hundred names are asked for again and again
def normalize(qname: str) -> str:
    if qname in ("tensorflow.keras", "tf_keras", "keras._tf_keras.keras"):
        return "keras"
    qname = _ALIASES.get(qname, qname)
    for _ in range(3):  # `tensorflow.keras.src.X`: strip every prefix
        for prefix in _KERAS_PREFIXES:
            if qname.startswith(prefix):
                qname = "keras." + qname[len(prefix):]
                break
        else:
            break
    if qname.startswith("keras."):
        qname = _KERAS_ALIASES.get(qname, qname)
        parts = qname.split(".")
        if len(parts) >= 4 and parts[1] == "optimizers" and parts[2] == "schedules":
            # keras.optimizers.schedules.learning_rate_schedule.ExponentialDecay
            qname = "keras.optimizers.schedules." + parts[-1]
        elif len(parts) >= 4 and parts[1] in _KERAS_FLAT and (parts[1] != "layers" or parts[-1][:1].isupper()):
            # keras.layers.experimental.preprocessing.RandomFlip -> keras.layers.RandomFlip,
            # keras.optimizers.legacy.Adam -> keras.optimizers.Adam, keras.utils.np_utils.to_categorical
            qname = f"keras.{parts[1]}.{parts[-1]}"
        elif len(parts) == 4 and parts[1] == "applications" and parts[3][:1].isupper():
            # keras.applications.efficientnet.EfficientNetB0 -> keras.applications.EfficientNetB0
            # (the module's own preprocess_input keeps its module: it says which family it is)
            qname = "keras.applications." + parts[3]
        qname = _KERAS_ALIASES.get(qname, qname)
    elif qname.startswith("albumentations.pytorch."):
        qname = "albumentations.pytorch." + qname.rsplit(".", 1)[-1]
    elif qname.startswith(("albumentations.augmentations.", "albumentations.core.")) or (
            qname.startswith("albumentations.") and qname.count(".") >= 2 and qname.rsplit(".", 1)[-1][:1].isupper()):
        # albumentations.augmentations.geometric.rotate.Rotate, albumentations.core.composition.Compose
        qname = "albumentations." + qname.rsplit(".", 1)[-1]
    elif qname.startswith("torchvision.transforms.v2."):
        qname = "torchvision.transforms." + qname[len("torchvision.transforms.v2."):]
    elif qname.startswith("torchvision.transforms.transforms."):
        qname = "torchvision.transforms." + qname[len("torchvision.transforms.transforms."):]
    elif qname.startswith("imgaug.augmenters.") and len(qname.split(".")) > 3:
        qname = "imgaug.augmenters." + qname.rsplit(".", 1)[-1]
    return qname


# --- signatures: positional parameter names of the calls nbreview models ------------

IDG_PARAMS = [
    "featurewise_center", "samplewise_center", "featurewise_std_normalization",
    "samplewise_std_normalization", "zca_whitening", "zca_epsilon", "rotation_range",
    "width_shift_range", "height_shift_range", "brightness_range", "shear_range", "zoom_range",
    "channel_shift_range", "fill_mode", "cval", "horizontal_flip", "vertical_flip", "rescale",
    "preprocessing_function", "data_format", "validation_split", "interpolation_order", "dtype",
]
_APP_PARAMS = ["include_top", "weights", "input_tensor", "input_shape", "pooling", "classes",
               "classifier_activation"]

SIGNATURES: dict[str, list[str]] = {
    "keras.callbacks.ModelCheckpoint": ["filepath", "monitor", "verbose", "save_best_only",
                                        "save_weights_only", "mode", "save_freq", "options",
                                        "initial_value_threshold"],
    "keras.callbacks.EarlyStopping": ["monitor", "min_delta", "patience", "verbose", "mode", "baseline",
                                      "restore_best_weights", "start_from_epoch"],
    "keras.callbacks.ReduceLROnPlateau": ["monitor", "factor", "patience", "verbose", "mode", "min_delta",
                                          "cooldown", "min_lr"],
    "keras.callbacks.LearningRateScheduler": ["schedule", "verbose"],
    "keras.preprocessing.image.ImageDataGenerator": IDG_PARAMS,
    "ImageDataAugmentor.image_data_augmentor.ImageDataAugmentor": [
        "featurewise_center", "samplewise_center", "featurewise_std_normalization",
        "samplewise_std_normalization", "zca_whitening", "zca_epsilon", "augment", "input_augment_mode",
        "label_augment_mode", "preprocess_input", "rescale", "data_format", "validation_split", "dtype",
        "seed"],
    "keras.layers.Rescaling": ["scale", "offset"],
    "keras.layers.Dense": ["units", "activation"],
    "keras.Model": ["inputs", "outputs", "name"],
    "keras.Sequential": ["layers", "name"],
    "keras.utils.image_dataset_from_directory": ["directory", "labels", "label_mode", "class_names",
                                                 "color_mode", "batch_size", "image_size", "shuffle", "seed",
                                                 "validation_split", "subset"],
    "builtins.range": ["start", "stop", "step"],
    "torch.utils.data.DataLoader": ["dataset", "batch_size", "shuffle"],
    "torchvision.datasets.ImageFolder": ["root", "transform", "target_transform"],
    "torch.utils.data.Subset": ["dataset", "indices"],
    "torch.utils.data.random_split": ["dataset", "lengths", "generator"],
}
# torch.optim.lr_scheduler: the positional parameters after the optimizer
for _n, _params in {
    "CosineAnnealingLR": ["T_max", "eta_min", "last_epoch"],
    "CosineAnnealingWarmRestarts": ["T_0", "T_mult", "eta_min", "last_epoch"],
    "ReduceLROnPlateau": ["mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps"],
    "StepLR": ["step_size", "gamma", "last_epoch"],
    "MultiStepLR": ["milestones", "gamma", "last_epoch"],
    "ExponentialLR": ["gamma", "last_epoch"],
    "OneCycleLR": ["max_lr", "total_steps", "epochs", "steps_per_epoch"],
    "LambdaLR": ["lr_lambda", "last_epoch"],
}.items():
    SIGNATURES["torch.optim.lr_scheduler." + _n] = ["optimizer"] + _params
for _n in ("EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4",
           "EfficientNetB5", "EfficientNetB6", "EfficientNetB7"):
    SIGNATURES["keras.applications." + _n] = _APP_PARAMS
for _n in ("EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
           "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L"):
    SIGNATURES["keras.applications." + _n] = _APP_PARAMS + ["include_preprocessing"]
for _n in ("Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "AdamW", "Ftrl", "Lion"):
    SIGNATURES["keras.optimizers." + _n] = ["learning_rate"]

_FIT = ["x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data",
        "shuffle", "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch", "validation_steps",
        "validation_batch_size", "validation_freq"]
METHOD_SIGNATURES: dict[str, list[str]] = {
    "fit": _FIT,
    "fit_generator": ["x", "steps_per_epoch", "epochs", "verbose", "callbacks", "validation_data",
                      "validation_steps", "validation_freq", "class_weight", "max_queue_size", "workers",
                      "use_multiprocessing", "shuffle", "initial_epoch"],
    "evaluate": ["x", "y", "batch_size", "verbose", "sample_weight", "steps", "callbacks"],
    "evaluate_generator": ["x", "steps", "callbacks"],
    "predict": ["x", "batch_size", "verbose", "steps", "callbacks"],
    "predict_generator": ["x", "steps", "callbacks"],
    "predict_classes": ["x", "batch_size", "verbose"],
    "predict_proba": ["x", "batch_size", "verbose"],
    "predict_on_batch": ["x"],
    "flow_from_directory": ["directory", "target_size", "color_mode", "classes", "class_mode", "batch_size",
                            "shuffle", "seed", "save_to_dir", "save_prefix", "save_format", "follow_links",
                            "subset", "interpolation", "keep_aspect_ratio"],
    "flow_from_dataframe": ["dataframe", "directory", "x_col", "y_col", "weight_col", "target_size",
                            "color_mode", "classes", "class_mode", "batch_size", "shuffle", "seed",
                            "save_to_dir", "save_prefix", "save_format", "subset", "interpolation",
                            "validate_filenames"],
    "flow": ["x", "y", "batch_size", "shuffle", "sample_weight", "seed", "save_to_dir", "save_prefix",
             "save_format", "ignore_class_split", "subset"],
    "map": ["map_func", "num_parallel_calls", "deterministic"],
    "compile": ["optimizer", "loss", "metrics", "loss_weights", "weighted_metrics", "run_eagerly"],
    "load_weights": ["filepath"],
    "add": ["layer"],
}
# `fit_generator(generator=...)`, `predict_generator(generator=...)`: the keyword is `generator`
METHOD_KEYWORD_ALIASES = {"generator": "x"}


# --- semantics ---------------------------------------------------------------------

IMAGE_DATA_GENERATOR = "keras.preprocessing.image.ImageDataGenerator"
IMAGE_DATA_AUGMENTOR = "ImageDataAugmentor.image_data_augmentor.ImageDataAugmentor"

# ImageDataGenerator arguments that randomly change images (the others only normalise)
IDG_AUGMENTING = ("rotation_range", "width_shift_range", "height_shift_range", "brightness_range",
                  "shear_range", "zoom_range", "channel_shift_range", "horizontal_flip", "vertical_flip")

FLOW_METHODS = ("flow", "flow_from_directory", "flow_from_dataframe")
FIT_METHODS = ("fit", "fit_generator")
PREDICT_METHODS = ("predict", "predict_generator", "predict_on_batch", "predict_classes", "predict_proba")
EVALUATE_METHODS = ("evaluate", "evaluate_generator")
DEPRECATED_METHODS = ("fit_generator", "evaluate_generator", "predict_generator", "predict_classes")

# tf.data / dataset methods that pass elements through unchanged
DATASET_PASSTHROUGH = ("batch", "prefetch", "shuffle", "cache", "repeat", "take", "skip", "unbatch",
                       "padded_batch", "with_options", "apply", "filter", "rebatch", "ignore_errors")

EFFICIENTNET_V1 = re.compile(r"^keras\.applications\.EfficientNetB[0-7]$")
EFFICIENTNET_V2 = re.compile(r"^keras\.applications\.EfficientNetV2(B[0-3]|S|M|L)$")
LEGACY_EFFICIENTNET = re.compile(r"^efficientnet\.(tfkeras|keras|model)\.EfficientNet")

KERAS_APPLICATION = re.compile(r"^keras\.applications\.[A-Z]\w+$")
# the model constructors `from keras.applications import *` brings
KERAS_APPLICATION_NAME = re.compile(
    r"^(Xception|VGG1[69]|ResNet(50|101|152)(V2)?|ResNetRS\d+|Inception(V3|ResNetV2)|MobileNet(V2|V3Small|V3Large)?"
    r"|DenseNet(121|169|201)|NASNet(Mobile|Large)|EfficientNet(B[0-7]|V2(B[0-3]|S|M|L))|ConvNeXt\w+"
    r"|RegNet[XY]\d+\w*)$")

KERAS_RANDOM_LAYERS = frozenset(
    "RandomFlip RandomRotation RandomZoom RandomTranslation RandomContrast RandomBrightness RandomCrop "
    "RandomHeight RandomWidth RandAugment RandomGrayscale RandomHue RandomSaturation RandomShear "
    "RandomColorJitter RandomColorDegeneration RandomSharpness RandomInvert RandomPosterization "
    "RandomErasing RandomGaussianBlur RandomPerspective RandomElasticTransform MixUp CutMix AugMix "
    "Solarization GaussianNoise GaussianDropout".split()
)
# albumentations transforms that are deterministic by default (p=1 and no randomness)
ALBU_DETERMINISTIC = frozenset(
    "Resize Normalize ToFloat FromFloat CenterCrop Crop PadIfNeeded LongestMaxSize SmallestMaxSize "
    "ToTensorV2 ToTensor ToRGB ToGray ToSepia Lambda NoOp".split()
)
ALBU_DEFAULT_P1 = frozenset(
    "Resize Normalize ToFloat FromFloat CenterCrop Crop PadIfNeeded LongestMaxSize SmallestMaxSize "
    "ToTensorV2 ToTensor Compose OneOf SomeOf Sequential Lambda".split()
)
ALBU_CONTAINERS = frozenset({"Compose", "OneOf", "SomeOf", "Sequential", "OneOrOther", "ReplayCompose"})

TORCHVISION_DETERMINISTIC = frozenset(
    "Resize CenterCrop ToTensor ToImage ToDtype PILToTensor ToPILImage Normalize ConvertImageDtype "
    "Grayscale Pad FiveCrop TenCrop Lambda Compose ConvertImageDtype".split()
)

RANDOM_CALL_PREFIXES = (
    "tensorflow.image.random_", "tensorflow.image.stateless_random_", "tensorflow.random.",
    "tensorflow.compat.v1.random.", "numpy.random.", "random.", "torch.rand", "tensorflow_addons.image.random",
    "keras.random.",
)


def is_random_call(qname: str, args: dict | None = None) -> bool:
    """A call that draws random numbers. A stateless op with a constant seed does not: it gives the
    same result every time."""
    if qname.startswith(("tensorflow.image.stateless_random_", "tensorflow.random.stateless_")) and args:
        from .values import Const

        seed = args.get("seed")
        if isinstance(seed, Const):
            return False
    return _is_random_name(qname)


def _is_random_name(qname: str) -> bool:
    return qname.startswith(RANDOM_CALL_PREFIXES) and qname not in ("random.seed", "numpy.random.seed",
                                                                   "tensorflow.random.set_seed")


# star-import: which names a module provides (only for names rules care about)
STAR_EXPORTS: dict[str, frozenset[str]] = {
    "keras.callbacks": frozenset({"ModelCheckpoint", "EarlyStopping", "ReduceLROnPlateau",
                                  "LearningRateScheduler", "TensorBoard", "CSVLogger", "Callback"}),
    "keras.preprocessing.image": frozenset({"ImageDataGenerator", "load_img", "img_to_array"}),
    "keras.optimizers": frozenset({"Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
                                   "AdamW", "Ftrl"}),
    "keras.applications": frozenset(),  # resolved by capitalised model names below
    "keras.layers": frozenset(),
    "keras.models": frozenset({"Model", "Sequential", "load_model"}),
    "ImageDataAugmentor.image_data_augmentor": frozenset({"ImageDataAugmentor"}),
    "ImageDataAugmentor": frozenset({"ImageDataAugmentor"}),
    "keras": frozenset({"Model", "Sequential", "Input"}),
}


# --- pass-through: methods that return (a view of) the same thing -------------------
# One table for every chain walk: `model.to(device).eval()` is the model; `ds.batch(32).prefetch(1)`
# is the data of `ds`; `x.astype('float32')` is the array `x`.
PASSTHROUGH: dict[str, frozenset[str]] = {
    # torch.nn.Module methods returning self; Keras models have none of these
    "model": frozenset({"to", "cuda", "cpu", "eval", "train", "float", "half", "double", "bfloat16",
                        "requires_grad_", "share_memory", "type", "apply", "to_empty"}),
    # tf.data / generator methods that pass elements through unchanged
    "data": frozenset(DATASET_PASSTHROUGH),
    # array methods that keep the values
    "array": frozenset({"astype", "reshape", "transpose", "copy", "numpy", "squeeze", "flatten", "ravel"}),
}
MAX_CHAIN = 64  # steps any chain walk takes at most (a guard against cycles and absurd code)

# calls that mark a loop as training (so it is not a prediction or TTA loop): Keras fits,
# custom GradientTape loops, PyTorch optimisation steps and mode switches
TRAINING_METHODS = frozenset({"backward", "fit", "fit_generator", "train_on_batch", "train", "apply_gradients",
                              "gradient", "zero_grad", "minimize", "step"})

# What creates a model (a network whose forward pass we may see called)
MODEL_CONSTRUCTOR_PREFIXES = ("torchvision.models.", "timm.create_model", "keras.applications.")
MODEL_CONSTRUCTORS = frozenset({"keras.Model", "keras.Sequential", "keras.models.load_model",
                                "keras.saving.load_model"})
# base classes of a notebook's own model classes
MODEL_BASES = frozenset({"keras.Model", "keras.models.Model", "torch.nn.Module", "torch.nn.modules.module.Module",
                         "pytorch_lightning.LightningModule", "lightning.LightningModule",
                         "lightning.pytorch.LightningModule"})
# ... and of classes whose forward pass (`call` / `forward`) the interpreter follows
NETWORK_BASES = MODEL_BASES | {"keras.layers.Layer"}

# Library calls that take an object and cannot change its training state or steps: handing
# an object to them is not an escape (see Facts.escapes).
INERT_CALL_PREFIXES = (
    "builtins.", "numpy.", "pandas.", "matplotlib.", "seaborn.", "PIL.", "cv2.", "os.", "sys.", "json.",
    "math.", "random.", "time.", "datetime.", "copy.", "pickle.", "collections.", "itertools.", "functools.",
    "tqdm.", "sklearn.metrics.", "IPython.display.", "torch.save", "torch.no_grad", "torch.inference_mode",
    "torch.cat", "torch.stack", "torch.argmax", "torch.max", "torch.softmax", "torch.sigmoid",
    "torch.nn.functional.", "torch.optim.", "torch.cuda.amp.", "torch.amp.", "torch.utils.data.",
    "torchvision.utils.", "torchsummary.", "torchinfo.", "keras.utils.plot_model", "tensorflow.math.",
)
# Methods of the object itself that cannot change its training state
INERT_METHODS = frozenset({"parameters", "named_parameters", "children", "named_children", "modules",
                           "named_modules", "state_dict", "summary", "count_params", "get_layer", "to", "cuda",
                           "cpu", "float", "half", "double", "requires_grad_", "zero_grad", "__call__",
                           "forward", "predict", "evaluate", "save", "save_weights", "load_state_dict",
                           "load_weights", "register_forward_hook", "numel", "size", "item"})
