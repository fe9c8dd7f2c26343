"""The explorers: one widget for all seven kinds (input, taggram, segmentation, unit, midend,
backend, collection) that lets a reader pick model, segment, unit, colour scale, tag and row,
computed in the browser (``js/src/explorer.js``) in the book and in Jupyter alike, and the
data and static figures behind it. Sit on the presentation, fact and model layers; never on
a chapter module."""
