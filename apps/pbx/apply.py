"""Apply a server's configuration: render, validate, write atomically, reload through AMI.

The ``pbx.apply_config`` task (tasks.py) calls ``run_push`` and owns the retry policy; this
module does the work and keeps the ConfigPush row current, committing each progress step on
its own so a client polling ``/api/servers/<id>/pushes/`` sees it move.

Writes are atomic per file (temporary file in the same directory, fsync, ``os.replace``, then
fsync of the directory) and only files whose bytes changed are rewritten, so Asterisk never
reads half a file and an unchanged push touches nothing. Files written but not yet reloaded are
remembered on the server (``pending_reload``): if the reload fails (server unreachable), the
next attempt or the next push reloads them even though nothing changes on disk any more.
"""
from __future__ import annotations

import logging
import os
import uuid

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.events.services import emit_event
from apps.pbx.ami import AmiActionError, AmiAuthError, AmiConnection, AmiConnectionError, AmiError, AmiTimeoutError
from apps.pbx import contact_center
from apps.pbx.models import ConfigPush, Server
from apps.pbx.render import FILES, render_server
from apps.pbx.render.confcheck import validate

logger = logging.getLogger(__name__)

# What to reload when a file changed, in this order (endpoints before the dialplan that dials them).
RELOADS: tuple[tuple[str, str, str], ...] = (
    ("pjsip.conf", "module", "res_pjsip.so"),
    ("extensions.conf", "command", "dialplan reload"),
    ("queues.conf", "module", "app_queue.so"),
    ("voicemail.conf", "module", "app_voicemail.so"),
    ("musiconhold.conf", "module", "res_musiconhold.so"),  # also when music-on-hold files came or went
    ("confbridge.conf", "module", "app_confbridge.so"),
    ("res_parking.conf", "module", "res_parking.so"),
)
FILE_MODE = 0o640  # pjsip.conf and voicemail.conf hold secrets


class Unreachable(Exception):
    """The server's AMI could not be reached: worth retrying later."""


class PushFailed(Exception):
    """A failure retrying will not fix (bad credentials, refused action, invalid config, I/O)."""


class ServerBusy(Exception):
    """Another push to the same server is running."""


def ami_timeout() -> float:
    return float(getattr(settings, "PBX_AMI_TIMEOUT", 10.0))


def connect(server: Server) -> AmiConnection:
    """A logged-in AMI session to ``server`` (caller closes it; use as a context manager)."""
    return AmiConnection(server.ami_host, server.ami_port, server.ami_username, server.ami_secret,
                         timeout=ami_timeout())


# --- progress ------------------------------------------------------------------------------------

def _set(push: ConfigPush, **fields) -> None:
    for key, value in fields.items():
        setattr(push, key, value)
    ConfigPush.objects.filter(pk=push.pk).update(**fields)


# --- files ---------------------------------------------------------------------------------------

def write_files(config_dir: str, files: dict[str, str]) -> list[str]:
    """Write the files whose content differs; returns their names (sorted)."""
    if not os.path.isdir(config_dir):
        raise PushFailed(f"config_dir {config_dir} does not exist on this worker")
    changed = []
    for name in sorted(files):
        path = os.path.join(config_dir, name)
        data = files[name].encode("utf-8")
        try:
            with open(path, "rb") as current:
                if current.read() == data:
                    continue
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            mode = FILE_MODE
        tmp = os.path.join(config_dir, f".{name}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise PushFailed(f"writing {name}: {exc.strerror or exc}") from exc
        changed.append(name)
    if changed:
        dir_fd = os.open(config_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the renames themselves survive a crash
        finally:
            os.close(dir_fd)
    return changed


# --- AMI -----------------------------------------------------------------------------------------

def reload_files(server: Server, names: list[str], on_step=None, after=None) -> list[str]:
    """Reload the modules of ``names`` over one AMI session; returns what was reloaded.
    ``after(ami)`` runs in the same session once the reloads are done."""
    steps = [(kind, target) for name, kind, target in RELOADS if name in names]
    done: list[str] = []
    target = "login"
    try:
        with connect(server) as ami:
            for index, (kind, target) in enumerate(steps):
                if on_step:
                    on_step(index, len(steps), target)
                if kind == "module":
                    ami.reload(target)
                else:
                    ami.command(target)
                done.append(target)
            if after is not None:
                target = "queue members"
                after(ami)
    except (AmiConnectionError, AmiTimeoutError) as exc:
        raise Unreachable(f"AMI {server.ami_host}:{server.ami_port}: {exc}") from exc
    except AmiAuthError as exc:
        raise PushFailed(f"AMI login refused by {server.name}: check ami_username/ami_secret") from exc
    except AmiActionError as exc:
        raise PushFailed(f"{server.name} refused {target}: {exc}") from exc
    except AmiError as exc:
        raise Unreachable(f"AMI {server.ami_host}:{server.ami_port}: {exc}") from exc
    return done


def check_connection(server: Server) -> dict:
    """Log in and ping: what the admin's "test AMI connection" shows."""
    started = timezone.now()
    try:
        with connect(server) as ami:
            ami.ping()
            version = ami.version
        elapsed = (timezone.now() - started).total_seconds() * 1000
        return {"ok": True, "ami_version": version, "latency_ms": round(elapsed, 1), "error": ""}
    except AmiAuthError:
        return {"ok": False, "ami_version": None, "latency_ms": None, "error": "login refused"}
    except AmiError as exc:
        return {"ok": False, "ami_version": None, "latency_ms": None, "error": str(exc)}


# --- the push ------------------------------------------------------------------------------------

def _lock(server_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext('pbx.apply_config'), %s)", [server_id])
        return cursor.fetchone()[0]


def _unlock(server_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(hashtext('pbx.apply_config'), %s)", [server_id])


def run_push(push: ConfigPush) -> ConfigPush:
    """One attempt. Raises Unreachable (retry later) or ServerBusy; other failures end the push."""
    connection.set_schema_to_public()
    server = Server.objects.select_related("location").get(pk=push.server_id)
    if not _lock(server.pk):
        raise ServerBusy(f"another push to {server.name} is running")
    try:
        push.refresh_from_db()
        if push.finished:  # started twice (the queued-push sweep); the other run did it
            return push
        _set(push, status=ConfigPush.Status.RUNNING, attempts=push.attempts + 1, error="",
             started_at=push.started_at or timezone.now(), stage="rendering", progress=5)
        try:
            _render_write_reload(push, server)
        except PushFailed as exc:
            finish(push, ok=False, error=str(exc))
        except (Unreachable, ServerBusy):
            raise
        except Exception as exc:  # a bug or a database error: the push must not stay "running"
            logger.exception("config push %s to %s failed unexpectedly", push.pk, server.name)
            finish(push, ok=False, error=f"internal error ({type(exc).__name__}); see the worker log")
        return push
    finally:
        _unlock(server.pk)


def _prepare_sounds(server: Server, rendered):
    """IVR prompts spoken for IVRs that lack one (apps.sounds.ivr_prompts), then the files rendered
    again from the same rows so the dialplan references them; only for servers that get sounds."""
    from apps.pbx.render import render_views
    from apps.sounds import ivr_prompts

    if not (server.sounds_dir or "").strip() or not ivr_prompts.sync(rendered.views):
        return rendered
    return render_views(rendered.views, server)


def _write_sounds(push: ConfigPush, server: Server, rendered) -> list[str]:
    """Copy the tenants' ready sounds to sounds_dir (only changed ones) before anything reloads;
    returns "musiconhold.conf" to reload when music-on-hold files came or went."""
    from apps.sounds import push as sound_push

    try:
        changed = sound_push.push(server, rendered.views)
    except sound_push.SoundsPushError as exc:
        raise PushFailed(str(exc)) from exc
    _set(push, sounds_changed=sorted(set(push.sounds_changed or []) | set(changed)))
    return ["musiconhold.conf"] if sound_push.moh_changed(changed) else []


def _render_write_reload(push: ConfigPush, server: Server) -> None:
    rendered = _prepare_sounds(server, render_server(server))
    _set(push, checksum=rendered.checksum, tenant_count=len(rendered.tenants), tenant_ids=rendered.tenant_ids,
         stage="validating", progress=30)
    if rendered.skipped:
        logger.warning("server %s: %d rows not rendered: %s", server.name, len(rendered.skipped), rendered.skipped[:10])
    problems = validate(rendered.files)
    if problems:
        logger.error("rendered configuration of %s is invalid: %s", server.name, problems[:5])
        raise PushFailed(f"rendered configuration is invalid ({len(problems)} problems): " + "; ".join(problems[:3]))
    _set(push, stage="writing", progress=40)
    changed = write_files(server.config_dir, {name: rendered.files[name] for name in FILES})
    moh_files = _write_sounds(push, server, rendered)
    pending = sorted(set(server.pending_reload or []) | set(changed) | set(moh_files))
    Server.objects.filter(pk=server.pk).update(pending_reload=pending)
    files_changed = sorted(set(push.files_changed or []) | set(changed))
    _set(push, files_changed=files_changed, stage="reloading" if pending else "no changes", progress=60)
    if pending:
        def step(index, total, target):
            _set(push, stage=f"reloading {target}", progress=60 + int(35 * index / max(total, 1)))

        synced: list[str] = []

        def sync_agents(ami):
            # app_queue reloaded: put logged-in agents in the queues they belong to now. The
            # configuration is loaded whatever happens here, so a refused action only warns.
            _set(push, stage="syncing agents", progress=95)
            try:
                synced.extend(contact_center.sync_queue_members(ami, contact_center.expected_members(rendered.views)))
            except AmiActionError as exc:
                logger.warning("server %s: queue member sync refused: %s", server.name, exc)

        reloaded = reload_files(server, pending, on_step=step,
                                after=sync_agents if "queues.conf" in pending else None)
        Server.objects.filter(pk=server.pk).update(pending_reload=[])
        _set(push, modules_reloaded=reloaded)
        if synced:
            logger.info("server %s: queue members synced: %s", server.name, ", ".join(synced[:20]))
    logger.info("configuration of %s applied: %d tenants, changed %s", server.name, len(rendered.tenants),
                ", ".join(changed) or "nothing")
    finish(push, ok=True)


@transaction.atomic
def finish(push: ConfigPush, *, ok: bool, error: str = "") -> None:
    from thirdlane.logging import mask_secrets

    error = mask_secrets(error)  # a validator message may quote a rendered line
    status = ConfigPush.Status.SUCCEEDED if ok else ConfigPush.Status.FAILED
    _set(push, status=status, error=error[:2000], finished_at=timezone.now(),
         progress=100 if ok else push.progress, stage="done" if ok else "failed")
    server = push.server
    emit_event(type="server.config_applied" if ok else "server.config_failed", data={
        "server": {"id": server.pk, "name": server.name}, "push": push.pk, "status": status,
        "files_changed": list(push.files_changed or []), "error": push.error,
    })
