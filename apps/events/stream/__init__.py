"""The real-time event stream: ``GET /api/events/<tenant>/stream`` as server-sent events.

Served by its own ASGI process (``uvicorn thirdlane.asgi``), never by a sync web worker:

- ``api/views.py`` is the handshake, a normal DRF view (authentication, scope, rate limit,
  ``types`` and ``Last-Event-ID`` validation). The web process runs it too and, when everything
  is valid, answers 421 ``event_stream_elsewhere`` naming where the stream is served.
- ``asgi.py`` runs that handshake in a thread, then streams.
- ``hub.py`` is one poller and fan-out per process: a single task reads new outbox rows (nudged
  through Redis pub/sub after each commit, polling as a fallback) and hands each event's frame
  to the in-memory queue of every matching client. Clients never touch the database while live.
- ``outbox.py`` decides which outbox ids are final ("the horizon"): ids are taken at INSERT
  but transactions commit in any order, so an id is only passed once no transaction that could
  still commit a lower one is running (see ``Horizon``).
- ``nudge.py`` publishes the after-commit nudge.
"""
