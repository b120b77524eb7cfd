"""One recording listener per PBX server: a PostgreSQL advisory lock as the lease.

Held on a connection of its own (not Django's, which may be closed and reopened between
requests), so the lease lasts exactly as long as the listener process: a crashed or killed
listener's connection closes and the lock is released at once, and a standby takes over. Even if
two listeners did record at once, nothing would be written twice (the store is idempotent); the
lease saves the duplicate work.
"""
from __future__ import annotations

import psycopg
from django.conf import settings

LEASE_NAMESPACE = 0x7E1E10  # first key of pg_try_advisory_lock(int4, int4); the second is the server id


def _dsn() -> str:
    db = settings.DATABASES["default"]
    parts = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    if db.get("PASSWORD"):
        parts["password"] = db["PASSWORD"]
    return " ".join(f"{k}={v}" for k, v in parts.items() if v)


class ServerLease:
    def __init__(self, server_id: int):
        self.server_id = server_id
        self._conn: psycopg.Connection | None = None

    def acquire(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(_dsn(), autocommit=True, application_name=f"ami-lease-{self.server_id}")
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (LEASE_NAMESPACE, self.server_id)).fetchone()
        return bool(row[0])

    def release(self) -> None:
        if self._conn is not None and not self._conn.closed:
            self._conn.close()  # closing the session releases the lock
        self._conn = None
