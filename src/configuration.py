"""YAML configuration files validated against pydantic schemas, with command-line overrides.

Every problem is reported as one line that names the key, e.g.
    config key 'model.q': required for the potts model
The schemas themselves live with what they configure (src.sampling.config, src.learning.ml.config,
src.learning.rg.config, src.pipeline.config).
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class ConfigError(ValueError):
    """A bad configuration; its message is one line naming the key."""


class Strict(BaseModel):
    """A config section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


def _is_union_tag(part) -> bool:
    # pydantic names the branch of a union in the location: 'list[float]', 'TemperatureRange'
    return isinstance(part, str) and ("[" in part or part[:1].isupper() and len(part) > 1)


def one_line(err: ValidationError) -> str:
    """The one-line message of a pydantic validation error: `config key 'a.b': problem`."""
    # of the alternatives of a union, the error that got furthest names the real problem
    e = max(err.errors(), key=lambda e: (len(e["loc"]), not e["type"].endswith("_type")))
    loc = ".".join(str(p) for p in e["loc"] if not _is_union_tag(p))
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "value_error" and ": " in msg:
        # our validators start their message with the key (below `loc`) they concern
        sub, msg = msg.split(": ", 1)
        # a full dotted path (from a whole-config validator) replaces the location
        loc = loc if loc.endswith(sub) else sub if not loc or "." in sub else f"{loc}.{sub}"
    elif e["type"] == "extra_forbidden":
        msg = "unknown key"
    elif e["type"] != "missing" and not isinstance(e.get("input"), dict):
        msg = f"{msg} (got {e['input']!r})"
    return f"config key '{loc}': {msg}"


def validate(raw, schema: type[BaseModel]):
    """The raw mapping validated against a schema; ConfigError with one line otherwise."""
    if not isinstance(raw, dict):
        raise ConfigError("config: the file must hold a mapping of keys")
    try:
        return schema.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(one_line(err)) from None


def apply_override(raw: dict, assignment: str) -> None:
    """--set a.b.c=value, the value read as YAML (so numbers, lists and booleans keep their type)."""
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r}: expected KEY=VALUE")
    key, value = assignment.split("=", 1)
    parts = key.strip().split(".")
    node = raw
    for p in parts[:-1]:
        if not isinstance(node.get(p, {}), dict):
            raise ConfigError(f"config key '{key}': '{p}' is not a section")
        node = node.setdefault(p, {})
    node[parts[-1]] = yaml.safe_load(value)


def read(path: str | Path | None, overrides=(), default: dict | None = None):
    """The raw mapping of a YAML file (a copy of `default` when path is None) with the overrides."""
    if path is None:
        raw = copy.deepcopy(default)
    else:
        try:
            with open(path) as f:
                raw = yaml.safe_load(f)
        except OSError as err:
            raise ConfigError(f"config file {path}: {err.strerror}") from None
        except yaml.YAMLError as err:
            raise ConfigError(f"config file {path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if isinstance(raw, dict):
        for o in overrides:
            apply_override(raw, o)
    return raw
