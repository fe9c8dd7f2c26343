"""Chapter-neutral facts about the weights and the intermediates (NumPy only), each concept
once with its criterion, parametrised by layer. Sits on :mod:`musicnn_nb.model`."""
