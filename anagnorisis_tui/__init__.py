"""anagnorisis-tui: search, filter, de-duplicate and rate your image library from a terminal."""

__version__ = "0.1.0"
