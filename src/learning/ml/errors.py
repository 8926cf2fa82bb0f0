"""The errors that stop a training run before it starts, each with a one-line message."""

from src.configuration import ConfigError
from src.storage.networks import NetworkFileError
from src.storage.reader import RunFileError


class TrainError(ValueError):
    """Bad training input or output (inconsistent files, an occupied output folder, a checkpoint of
    another run); the message is one line naming the problem."""


class RankError(TrainError):
    """A problem that a rank other than 0 found and rank 0 did not: that rank reports it."""


# bad input: reported as one line with exit status 2, no traceback
USER_ERRORS = (ConfigError, RunFileError, NetworkFileError, TrainError)
