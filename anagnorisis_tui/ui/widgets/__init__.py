"""Reusable widgets, one per file; the thumbnail grid is the package grid/."""
