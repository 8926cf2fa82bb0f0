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
    """A config section: unknown keys are errors, and so are NaN and infinite numbers."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class StrictLoader(yaml.SafeLoader):
    """safe_load that also refuses what YAML allows but a config never means: a key given twice
    (where the last would silently win) and aliases (which let a few lines expand to gigabytes)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.YAMLError(f"line {mark.line + 1}: aliases (*name) are not accepted in a config")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.YAMLError(f"line {key_node.start_mark.line + 1}: key {key!r} given twice")
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_yaml(text):
    """A YAML document (str or file) read with StrictLoader."""
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader


PRIMITIVE_TAGS = {"int", "float", "str", "bool", "none"}


def _schema_names(cls=BaseModel) -> set[str]:
    """The names of every pydantic model class: the tags of their branches of a union."""
    names = set()
    for sub in cls.__subclasses__():
        names |= {sub.__name__} | _schema_names(sub)
    return names


def _is_union_tag(part) -> bool:
    # pydantic names the branch of a union in the location: 'list[float]', 'int', 'TemperatureRange'
    # (never a key: keys such as 'Jz' are names of fields, tags of types or of schema classes)
    return isinstance(part, str) and ("[" in part or part in PRIMITIVE_TAGS or part in _schema_names())


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
        got = repr(e["input"])
        msg = f"{msg} (got {got if len(got) <= 60 else got[:57] + '...'})"
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
    try:
        node[parts[-1]] = load_yaml(value)
    except yaml.YAMLError as err:
        raise ConfigError(f"--set {key}: the value is not valid YAML ({str(err).splitlines()[0]})") from None


def read(path: str | Path | None, overrides=(), default: dict | None = None):
    """The raw mapping of a YAML file (a copy of `default` when path is None) with the overrides."""
    if path is None:
        raw = copy.deepcopy(default)
    else:
        try:
            with open(path, encoding="utf-8") as f:
                raw = load_yaml(f)
        except OSError as err:
            raise ConfigError(f"config file {path}: {err.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"config file {path}: not UTF-8 text") from None
        except yaml.YAMLError as err:
            raise ConfigError(f"config file {path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if isinstance(raw, dict):
        for o in overrides:
            apply_override(raw, o)
    return raw
