"""nbreview: a mentor's review of deep-learning student notebooks, statically."""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "review"]


def review(path, lang: str = "ru", **kwargs):
    """Review a notebook from Python or Jupyter: `nbreview.review("student.ipynb")` (see nbreview.api)."""
    from .api import review as _review

    return _review(path, lang, **kwargs)
