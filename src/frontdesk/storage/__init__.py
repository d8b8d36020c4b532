"""Storage: tables, queries and migrations. Functions take a database or transaction, never an
HTTP request."""
