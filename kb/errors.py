"""Domain errors: each kind of failure one class, turned into a user message at the edge."""


class KbError(Exception):
    """A failure the user can act on; its message is shown as is."""


class IndexMissing(KbError):
    """No index has been built yet."""


class IndexBusy(KbError):
    """Another process holds the index writer lock."""


class ScaffoldError(KbError):
    """`kb new` could not create the file."""


class QueryTooBroad(KbError):
    """A query would read too much of the index (a range over most of its words)."""


class IndexDamaged(KbError):
    """A file of the live index is missing, cut short or changed since it was written."""
