"""One tenant's loaded rows, indexed and sorted for the renderers, and destination resolution.

Everything here is deterministic: rows are sorted by a stable key (number, priority, id) so
the same database always renders byte-identical files.
"""
from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from typing import Any

from apps.pbx.render import names, text
from apps.pbx.render.loader import TenantData

Row = dict[str, Any]


def number_key(row: Row) -> tuple[int, str]:
    return len(row["number"] or ""), row["number"] or ""


class TenantView:
    def __init__(self, data: TenantData):
        self.data = data
        self.info = data.tenant
        self.slug = data.tenant.slug
        rows = data.rows
        # Rows whose identifiers could not be rendered safely are left out (and listed), so one
        # bad row written around the services cannot block a whole server's push.
        self.skipped: list[str] = []
        self.extensions = sorted(self._usable(rows["extensions"], "extension", text.is_number), key=number_key)
        self.dids = sorted(self._usable(rows["dids"], "DID", text.is_e164), key=lambda r: r["number"])
        self.trunks = sorted((r for r in rows["trunks"] if r["enabled"] and text.host(r["host"])),
                             key=lambda r: r["id"])
        self.queues = sorted(self._usable(rows["queues"], "queue", text.is_number), key=number_key)
        self.ivrs = sorted(rows["ivrs"], key=lambda r: r["id"])
        for ivr in self.ivrs:
            if ivr["number"] and not text.is_number(ivr["number"]):
                self.skipped.append(f"{self.slug}: IVR {ivr['id']} number not rendered")
                ivr["number"] = None
        self.time_conditions = sorted(rows["time_conditions"], key=lambda r: r["id"])
        self.routes = sorted((r for r in rows["routes"] if r["enabled"]),
                             key=lambda r: (not r["is_emergency"], r["priority"], r["name"], r["id"]))
        self.ext_by_id = {r["id"]: r for r in self.extensions}
        self.queue_by_id = {r["id"]: r for r in self.queues}
        self.ivr_by_id = {r["id"]: r for r in self.ivrs}
        self.tc_by_id = {r["id"]: r for r in self.time_conditions}
        self.trunk_by_id = {r["id"]: r for r in self.trunks}
        self.schedule_by_id = {r["id"]: r for r in rows["schedules"]}
        self.agent_by_id = {r["id"]: r for r in rows["agents"]}
        # PBX features (issue 12; rendered by features.py)
        self.ring_groups = sorted(self._usable(rows.get("ring_groups", []), "ring group", text.is_number),
                                  key=number_key)
        self.rg_by_id = {r["id"]: r for r in self.ring_groups}
        self.conferences = sorted(self._usable(rows.get("conferences", []), "conference", text.is_number),
                                  key=number_key)
        self.conf_by_id = {r["id"]: r for r in self.conferences}
        self.paging_groups = sorted(self._usable(rows.get("paging_groups", []), "paging group", text.is_number),
                                    key=number_key)
        self.page_by_id = {r["id"]: r for r in self.paging_groups}
        # The objects a destination of each type (names.DESTINATION_CONTEXTS) can name, by id.
        self.targets = {"queue": self.queue_by_id, "ivr": self.ivr_by_id, "time_condition": self.tc_by_id,
                        "ring_group": self.rg_by_id, "conference": self.conf_by_id, "paging_group": self.page_by_id}
        self.parking_lots = sorted((r for r in self._usable(rows.get("parking_lots", []), "parking lot", text.is_number)
                                    if text.is_number(r["slot_start"]) and text.is_number(r["slot_end"])),
                                   key=lambda r: r["id"])
        for lot in self.parking_lots:
            lot["lot_name"] = names.parking_lot(lot["id"], self.slug)
        # Organization members reachable by site code + extension (apps.organizations), set by
        # render_views: [(site_code, tenant_slug, extension_length)], this tenant included.
        self.intersite: list = []

    def _usable(self, rows: list[Row], noun: str, check) -> list[Row]:
        out = []
        for row in rows:
            if not row.get("enabled", True):
                continue
            if check(row["number"] or ""):
                out.append(row)
            else:
                self.skipped.append(f"{self.slug}: {noun} {row['id']} has an unusable number")
        return out

    # --- related rows, grouped once --------------------------------------------------------
    @cached_property
    def route_trunks(self) -> dict[int, list[Row]]:
        """route id -> enabled trunks in failover order."""
        out: dict[int, list[Row]] = defaultdict(list)
        for link in sorted(self.data.rows["route_trunks"], key=lambda r: (r["route_id"], r["order"], r["id"])):
            trunk = self.trunk_by_id.get(link["trunk_id"])
            if trunk is not None:
                out[link["route_id"]].append(trunk)
        return out

    @cached_property
    def members(self) -> dict[int, list[Row]]:
        """queue id -> member rows sorted by (penalty, id)."""
        out: dict[int, list[Row]] = defaultdict(list)
        for member in sorted(self.data.rows["members"], key=lambda r: (r["queue_id"], r["penalty"], r["id"])):
            out[member["queue_id"]].append(member)
        return out

    @cached_property
    def ivr_options(self) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = defaultdict(list)
        for option in sorted(self.data.rows["ivr_options"], key=lambda r: (r["ivr_id"], r["digit"])):
            out[option["ivr_id"]].append(option)
        return out

    @cached_property
    def weekly_ranges(self) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = defaultdict(list)
        for row in sorted(self.data.rows["weekly_ranges"],
                          key=lambda r: (r["schedule_id"], r["start_time"], r["end_time"], r["day_of_week"])):
            out[row["schedule_id"]].append(row)
        return out

    @cached_property
    def holidays(self) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = defaultdict(list)
        for row in sorted(self.data.rows["holidays"], key=lambda r: (r["schedule_id"], r["start_date"], r["id"])):
            out[row["schedule_id"]].append(row)
        return out

    @cached_property
    def internal_numbers(self) -> set[str]:
        numbers = {r["number"] for r in self.extensions} | {r["number"] for r in self.queues}
        numbers |= {r["number"] for r in self.ring_groups} | {r["number"] for r in self.conferences}
        numbers |= {r["number"] for r in self.paging_groups} | {r["number"] for r in self.parking_lots}
        return numbers | {r["number"] for r in self.ivrs if r["number"]}

    @cached_property
    def route_patterns(self) -> list:
        from apps.pbx.render.confcheck import pattern_regex

        out = []
        for route in self.routes:
            for pattern in list(route["dial_patterns"] or []) + list(route["emergency_numbers"] or []):
                pattern = text.pattern(pattern)
                if pattern:
                    out.append(pattern_regex(pattern) if pattern.startswith("_") else pattern)
        return out

    def dialable(self, number: str) -> bool:
        """Whether ``number`` dialled from a phone of this tenant goes somewhere: an internal
        number, E.164 (the external context), or a number an outbound route matches."""
        if not number:
            return False
        if number in self.internal_numbers or (number.startswith("+") and number[1:].isdigit()):
            return True
        return any(p == number if isinstance(p, str) else p.match(number) for p in self.route_patterns)

    # --- names ------------------------------------------------------------------------------
    def ctx(self, kind: str, object_id: int | None = None) -> str:
        return names.context(self.slug, kind, object_id)

    def endpoint(self, number: str) -> str:
        return names.endpoint(number, self.slug)

    def queue_name(self, queue: Row) -> str:
        return names.queue(queue["number"], self.slug)

    def mailbox(self, number: str) -> str:
        return names.mailbox(number, self.slug)

    # --- destinations -----------------------------------------------------------------------
    def destination(self, row: Row, prefix: str) -> list[str]:
        """Dialplan applications that send the call to ``row``'s ``<prefix>`` destination.

        A destination whose target is gone or disabled renders as a noted hang-up, never as a
        jump to a name that does not exist (and never to another tenant: ids only resolve in
        this tenant's own rows).
        """
        kind = row.get(f"{prefix}_type") or ""
        target_id = row.get(f"{prefix}_id")
        if kind == "extension" and target_id in self.ext_by_id:
            return [f"Goto({self.ctx('extensions')},{self.ext_by_id[target_id]['number']},1)"]
        if kind == "voicemail" and target_id in self.ext_by_id and self.ext_by_id[target_id]["voicemail_enabled"]:
            return [f"VoiceMail({self.mailbox(self.ext_by_id[target_id]['number'])},u)", "Hangup()"]
        ctx_kind = names.DESTINATION_CONTEXTS.get(kind)
        if ctx_kind and target_id in self.targets[kind]:
            return [f"Goto({self.ctx(ctx_kind, target_id)},s,1)"]
        if kind == "external":
            number = text.dialable(row.get(f"{prefix}_number") or "")
            if number.startswith("+") and len(number) > 1:
                return [f"Goto({self.ctx('external')},{number},1)"]
        if kind in ("", "hangup"):
            return ["Hangup()"]
        return [f"NoOp({self.slug}: destination {text.label(kind)} {target_id} is missing)", "Hangup()"]
