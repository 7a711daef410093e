"""The one base class for errors a person reads.

Every error the core raises *to a user* (a bad folder, a query that does not parse, a model that
cannot be had, a filter out of range) derives from `UserError`, and its message is written for
that person: what went wrong and, where there is one, the fix. The CLI prints it as
`error: <message>`; the app shows it as a notice. Anything else that escapes the core is a bug.
"""

from __future__ import annotations


class UserError(Exception):
    """A failure whose message is meant for the person using the app or the CLI."""
