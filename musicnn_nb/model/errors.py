"""The errors a reader can cause, each saying what is wrong and what to do."""


class MusicnnNbError(Exception):
    """Base class: every message names the problem and the remedy."""


class AudioError(MusicnnNbError, ValueError):
    """The audio cannot be analysed: missing, unreadable, too short, silent or not finite."""


class ModelError(MusicnnNbError, ValueError):
    """The requested model does not exist in the installed musicnn package."""


class MusicnnNotInstalledError(MusicnnNbError, ImportError):
    """The musicnn package, which carries the pretrained weights, is not installed."""


class SelectionError(MusicnnNbError, IndexError):
    """A unit, layer or segment index that does not exist."""
