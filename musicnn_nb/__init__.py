"""musicnn_nb: every intermediate of the pretrained MusiCNN, by the names of Sturm's
"Digging into MusiCNN" series, for the book of the same name.

>>> from musicnn_nb import analyse
>>> a = analyse("song.wav", model="MSD")      # cached per audio content, model, settings
>>> a.U.shape                                  # (segments, 561, 187), blog orientation
"""

__version__ = "0.1.0"

from musicnn_nb.model.errors import AudioError, ModelError, MusicnnNbError, MusicnnNotInstalledError, SelectionError
from musicnn_nb.model.pipeline import Analysis, analyse
from musicnn_nb.model.weights import load_model

__all__ = [
           "Analysis",
           "AudioError",
           "ModelError",
           "MusicnnNbError",
           "MusicnnNotInstalledError",
           "SelectionError",
           "__version__",
           "analyse",
           "load_model",
]
