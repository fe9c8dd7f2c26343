"""One module per chapter of the book: the leaves of the package. A chapter module imports
the layers below it and never another chapter module."""
