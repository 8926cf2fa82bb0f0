"""The training tasks by the `task` key of a training config (python -m src.train): the schema that
validates the config and the Task that runs it. Reading a config has no side effects (src.train
installs its signal handlers when imported), so other tools validate training configs here."""

from __future__ import annotations

from src import configuration as run_config
from src.learning.ml import config as classify_config
from src.learning.ml.classification import Classification
from src.learning.rg import config as superres_config
from src.learning.rg.training import SuperResolutionTask

# the config's `task` key -> (its schema's validate, what the run learns)
TASKS = {
    "classify": (classify_config.validate, Classification),
    "superres": (superres_config.validate, SuperResolutionTask),
}


def validate(raw):
    """(the validated config, its task) of a raw mapping; `task` defaults to classify."""
    name = raw.get("task", "classify") if isinstance(raw, dict) else "classify"
    if name not in TASKS:
        raise run_config.ConfigError(f"config key 'task': must be one of {', '.join(TASKS)} (got {name!r})")
    schema, task = TASKS[name]
    return schema(raw), task


def load(path, overrides=()):
    """(the validated config, its task) of a YAML file."""
    return validate(run_config.read(path, overrides))
