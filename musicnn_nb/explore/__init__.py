"""The explorers: the widget that lets a reader pick model, segment, unit and colour scale,
computed in the browser (``js/src/explorer.js``) in the book and in Jupyter alike, and the
data and static figures behind it. Sit on the presentation, fact and model layers; never on
a chapter module."""
