"""The statements behind agent statistics and call counters. Each request is ONE statement.

Buckets are cut with PostgreSQL's ``date_trunc(unit, t, tz)``: it truncates in the zone and
gives the bucket's start as an instant, so a local day is midnight to midnight (23 or 25 hours on
DST days) and the hour clocks repeat in autumn is two buckets, not one. Durations that span
buckets (an agent logged in over midnight) are cut with ``series``, which steps hours as real
hours and days/weeks in local time (``AT TIME ZONE``), landing on the same starts. ``%(tz)s``,
``%(start)s`` and ``%(end)s`` are parameters; the unit is one of three literals chosen in code.
Tables are schema-qualified, so a statement does not depend on the search path and the platform
roll-up can repeat it per schema in one ``UNION ALL``.
"""
from __future__ import annotations

from apps.tenants.crossschema import qn

UNITS = ("hour", "day", "week")


def _unit(interval: str) -> str:
    if interval not in UNITS:  # the unit is spliced into the SQL: only these three
        raise ValueError(interval)
    return interval


def bucket(expr: str, interval: str) -> str:
    return f"date_trunc('{_unit(interval)}', {expr}, %(tz)s)"


def bucket_end(start: str, interval: str) -> str:
    unit = _unit(interval)
    if unit == "hour":
        return f"({start} + interval '1 hour')"
    return f"((({start}) AT TIME ZONE %(tz)s + interval '1 {unit}') AT TIME ZONE %(tz)s)"


def series_start(lo: str, interval: str) -> str:
    """The first ``b_start`` of ``series(lo, ...)``: the bucket ``lo`` is in."""
    unit = _unit(interval)
    if unit == "hour":
        return bucket(lo, unit)
    return f"({bucket(lo, unit)} AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s"


def series_next(first: str, interval: str) -> str:
    """The value ``series`` steps to after ``first`` (a ``series_start``), in its own terms."""
    unit = _unit(interval)
    if unit == "hour":
        return f"({first} + interval '1 hour')"
    return f"({first} AT TIME ZONE %(tz)s + interval '1 {unit}')"


def series_last(hi: str, interval: str) -> str:
    """The bound ``series(..., hi, ...)`` stops at, in its own terms: it has a second bucket when
    ``series_next(first) <= series_last(hi)``."""
    unit = _unit(interval)
    if unit == "hour":
        return f"(({hi}) - interval '1 microsecond')"
    return f"((({hi}) - interval '1 microsecond') AT TIME ZONE %(tz)s)"


def series(lo: str, hi: str, interval: str) -> str:
    """A row source ``(b_start)`` of the buckets that [lo, hi) touches (hi > lo)."""
    unit = _unit(interval)
    if unit == "hour":
        return (f"(SELECT g AS b_start FROM generate_series({bucket(lo, unit)}, ({hi}) - interval '1 microsecond',"
                f" interval '1 hour') g)")
    return (f"(SELECT g AT TIME ZONE %(tz)s AS b_start FROM generate_series({bucket(lo, unit)} AT TIME ZONE %(tz)s,"
            f" (({hi}) - interval '1 microsecond') AT TIME ZONE %(tz)s, interval '1 {unit}') g)")


def t(schema: str, table: str) -> str:
    return f"{qn(schema)}.{qn(table)}"


def queue_call_rows(schema: str, where: str) -> str:
    """Rows (call_id, joined_at, queue, agent, members, talk, hold, wrapup, wait) of the queue calls
    that ``where`` (on ``c``, the calls) selects: what agent statistics count of each call.

    ``members``: each extension rung for the call once (legs started after it joined the queue,
    before the caller left it), the agent too when its leg is missing (a call rebuilt after a
    restart: answered when it left the queue). For the agent (``agent <> ''``): ``talk`` its
    connected time less ``hold``, ``wrapup`` the queue's wrap-up time, ``wait`` seconds from joining
    to the answer; NULL for unanswered calls. A call still up counts up to now.

    Ended calls are summarised once, when they end (``apps.reports.queue_calls``), into
    ``reports_queuecall``; statistics read those and run this only for calls still up."""
    call, leg, queues = t(schema, "calls_call"), t(schema, "calls_callleg"), t(schema, "telephony_queue")
    return f"""SELECT id AS call_id, joined AS joined_at, queue, agent,
               CASE WHEN agent <> '' AND agent_leg IS NOT TRUE THEN array_append(rung, agent)
                    ELSE coalesce(rung, '{{}}') END::varchar(32)[] AS members,
               CASE WHEN agent <> '' THEN greatest(coalesce(CASE WHEN agent_leg THEN extract(epoch FROM connected)
                                                                 ELSE extract(epoch FROM coalesce(ended_at, now()) - left_at)
                                                            END, 0) - coalesce(hold, 0), 0) END::float8 AS talk,
               CASE WHEN agent <> '' THEN coalesce(hold, 0) END::float8 AS hold,
               CASE WHEN agent <> '' THEN wrapup END::integer AS wrapup,
               CASE WHEN agent <> '' THEN extract(epoch FROM coalesce(answered_at, left_at) - joined) END::float8 AS wait
        FROM (  -- the call with its members' legs folded; the agent's legs summed as intervals (exact)
          SELECT c.id, c.queue, c.agent, c.queue_joined_at AS joined, c.queue_left_at AS left_at, c.ended_at,
                 coalesce(q.wrapup_time, 0) AS wrapup,
                 array_agg(DISTINCT l.extension) FILTER (WHERE l.extension IS NOT NULL) AS rung,
                 bool_or(l.extension = c.agent) AS agent_leg,
                 min(l.answered_at) FILTER (WHERE l.extension = c.agent) AS answered_at,
                 sum(coalesce(l.ended_at, now()) - l.answered_at)
                   FILTER (WHERE l.extension = c.agent AND l.answered_at IS NOT NULL) AS connected,
                 sum(l.hold_seconds) FILTER (WHERE l.extension = c.agent)
                   + coalesce(extract(epoch FROM sum(coalesce(l.ended_at, now()) - l.held_since)
                                                   FILTER (WHERE l.extension = c.agent)), 0) AS hold
          FROM {call} c
          LEFT JOIN {leg} l ON l.call_id = c.id AND l.kind = 'extension' AND l.extension <> ''
            AND l.uniqueid <> c.linkedid AND l.started_at >= c.queue_joined_at
            AND l.started_at <= coalesce(c.queue_left_at, c.ended_at, 'infinity')
          LEFT JOIN {queues} q ON q.number = c.queue
          WHERE c.queue <> '' AND c.queue_joined_at IS NOT NULL AND {where}
          GROUP BY c.id, q.id
        ) g"""


def agent_stats(schema: str, interval: str, *, queue: bool, by_queue: bool) -> str:
    """Rows (level, bucket, extension, agent_id, agent_name, queue, offered, answered, within_sl,
    talk, hold, wrapup, logged_in, by_reason) for one tenant's schema.

    level: ``agent`` (all queues), ``agent_queue`` and ``queue`` (every agent; by_queue only)."""
    facts, log = t(schema, "reports_queuecall"), t(schema, "reports_agentstatechange")
    ext, agent = t(schema, "telephony_extension"), t(schema, "telephony_agent")
    queue_cond = "AND queue = %(queue)s" if queue else ""
    live = (f"c.status <> 'ended' AND c.queue_joined_at >= %(start)s AND c.queue_joined_at < %(end)s"
            + (" AND c.queue = %(queue)s" if queue else ""))
    sets = "(bucket, extension), (bucket, extension, queue)" if by_queue else "(bucket, extension)"
    join_state = "LEFT JOIN" if queue else "FULL JOIN"
    queue_cols = "queue, GROUPING(queue) AS all_queues" if by_queue else "NULL::text AS queue, 1 AS all_queues"
    by_q = ", queue" if by_queue else ""  # without the breakdown, offers and answers are counted per agent only
    cm_body = f"""  -- all queues, and each queue
      SELECT bucket, extension, {queue_cols}, sum(offered)::bigint AS offered, sum(answered)::bigint AS answered,
             sum(within_sl)::bigint AS within_sl, sum(talk) AS talk, sum(hold) AS hold, sum(wrapup)::bigint AS wrapup
      FROM cq GROUP BY GROUPING SETS ({sets})""" if by_queue else """
      SELECT bucket, extension, queue, 1 AS all_queues, offered, answered, within_sl, talk, hold, wrapup FROM cq"""
    queue_rows = f"""
      UNION ALL
      SELECT 'queue', qt.bucket, NULL, qt.queue, qt.offered, qt.answered, qt.within_sl, qt.talk, qt.hold, qt.wrapup,
             NULL::float8, NULL::jsonb
      FROM qt""" if by_queue else ""
    queue_cte = f""",
    qt AS (  -- the queue as a whole: every call that joined it, answered or not
      SELECT bucket, queue, count(*) AS offered, count(*) FILTER (WHERE agent <> '') AS answered,
             count(*) FILTER (WHERE within_sl) AS within_sl, sum(talk) AS talk, sum(hold) AS hold,
             sum(wrapup) AS wrapup
      FROM lc GROUP BY bucket, queue
    )""" if by_queue else ""
    return f"""
    WITH RECURSIVE
    lc AS (  -- each queue call offered in the range (by the time it joined the queue): ended calls from their
             -- summaries (written when they ended), calls still up worked out from their legs now
      SELECT {bucket("joined_at", interval)} AS bucket, queue, agent, members, talk, hold, wrapup,
             (agent <> '' AND wait <= %(sl)s) AS within_sl
      FROM (
        SELECT joined_at, queue, agent, members, talk, hold, wrapup, wait FROM {facts}
        WHERE joined_at >= %(start)s AND joined_at < %(end)s {queue_cond}
        UNION ALL
        SELECT joined_at, queue, agent, members, talk, hold, wrapup, wait FROM ({queue_call_rows(schema, live)}) up
      ) x
    ),
    co AS (  -- offers: a call and a member rung for it, counted per bucket and member (and queue)
      SELECT bucket, extension{by_q}, count(*) AS offered
      FROM (SELECT bucket, queue, unnest(members) AS extension FROM lc) m GROUP BY bucket, extension{by_q}
    ),
    ca AS (  -- answered calls: the agent's figures per bucket and agent (and queue)
      SELECT bucket, agent{by_q}, count(*) AS answered, count(*) FILTER (WHERE within_sl) AS within_sl,
             sum(talk) AS talk, sum(hold) AS hold, sum(wrapup) AS wrapup
      FROM lc WHERE agent <> '' GROUP BY bucket, agent{by_q}
    ),
    cq AS (  -- (every agent was offered the calls it answered)
      SELECT co.bucket, co.extension, {"co.queue" if by_queue else "NULL::text AS queue"}, co.offered,
             coalesce(ca.answered, 0) AS answered, coalesce(ca.within_sl, 0) AS within_sl, ca.talk, ca.hold, ca.wrapup
      FROM co LEFT JOIN ca ON ca.bucket = co.bucket AND ca.agent = co.extension{" AND ca.queue = co.queue" if by_queue else ""}
    ),
    cm AS ({cm_body}
    ){queue_cte},
    ag(agent_id) AS (  -- every agent with a history: a loose scan of the (agent_id, at) index, one probe each
      (SELECT agent_id FROM {log} ORDER BY agent_id LIMIT 1)
      UNION ALL
      SELECT (SELECT l.agent_id FROM {log} l WHERE l.agent_id > ag.agent_id ORDER BY l.agent_id LIMIT 1)
      FROM ag WHERE ag.agent_id IS NOT NULL
    ),
    sl AS (  -- state history: the changes in the range and the state each agent was in at its start
      SELECT agent_id, extension, state, pause_reason, at, id FROM {log} WHERE at >= %(start)s AND at < %(end)s
      UNION ALL
      SELECT p.* FROM ag CROSS JOIN LATERAL (
        SELECT l.agent_id, l.extension, l.state, l.pause_reason, l.at, l.id FROM {log} l
        WHERE l.agent_id = ag.agent_id AND l.at < %(start)s ORDER BY l.at DESC, l.id DESC LIMIT 1) p
    ),
    iv AS (  -- each state held from one change to the agent's next, cut to the range (and to now), and the
             -- bucket it starts in
      SELECT extension, state, pause_reason, s, e, {series_start("s", interval)} AS b_start
      FROM (SELECT extension, state, pause_reason, greatest(at, %(start)s) AS s,
                   least(coalesce(lead(at) OVER (PARTITION BY agent_id ORDER BY at, id), now()), now(), %(end)s) AS e
            FROM sl) w
      WHERE state <> 'logged_out' AND extension <> '' AND e > s
    ),
    st AS (  -- cut at the bucket edges: most states start and end in one bucket, the others get a series
      SELECT b_start AS bucket, extension, state, pause_reason,
             least(e, {bucket_end("b_start", interval)}) - greatest(s, b_start) AS held
      FROM iv WHERE {series_next("b_start", interval)} > {series_last("e", interval)}
      UNION ALL
      SELECT b.b_start, iv.extension, iv.state, iv.pause_reason,
             least(iv.e, {bucket_end("b.b_start", interval)}) - greatest(iv.s, b.b_start)
      FROM iv CROSS JOIN LATERAL {series("iv.s", "iv.e", interval)} b
      WHERE {series_next("iv.b_start", interval)} <= {series_last("iv.e", interval)}
    ),
    sr AS (  -- seconds summed as intervals (exact), turned into seconds once per group
      SELECT bucket, extension, state, pause_reason, extract(epoch FROM sum(held)) AS secs FROM st GROUP BY 1, 2, 3, 4
    ),
    sa AS (  -- logged-in time includes paused time; pauses by reason ('' = no reason given)
      SELECT bucket, extension, sum(secs) AS logged_in,
             coalesce(jsonb_object_agg(pause_reason, secs) FILTER (WHERE state = 'paused'), '{{}}'::jsonb) AS by_reason
      FROM sr GROUP BY 1, 2
    ),
    rows AS (
      SELECT 'agent' AS level, coalesce(cm.bucket, sa.bucket) AS bucket, coalesce(cm.extension, sa.extension)
               AS extension, NULL::text AS queue, coalesce(cm.offered, 0) AS offered,
             coalesce(cm.answered, 0) AS answered, coalesce(cm.within_sl, 0) AS within_sl,
             coalesce(cm.talk, 0) AS talk, coalesce(cm.hold, 0) AS hold, coalesce(cm.wrapup, 0) AS wrapup,
             coalesce(sa.logged_in, 0)::float8 AS logged_in, coalesce(sa.by_reason, '{{}}'::jsonb) AS by_reason
      FROM (SELECT * FROM cm WHERE all_queues = 1) cm
      {join_state} sa ON sa.bucket = cm.bucket AND sa.extension = cm.extension
      UNION ALL
      SELECT 'agent_queue', bucket, extension, queue, offered, answered, within_sl, talk, hold, wrapup,
             NULL::float8, NULL::jsonb
      FROM cm WHERE all_queues = 0{queue_rows}
    )
    SELECT r.level, r.bucket, {bucket_end("r.bucket", interval)} AS bucket_end, r.extension, a.id, a.name,
           r.queue, r.offered, r.answered, r.within_sl, r.talk, r.hold, r.wrapup, r.logged_in, r.by_reason
    FROM rows r
    LEFT JOIN {ext} e ON e.number = r.extension
    LEFT JOIN {agent} a ON a.extension_id = e.id
    """


def agent_order(alias: str = "") -> str:
    """The rows' order (a total one: a row is one level, bucket, extension and queue), over the
    output columns of ``agent_stats``: appended to it, or applied to it as a subquery for a page."""
    a = f"{alias}." if alias else ""
    return (f"ORDER BY {a}bucket, CASE {a}level WHEN 'agent' THEN 0 WHEN 'agent_queue' THEN 1 ELSE 2 END, "
            f"{a}extension NULLS LAST, {a}queue NULLS FIRST")


def agent_stats_page(statement: str) -> str:
    """One page of ``statement``'s rows (``%(limit)s``, ``%(offset)s``) and the count of them all,
    still one statement: a page past the end is one row of NULLs with the count."""
    return f"""
    WITH r AS ({statement})
    SELECT p.*, t.total FROM (SELECT count(*) AS total FROM r) t
    LEFT JOIN LATERAL (SELECT * FROM r {agent_order()} LIMIT %(limit)s OFFSET %(offset)s) p ON true
    {agent_order("p")}
    """


COUNTER_DIMENSIONS = {15: "total", 7: "direction", 11: "disposition", 3: "direction_disposition", 13: "trunk",
                      14: "did"}


def call_counters(schema: str, interval: str, *, tenant_param: str | None = None) -> str:
    """Rows (tenant?, dimension, bucket, bucket_end, direction, disposition, trunk, did, calls, answered,
    billsec, peak_concurrent) for one tenant's schema. ``tenant_param`` adds a first column
    holding that parameter (the platform roll-up names each schema's rows)."""
    call = t(schema, "calls_call")
    tenant_col = f"%({tenant_param})s::text AS tenant, " if tenant_param else ""
    return f"""
    SELECT * FROM (
    WITH
    cc AS (  -- ended calls, by the time they started
      SELECT c.direction, c.disposition, c.trunk, c.did, coalesce(c.billsec, 0) AS billsec,
             {bucket("c.started_at", interval)} AS bucket
      FROM {call} c
      WHERE c.started_at >= %(start)s AND c.started_at < %(end)s AND c.status = 'ended'
    ),
    agg AS (
      SELECT bucket, direction, disposition, trunk, did, GROUPING(direction, disposition, trunk, did) AS g,
             count(*) AS calls, count(*) FILTER (WHERE disposition = 'answered') AS answered, sum(billsec) AS billsec
      FROM cc
      GROUP BY GROUPING SETS ((bucket), (bucket, direction), (bucket, disposition), (bucket, direction, disposition),
                             (bucket, trunk), (bucket, did))
    ),
    ev AS (  -- +1 when a call starts, -1 when it ends, 0 at each bucket's start (the level carried in)
      SELECT c.started_at AS at, 1 AS d FROM {call} c
      WHERE c.started_at < %(end)s AND (c.started_at >= %(start)s OR c.ended_at > %(start)s OR c.ended_at IS NULL)
      UNION ALL
      SELECT c.ended_at, -1 FROM {call} c
      WHERE c.ended_at > %(start)s AND c.started_at < %(end)s
      UNION ALL
      SELECT greatest(b.b_start, %(start)s), 0 FROM {series("%(start)s::timestamptz", "%(end)s::timestamptz", interval)} b
    ),
    lv AS (  -- ends before starts at the same instant: a call that ends as another starts is not overlap
      SELECT at, sum(d) OVER (ORDER BY at, d ROWS UNBOUNDED PRECEDING) AS level FROM ev
    ),
    peak AS (  -- levels outside the range fall in the NULL group, never joined (no filter: the planner
               -- then sees every level and hashes the few buckets instead of sorting the levels again)
      SELECT CASE WHEN at >= %(start)s AND at < %(end)s THEN {bucket("at", interval)} END AS bucket,
             max(level) AS peak
      FROM lv GROUP BY 1
    ),
    b AS ({series("%(start)s::timestamptz", "%(end)s::timestamptz", interval)})
    SELECT {tenant_col}'total' AS dimension, b.b_start AS bucket, {bucket_end("b.b_start", interval)} AS bucket_end,
           NULL::text AS direction, NULL::text AS disposition, NULL::text AS trunk, NULL::text AS did,
           coalesce(a.calls, 0) AS calls, coalesce(a.answered, 0) AS answered, coalesce(a.billsec, 0) AS billsec,
           coalesce(p.peak, 0) AS peak_concurrent
    FROM b LEFT JOIN agg a ON a.bucket = b.b_start AND a.g = 15 LEFT JOIN peak p ON p.bucket = b.b_start
    UNION ALL
    SELECT {tenant_col}CASE a.g {" ".join(f"WHEN {g} THEN '{name}'" for g, name in COUNTER_DIMENSIONS.items())} END,
           a.bucket, {bucket_end("a.bucket", interval)}, a.direction, a.disposition, a.trunk, a.did, a.calls,
           a.answered, a.billsec, NULL
    FROM agg a WHERE a.g <> 15 AND NOT (a.g = 13 AND a.trunk = '') AND NOT (a.g = 14 AND a.did = '')
    ) counters
    """


COUNTER_ORDER = ("ORDER BY {tenant}bucket, CASE dimension WHEN 'total' THEN 0 WHEN 'direction' THEN 1 "
                 "WHEN 'disposition' THEN 2 WHEN 'direction_disposition' THEN 3 WHEN 'trunk' THEN 4 ELSE 5 END, "
                 "direction NULLS FIRST, disposition NULLS FIRST, trunk NULLS FIRST, did NULLS FIRST")
