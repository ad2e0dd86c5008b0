"""Project configuration: `[tool.nbreview]` in pyproject.toml, or top-level keys in nbreview.toml.

The configuration that applies to a notebook is the nearest one found from the notebook's
folder upwards: in each folder `nbreview.toml` wins over `pyproject.toml`, and a
pyproject.toml without a `[tool.nbreview]` table does not count (the search goes on).
Relative globs in `per-file-ignores` are relative to the folder of the config file.

Keys: `select`, `ignore` (lists of slugs), `fail-on`, `lang`, `per-file-ignores`
(glob -> list of slugs) and `[rules.<slug>]` tables of rule options. A rule declares the
options it understands, with their defaults, in its catalog file (`[options]` table of
`rules/<slug>.toml`); a rule reads them with `ctx.option(key)` while it runs.

Anything unknown (a key, a slug, an option, a wrong type) raises ConfigError naming it;
the CLI turns that into exit status 2.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

CONFIG_NAMES = ("nbreview.toml", "pyproject.toml")
KEYS = ("select", "ignore", "fail-on", "lang", "per-file-ignores", "rules")
FAIL_LEVELS = ("error", "warning", "advice", "never")
LANGS = ("ru", "en")


class ConfigError(Exception):
    """A configuration file nbreview cannot use; the message names the file and the key."""


@dataclass
class Config:
    path: Path | None = None  # the file it came from (None: no file)
    select: set[str] | None = None
    ignore: set[str] = field(default_factory=set)
    fail_on: str | None = None
    lang: str | None = None
    per_file_ignores: dict[str, set[str]] = field(default_factory=dict)
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def root(self) -> Path | None:
        return self.path.parent if self.path is not None else None

    def ignored_for(self, notebook: str | Path) -> set[str]:
        """Slugs that `per-file-ignores` turns off for this notebook."""
        if not self.per_file_ignores:
            return set()
        p = Path(notebook).resolve()
        candidates = {p.as_posix(), p.name}
        if self.root is not None:
            try:
                candidates.add(p.relative_to(self.root.resolve()).as_posix())
            except ValueError:
                pass
        out: set[str] = set()
        for pattern, slugs in self.per_file_ignores.items():
            pat = PurePosixPath(pattern).as_posix()
            if any(fnmatchcase(c, pat) for c in candidates) or any(
                fnmatchcase(c, pat.rstrip("/") + "/*") for c in candidates
            ):
                out |= slugs
        return out


def _known_rules() -> dict:
    from . import catalog as cat

    return cat.catalog()


def _where(path: Path, key: str) -> str:
    prefix = "tool.nbreview." if path.name == "pyproject.toml" else ""
    return f"{path}: {prefix}{key}"


def _slugs(value: Any, path: Path, key: str, known: dict) -> set[str]:
    if isinstance(value, str):
        value = [s.strip() for s in value.split(",") if s.strip()]
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ConfigError(f"{_where(path, key)} must be a list of rule slugs")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ConfigError(f"{_where(path, key)}: unknown rule {', '.join(map(repr, unknown))} "
                          "(see `nbreview rules`)")
    return set(value)


def parse(data: dict[str, Any], path: Path) -> Config:
    """Validate one configuration table (already read from TOML)."""
    known = _known_rules()
    unknown_keys = sorted(k for k in data if k not in KEYS)
    if unknown_keys:
        raise ConfigError(f"{_where(path, unknown_keys[0])}: unknown key {unknown_keys[0]!r} "
                          f"(known: {', '.join(KEYS)})")
    cfg = Config(path=path)
    if "select" in data:
        cfg.select = _slugs(data["select"], path, "select", known)
    if "ignore" in data:
        cfg.ignore = _slugs(data["ignore"], path, "ignore", known)
    if "fail-on" in data:
        if data["fail-on"] not in FAIL_LEVELS:
            raise ConfigError(f"{_where(path, 'fail-on')}: {data['fail-on']!r} is not one of "
                              f"{', '.join(FAIL_LEVELS)}")
        cfg.fail_on = data["fail-on"]
    if "lang" in data:
        if data["lang"] not in LANGS:
            raise ConfigError(f"{_where(path, 'lang')}: {data['lang']!r} is not one of {', '.join(LANGS)}")
        cfg.lang = data["lang"]
    pfi = data.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{_where(path, 'per-file-ignores')} must be a table: glob = [slugs]")
    for pattern, slugs in pfi.items():
        cfg.per_file_ignores[pattern] = _slugs(slugs, path, f"per-file-ignores.{pattern!r}", known)
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise ConfigError(f"{_where(path, 'rules')} must be a table of [rules.<slug>] tables")
    for slug, opts in rules.items():
        key = f"rules.{slug}"
        if slug not in known:
            raise ConfigError(f"{_where(path, key)}: unknown rule {slug!r} (see `nbreview rules`)")
        if not isinstance(opts, dict):
            raise ConfigError(f"{_where(path, key)} must be a table of options")
        declared: dict[str, Any] = getattr(known[slug], "options", None) or {}
        for name, value in opts.items():
            if name not in declared:
                have = ", ".join(sorted(declared)) or "none"
                raise ConfigError(f"{_where(path, key + '.' + name)}: unknown option {name!r} of rule {slug!r} "
                                  f"(options it has: {have})")
            default = declared[name]
            if default is not None and not _same_kind(default, value):
                raise ConfigError(f"{_where(path, key + '.' + name)}: expected {type(default).__name__} "
                                  f"(like the default {default!r}), got {value!r}")
        cfg.rule_options[slug] = dict(opts)
    return cfg


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


MAX_CONFIG_BYTES = 1024 * 1024


def read(path: Path) -> Config | None:
    """Read a config file; None for a pyproject.toml without [tool.nbreview]."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KB: not a configuration file")
        if sys.version_info >= (3, 11):  # imported here: most runs have no configuration file
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:  # TOMLDecodeError is a ValueError
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
    try:
        return _table(data, path)
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None


def _table(data: dict[str, Any], path: Path) -> Config | None:
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or "nbreview" not in tool:
            return None
        data = tool["nbreview"]
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: tool.nbreview must be a table")
    return parse(data, path)


class Resolver:
    """Finds the config of each folder once per run (a batch has many notebooks per folder)."""

    def __init__(self, explicit: Path | None = None) -> None:
        self.explicit: Config | None = None
        if explicit is not None:
            self.explicit = read(explicit) or Config(path=explicit)
        self._by_dir: dict[Path, Config | None] = {}

    def for_path(self, path: str | Path) -> Config | None:
        if self.explicit is not None:
            return self.explicit
        try:
            p = Path(path).resolve()
            is_dir = p.is_dir()
        except (OSError, RuntimeError, ValueError):  # a loop of symbolic links: look from where it lies
            p = Path(os.path.abspath(path))
            is_dir = False
        return self.for_dir(p if is_dir else p.parent)

    def for_dir(self, folder: Path) -> Config | None:
        """The nearest configuration from `folder` upwards (each folder is looked at once per run)."""
        chain: list[Path] = []
        found: Config | None = None
        current = folder
        while True:
            if current in self._by_dir:
                found = self._by_dir[current]
                break
            chain.append(current)
            found = self._in_folder(current)
            if found is not None or current.parent == current:
                break
            current = current.parent
        for seen in chain:
            self._by_dir[seen] = found
        return found

    @staticmethod
    def _in_folder(folder: Path) -> Config | None:
        for name in CONFIG_NAMES:
            candidate = folder / name
            try:
                is_file = candidate.is_file()  # a regular file: never a FIFO or a device
            except (OSError, ValueError):
                is_file = False
            if is_file:
                found = read(candidate)
                if found is not None:
                    return found
        return None


def effective_options(options: Any, cfg: Config | None, notebook: str | Path) -> Any:
    """The engine's Options for one notebook: the command line's selection wins as a whole
    (when it selects or ignores anything, the config's select/ignore are not used);
    per-file-ignores always apply; rule options merge, the command line's on top."""
    if cfg is None:
        return options
    from dataclasses import replace

    select, ignore = options.select, set(options.ignore)
    if select is None and not ignore:
        select, ignore = cfg.select, set(cfg.ignore)
    ignore |= cfg.ignored_for(notebook)
    merged = {slug: dict(opts) for slug, opts in cfg.rule_options.items()}
    for slug, opts in options.rule_options.items():
        merged.setdefault(slug, {}).update(opts)
    return replace(options, select=select, ignore=ignore, rule_options=merged)
