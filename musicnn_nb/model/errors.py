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


class OutputError(MusicnnNbError, OSError):
    """A result cannot be written where asked: the folder is missing or read-only, or the disk is full."""


class SettingError(MusicnnNbError, ValueError):
    """An environment setting (such as ``MUSICNN_NB_CACHE_MAX``) has a value that means nothing."""


class MusicnnNbWarning(UserWarning):
    """Something the reader should know; the result is still correct."""


class CacheWarning(MusicnnNbWarning):
    """The disk cache held a corrupt entry (recomputed and replaced) or cannot be written."""


class SizeWarning(MusicnnNbWarning):
    """An analysis whose arrays will be large (many overlapping segments): memory and disk."""
