"""The Textual layer: the app (app.py), its screens and widgets over the core Library
(core/library.py), and the UI-free view state they read (state/)."""
