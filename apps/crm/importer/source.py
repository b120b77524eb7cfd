"""The uploaded file: stored as 1 MiB bytea chunks, streamed back as a binary file object."""
from __future__ import annotations

import io
from typing import Iterable, Iterator

from django.db import connection

CHUNK_BYTES = 1024 * 1024


def iter_upload(upload, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Chunks of a Django UploadedFile, bytes, or any binary file object."""
    if isinstance(upload, (bytes, bytearray, memoryview)):
        data = bytes(upload)
        for start in range(0, len(data), chunk_size):
            yield data[start:start + chunk_size]
        return
    if hasattr(upload, "chunks"):
        upload.seek(0)
        yield from _rechunk(upload.chunks(chunk_size), chunk_size)
        return
    upload.seek(0)
    while True:
        block = upload.read(chunk_size)
        if not block:
            return
        yield block


def _rechunk(blocks: Iterable[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for block in blocks:
        buffer += block
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


def store_chunks(job_id: int, chunks: Iterable[bytes]) -> int:
    """Write the file into the job's chunks table; returns the size in bytes. Binary COPY: an
    INSERT would send each MiB as a bytea literal (Django's client-side binding escapes it to 2 MB
    of hex the server parses back): 0.2 s for a 12 MB file, against ~0.04 s this way."""
    size = 0
    with connection.cursor() as cursor:
        with cursor.copy("COPY crm_importfilechunk (job_id, seq, data) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int4", "bytea"])
            for seq, chunk in enumerate(chunks):
                copy.write_row((job_id, seq, chunk))
                size += len(chunk)
    return size


def iter_stored(job_id: int) -> Iterator[bytes]:
    """The stored chunks in order, one query per chunk (memory: one chunk)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM crm_importfilechunk WHERE job_id = %s ORDER BY seq", [job_id])
        seqs = [row[0] for row in cursor.fetchall()]
        for seq in seqs:
            cursor.execute("SELECT data FROM crm_importfilechunk WHERE job_id = %s AND seq = %s", [job_id, seq])
            yield bytes(cursor.fetchone()[0])


class ChunkStream(io.RawIOBase):
    """A readable raw stream over an iterator of byte chunks (wrap in BufferedReader)."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self._current = b""
        self._pos = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._pos >= len(self._current):
            try:
                self._current = next(self._chunks)
            except StopIteration:
                return 0
            self._pos = 0
        n = min(len(buffer), len(self._current) - self._pos)
        buffer[:n] = self._current[self._pos:self._pos + n]
        self._pos += n
        self.bytes_read += n
        return n
