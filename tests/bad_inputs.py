"""Bad input for every entry point, generated from what the entry points accept: each config key of
the pydantic schemas given values of the wrong type, outside its bounds or unknown, and every file
argument given a damaged or wrong file. tests/test_bad_input_suite.py runs them."""

from __future__ import annotations

import copy
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import annotated_types as at
import h5py
import numpy as np
from pydantic import BaseModel

UNKNOWN = "no_such_key"


@dataclass(frozen=True)
class Case:
    """One bad input: argv of an entry point, and words its one-line message must hold."""

    name: str
    entry: str  # sample, train, analyze or pipeline
    argv: tuple
    words: tuple = ()
    files: dict = field(default_factory=dict, compare=False)  # name -> text or bytes to write first


def _strip_optional(annotation):
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = tuple(a for a in args if a is not type(None))
        return rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007 - built from a tuple
    return annotation


def _section(annotation) -> type[BaseModel] | None:
    a = _strip_optional(annotation)
    return a if isinstance(a, type) and issubclass(a, BaseModel) else None


def _bound_violations(metadata, integer: bool) -> list:
    """One value just outside each bound of a field (ge, gt, le, lt)."""
    step = 1 if integer else 0.5
    out = []
    for m in metadata:
        if isinstance(m, at.Ge):
            out.append(m.ge - step)
        elif isinstance(m, at.Gt):
            out.append(m.gt)
        elif isinstance(m, at.Le):
            out.append(m.le + step)
        elif isinstance(m, at.Lt):
            out.append(m.lt)
    return out


def bad_values(annotation, metadata=()) -> list:
    """Values no field of this annotation accepts (None is left out: optional keys take it)."""
    a = _strip_optional(annotation)
    origin, args = typing.get_origin(a), typing.get_args(a)
    if origin is typing.Literal:
        return ["no_such_choice", 7]
    if a is bool:
        return ["maybe", [True]]
    if a is int:
        return ["abc", 1.5, [1], {"a": 1}, *_bound_violations(metadata, True)]
    if a is float:
        return ["abc", [1.0], float("nan"), float("inf"), -float("inf"), *_bound_violations(metadata, False)]
    if a is str:
        short = [""] if any(isinstance(m, at.MinLen) and m.min_length > 0 for m in metadata) else []
        return [[1], {"a": 1}, *short]
    if origin is list:
        item = bad_values(args[0])
        empty = [[]] if any(isinstance(m, at.MinLen) and m.min_length > 0 for m in metadata) else []
        return ["abc", {"a": 1}, *([[item[0]]] if item else []), *empty]
    if a is dict:
        return ["abc", [1]]
    # any other union (a list or a range, 'half' or an int, a section or False): none takes these
    return [{UNKNOWN: 1}, [[{UNKNOWN: 1}]]]


def leaves(schema: type[BaseModel], raw: dict, prefix: tuple = ()):
    """(key path, annotation, metadata) of every key of a schema, descending into its sections and
    into the sections listed in `raw` (e.g. labels.windows.0)."""
    for name, f in schema.model_fields.items():
        key = f.alias or name
        path = (*prefix, key)
        section = _section(f.annotation)
        value = raw.get(key) if isinstance(raw, dict) else None
        if section is not None:
            yield path, dict, ()  # the whole section replaced by something that is not one
            yield from leaves(section, value if isinstance(value, dict) else {}, path)
            continue
        args = typing.get_args(_strip_optional(f.annotation))
        if typing.get_origin(f.annotation) is list and args and _section(args[0]) and isinstance(value, list):
            for i, item in enumerate(value):
                yield from leaves(args[0], item, (*path, i))
        yield path, f.annotation, f.metadata


def sections(schema: type[BaseModel], prefix: tuple = ()):
    yield prefix
    for name, f in schema.model_fields.items():
        section = _section(f.annotation)
        if section is not None:
            yield from sections(section, (*prefix, f.alias or name))


def with_value(raw: dict, path: tuple, value) -> dict:
    out = copy.deepcopy(raw)
    node = out
    for p in path[:-1]:
        node = node.setdefault(p, {}) if isinstance(node, dict) else node[p]
    node[path[-1]] = value
    return out


def dotted(path: tuple) -> str:
    return ".".join(map(str, path))


def config_cases(entry: str, schema: type[BaseModel], raw: dict, extra=(), skip=()) -> list:
    """Every key of `schema` in the valid config `raw` given each of its bad values, and an unknown
    key in every section: (name, config mapping, words), the words naming the key."""
    out = []
    for path, annotation, metadata in leaves(schema, raw):
        if dotted(path) in skip:
            continue
        values = ["abc", [1]] if annotation is dict else bad_values(annotation, metadata)
        for value in values:
            out.append(
                (f"{entry} {dotted(path)}={value!r}", with_value(raw, path, value), (f"'{dotted(path)}",))
            )
    for path in sections(schema):
        key = (*path, UNKNOWN)
        out.append(
            (f"{entry} unknown {dotted(key)}", with_value(raw, key, 1), (f"'{dotted(key)}'", "unknown key"))
        )
    return out


# -- damaged files ------------------------------------------------------------------------------------
def damaged_files(folder: Path, good: Path, kind: str) -> dict:
    """name -> a path in `folder` holding a wrong or damaged stand-in for the file `good`."""
    folder.mkdir(parents=True, exist_ok=True)
    data = good.read_bytes()
    out = {"missing": folder / f"missing_{kind}"}
    (folder / f"dir_{kind}").mkdir(exist_ok=True)
    out["a directory"] = folder / f"dir_{kind}"
    for name, content in (
        ("empty", b""),
        ("text", b"model: ising\n"),
        ("binary noise", bytes(range(256)) * 8),
    ):
        out[name] = folder / f"{name.replace(' ', '_')}_{kind}"
        out[name].write_bytes(content)
    for fraction in (0.1, 0.5, 0.9):
        out[f"truncated to {fraction:.0%}"] = p = (
            folder / f"truncated{int(fraction * 100)}_{kind}{good.suffix}"
        )
        p.write_bytes(data[: int(len(data) * fraction)])
    return out


def flipped(folder: Path, good: Path, kind: str, count: int) -> dict:
    """name -> copies of `good` with one bit flipped at `count` places spread over the file."""
    data = good.read_bytes()
    out = {}
    for k, offset in enumerate(np.linspace(64, len(data) - 1, count).astype(int)):
        damaged = bytearray(data)
        damaged[offset] ^= 1 << (k % 8)
        out[f"bit {k % 8} of byte {offset} flipped"] = p = folder / f"flip{offset}_{kind}{good.suffix}"
        p.write_bytes(bytes(damaged))
    return out


def foreign_hdf5(folder: Path) -> dict:
    """HDF5 files that are not run files of this project, or not of a version it reads."""
    out = {"an HDF5 file of another program": folder / "other.h5"}
    with h5py.File(out["an HDF5 file of another program"], "w") as f:
        f["data"] = np.arange(10)
    return out


def with_attribute(folder: Path, good: Path, name: str, value, label: str) -> Path:
    path = folder / f"{label}{good.suffix}"
    path.write_bytes(good.read_bytes())
    with h5py.File(path, "r+") as f:
        f.attrs[name] = value
    return path
