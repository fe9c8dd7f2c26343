"""The model layer: audio → M_dB → checkpoint weights → forward pass → cache → :func:`analyse`.

Imports nothing from the layers above it, and no plotting or widget library. The command
line (``python -m musicnn_nb``) sits on this layer alone.
"""
