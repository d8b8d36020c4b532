"""Schema migrations, applied in order of their number; each module names what it does.

A migration module defines ``statements(dialect) -> list[str]``. Applied versions are kept in
``schema_migrations``; a migration runs in one transaction and is never edited once released.
"""
