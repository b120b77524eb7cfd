#!/bin/sh
# Entrypoint of the portal image: the first argument names the process to run.
set -eu

cmd="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$cmd" in
  web)
    extra=""
    # gunicorn >= 25 opens a control socket under $HOME; the portal does not use it.
    if python -c "from gunicorn.config import KNOWN_SETTINGS as K; import sys; sys.exit(not any(s.name == 'control_socket' for s in K))" 2>/dev/null; then
      extra="--no-control-socket"
    fi
    # shellcheck disable=SC2086
    exec gunicorn thirdlane.wsgi \
      --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${WEB_WORKERS:-2}" --threads "${WEB_THREADS:-4}" \
      --access-logfile - --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
      $extra "$@"
    ;;
  stream)
    # The real-time event stream (/api/events/<tenant>/stream): one coroutine per client, so one
    # process holds hundreds of streams. Each worker process reads the outbox once for its clients.
    exec uvicorn thirdlane.asgi:application \
      --host 0.0.0.0 --port "${STREAM_PORT:-8001}" --workers "${STREAM_WORKERS:-1}" \
      --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
      --timeout-graceful-shutdown "${STREAM_SHUTDOWN_SECONDS:-5}" --no-access-log "$@"
    ;;
  worker)
    exec celery -A thirdlane worker -l "${CELERY_LOG_LEVEL:-info}" \
      --concurrency "${WORKER_CONCURRENCY:-2}" "$@"
    ;;
  beat)
    exec celery -A thirdlane beat -l "${CELERY_LOG_LEVEL:-info}" \
      --schedule "${CELERY_BEAT_SCHEDULE_FILE:-/tmp/celerybeat-schedule}" "$@"
    ;;
  ami-listener|ami_listen)
    exec python manage.py ami_listen "$@"
    ;;
  agi|agi_serve)
    exec python manage.py agi_serve "$@"
    ;;
  migrate|bootstrap)
    exec python manage.py bootstrap "$@"
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  *)
    exec "$cmd" "$@"
    ;;
esac
