"""The root of ktstr's own exceptions.

Every error ktstr raises on purpose (bad input, a missing tool, an engine that cannot run)
derives from KtstrError, so an entry point catches exactly "ours" and shows its message,
while a bug (a TypeError, a KeyError) still surfaces with its traceback. Each subclass
also keeps the built-in base it had (ValueError, OSError, ...) for callers that catch that.
"""


class KtstrError(Exception):
    """An error with a message meant for the user: what was wrong and how to fix it."""
