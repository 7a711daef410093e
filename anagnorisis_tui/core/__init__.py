"""The UI-free core: scanning, hashing, embeddings, index, search, filters, evaluator, database.

Nothing under this package imports Textual or Rich (tests/unit/test_import_hygiene.py proves it),
and torch is imported only inside the embedding code, lazily, when a model is needed.
"""
