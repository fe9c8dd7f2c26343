"""The explorers: widgets that let a reader pick model, segment, unit and colour scale.
Sit on the presentation, fact and model layers; never on a chapter module."""
