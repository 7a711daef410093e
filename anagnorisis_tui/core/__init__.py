"""The UI-free core. `library.Library` composes one service per subpackage:

- `base`: settings, paths, schema, connections, progress, ratings table
- `catalogue`: walking and scanning folders, image facts, thumbnails
- `semantic`: the CLIP model and engine, vectors, the index, search
- `views`: paged, filtered, sorted views of the catalogue
- `duplicates`: perceptual hashes, groups, actions on files that lose nothing
- `evaluator`: the personal evaluator, predictions, rate-next, ratings I/O

Nothing under this package imports Textual or Rich, and torch is imported only inside the
embedding engine, lazily, when a model is needed (import-linter contracts and
tests/unit/test_import_hygiene.py prove it). Errors meant for a user derive from
`errors.UserError`.
"""
