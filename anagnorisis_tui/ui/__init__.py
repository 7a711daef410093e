"""The Textual layer: thin screens and widgets over the core facade (core/library.py)."""
