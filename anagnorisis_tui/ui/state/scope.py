"""Scope: the part of the library a view shows (app state: the Library screen's folder tree
chooses it, the Search screen searches within it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    root: str | None  # None: every root
    folder: str | None  # relative to root, None: the whole root
