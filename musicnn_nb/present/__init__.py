"""Presentation: the book's notation, plot primitives, tables and the chapter opener.
Sits on :mod:`musicnn_nb.facts` and :mod:`musicnn_nb.model`."""
