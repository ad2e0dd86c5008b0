"""`nbreview verify`: measure, with a reference training run, what a remark costs.

The notebook's code is never run. nbreview reads the notebook's training recipe from its
Facts (recipe.py), trains its own reference pipeline with those parameters (Keras 3), once
as written and once fixed, over several seeds, and writes a versioned evidence file that
`nbreview check --evidence FILE` puts into the review.

Import map (the check path must never import TensorFlow or Keras):
- recipe.py, evidence.py, plan.py, registry.py, texts.py: pure Python, safe anywhere;
- data.py, models.py, train.py, experiments/*: import Keras inside their functions and are
  only reached from runner.py, which only the `verify` command imports.
"""
from __future__ import annotations

EVIDENCE_VERSION = 1
