from thirdlane.api.errors import register_error_code

# The web process answers the stream path with this when the credential and the request are
# valid: the stream itself is served by the stream process (uvicorn thirdlane.asgi).
register_error_code("event_stream_elsewhere", 421,
                    "The event stream is served by the stream process, not this one; see stream_url.")
# The last frame of a stream the server ends (an ``stream-error`` event), never an HTTP status.
register_error_code("slow_consumer", 429,
                    "The client read its event stream slower than its events arrived; resume with Last-Event-ID.")
register_error_code("stream_closing", 503, "The stream process is shutting down; resume with Last-Event-ID.")
