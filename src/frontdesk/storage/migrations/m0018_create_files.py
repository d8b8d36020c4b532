"""Files sent in conversations: one row per upload, its bytes where the data lives.

``files`` describes an upload: who sent it (``uploader_id``, ``uploader_kind``), and, once a
message carries it, the conversation (``request_id``) and message (``message_id``) it belongs
to. ``variants`` lists what is stored: ``original`` always, ``thumbnail`` for images.

``file_chunks`` holds the bytes on PostgreSQL, in chunks of at most 256 KiB per row, so
every process sharing the database serves every file and none is read whole into memory.
With SQLite the bytes are files under the data directory and the table stays empty.
"""

from __future__ import annotations


def statements(dialect: str) -> list[str]:
    blob = "BYTEA" if dialect == "postgresql" else "BLOB"
    return [
        "CREATE TABLE files ("
        " id TEXT PRIMARY KEY,"
        " project_id TEXT NOT NULL REFERENCES projects(id),"
        " uploader_id TEXT NOT NULL,"
        " uploader_kind TEXT NOT NULL,"
        " request_id TEXT,"
        " message_id TEXT,"
        " name TEXT NOT NULL,"
        " content_type TEXT NOT NULL,"
        " size BIGINT NOT NULL,"
        " width INTEGER,"
        " height INTEGER,"
        " variants TEXT NOT NULL,"
        " created_at BIGINT NOT NULL)",
        "CREATE INDEX files_by_request ON files (request_id)",
        "CREATE INDEX files_by_uploader ON files (project_id, uploader_id)",
        "CREATE INDEX files_unbound ON files (created_at) WHERE request_id IS NULL",
        "CREATE TABLE file_chunks ("
        " file_id TEXT NOT NULL,"
        " variant TEXT NOT NULL,"
        " seq INTEGER NOT NULL,"
        f" data {blob} NOT NULL,"
        " PRIMARY KEY (file_id, variant, seq))",
    ]
