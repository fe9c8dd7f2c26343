"""musicnn_nb: every intermediate of the pretrained MusiCNN, by the names of Sturm's
"Digging into MusiCNN" series, for the book of the same name.

>>> from musicnn_nb import analyse
>>> a = analyse("song.wav", model="MSD")      # cached per audio content, model, settings
>>> a.U.shape                                  # (segments, 561, 187), blog orientation
"""

__version__ = "0.1.0"

from .errors import AudioError, ModelError, MusicnnNbError, MusicnnNotInstalledError, SelectionError  # noqa: E402
from .pipeline import Analysis, analyse  # noqa: E402
from .weights import load_model  # noqa: E402

__all__ = ["Analysis", "analyse", "load_model", "AudioError", "ModelError", "MusicnnNbError",
           "MusicnnNotInstalledError", "SelectionError", "__version__"]
