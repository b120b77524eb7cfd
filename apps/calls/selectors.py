"""Reads of call records: live queues, and the platform roll-up over many tenants' schemas."""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from apps.calls import live
from apps.calls.models import Call
from apps.tenants.crossschema import run_over_schemas, table

ROLLUP_COLUMNS = ("id", "linkedid", "direction", "status", "caller_number", "callee_number", "did", "queue", "agent",
                  "disposition", "started_at", "answered_at", "ended_at", "duration", "billsec")


def active_calls():
    return Call.objects.exclude(status=Call.Status.ENDED).prefetch_related("legs").order_by("started_at", "id")


def live_queues(tenant) -> list[dict]:
    """Every queue with its waiting callers (longest wait first) and its members' live state."""
    from apps.telephony.models import Queue, QueueMember

    now = timezone.now()
    waiting: dict[str, list] = {}
    for call in (Call.objects.exclude(status=Call.Status.ENDED)
                 .filter(queue_joined_at__isnull=False, queue_left_at__isnull=True).order_by("queue_joined_at")):
        waiting.setdefault(call.queue, []).append({
            "id": call.pk, "call_id": call.linkedid, "caller_number": call.caller_number,
            "caller_name": call.caller_name, "joined_at": call.queue_joined_at,
            "waiting_seconds": max(0, round((now - call.queue_joined_at).total_seconds()))})
    states = live.members(tenant)
    members = (QueueMember.objects.select_related("extension__agent", "agent__extension")
               .order_by("queue_id", "penalty", "pk"))
    by_queue: dict[int, list] = {}
    for member in members:
        ext = member.extension or (member.agent.extension if member.agent_id else None)
        number = ext.number if ext else ""
        interface = f"PJSIP/{number}-{tenant.slug}" if number else ""
        by_queue.setdefault(member.queue_id, []).append((member, number, interface))
    out = []
    for queue in Queue.objects.order_by("number"):
        rows = []
        for member, number, interface in by_queue.get(queue.pk, []):
            state = states.get(f"{queue.number}|{interface}", {})
            agent = member.agent if member.agent_id else getattr(member.extension, "agent", None)
            rows.append({"extension": number, "interface": interface,
                         "agent": {"id": agent.pk, "name": agent.name, "state": agent.state} if agent else None,
                         "status": state.get("status"), "paused": bool(state.get("paused")),
                         "paused_reason": state.get("paused_reason", ""), "in_call": bool(state.get("in_call"))})
        out.append({"number": queue.number, "name": queue.name, "waiting": waiting.get(queue.number, []),
                    "members": rows})
    return out


def rollup(tenants, *, started_after: datetime | None = None, started_before: datetime | None = None,
           direction: str = "", disposition: str = "", limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    """Calls of many tenants, newest first, in one statement over their schemas (and one count)."""
    tenants = list(tenants)
    by_schema = {t.schema_name: t.slug for t in tenants}
    where, where_params = [], []
    for column, op, value in (("started_at", ">=", started_after), ("started_at", "<", started_before),
                              ("direction", "=", direction), ("disposition", "=", disposition)):
        if value:
            where.append(f"{column} {op} %s")
            where_params.append(value)
    condition = (" WHERE " + " AND ".join(where)) if where else ""
    cols = ", ".join(ROLLUP_COLUMNS)

    def build_rows(schemas):
        parts, params = [], []
        for schema in schemas:
            parts.append(f"SELECT %s::text AS tenant, {cols} FROM {table(Call, schema)}{condition}")
            params += [by_schema[schema], *where_params]
        sql = " UNION ALL ".join(parts) + " ORDER BY started_at DESC, tenant, id DESC LIMIT %s OFFSET %s"
        return sql, [*params, limit, offset]

    def build_count(schemas):
        parts, params = [], []
        for schema in schemas:
            parts.append(f"SELECT count(*) AS n FROM {table(Call, schema)}{condition}")
            params += where_params
        return "SELECT coalesce(sum(n), 0) FROM (" + " UNION ALL ".join(parts) + ") c", params

    tables = [Call._meta.db_table]
    rows = run_over_schemas(build_rows, list(by_schema), tables)
    total = run_over_schemas(build_count, list(by_schema), tables)
    names = ("tenant", *ROLLUP_COLUMNS)
    items = [dict(zip(names, row)) for row in rows]
    for item in items:
        item["call_id"] = item.pop("linkedid")
    return items, int(total[0][0]) if total else 0
