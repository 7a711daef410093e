"""The base every service stands on: settings (config), data-dir paths, the SQLite schema and its
migrations (db), per-thread connections, the progress/cancel protocol, file-name round-tripping
(fsnames), content hashing and the ratings table. It imports nothing else of the core.
"""
