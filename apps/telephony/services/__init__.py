"""Every write to telephony objects: ``<entity>_<action>(*, actor, tenant, ...)``.

Each service runs in one transaction with the tenant's schema active, validates (raising
DomainError with a stable code and the field), persists, and records the audit entry and the
``config.<object>.<verb>`` event through ``record_change``.
"""
from apps.telephony.services.blocking import (
    block_list_create, block_list_delete, block_list_payload, block_list_update,
)
from apps.telephony.services.callsettings import call_settings_apply
from apps.telephony.services.dids import did_create, did_delete, did_payload, did_update
from apps.telephony.services.extensions import (
    extension_bulk_create, extension_create, extension_delete, extension_payload, extension_update,
)
from apps.telephony.services.ivrs import ivr_create, ivr_delete, ivr_payload, ivr_update
from apps.telephony.services.queues import (
    agent_create, agent_delete, agent_payload, agent_set_state, agent_update, queue_create, queue_delete,
    queue_payload, queue_update,
)
from apps.telephony.services.featurecodes import (
    feature_code_create, feature_code_delete, feature_code_payload, feature_code_update,
)
from apps.telephony.services.rooms import (
    conference_create, conference_delete, conference_payload, conference_update, paging_group_create,
    paging_group_delete, paging_group_payload, paging_group_update, parking_lot_create, parking_lot_delete,
    parking_lot_payload, parking_lot_update,
)
from apps.telephony.services.ringgroups import (
    ring_group_create, ring_group_delete, ring_group_payload, ring_group_update,
)
from apps.telephony.services.schedules import (
    schedule_create, schedule_delete, schedule_payload, schedule_update, time_condition_create,
    time_condition_delete, time_condition_payload, time_condition_set_override, time_condition_update,
)
from apps.telephony.services.trunks import (
    outbound_route_create, outbound_route_delete, outbound_route_update, route_payload, trunk_create,
    trunk_delete, trunk_payload, trunk_update,
)

__all__ = [
    "block_list_create", "block_list_delete", "block_list_payload", "block_list_update",
    "call_settings_apply",
    "conference_create", "conference_delete", "conference_payload", "conference_update",
    "paging_group_create", "paging_group_delete", "paging_group_payload", "paging_group_update",
    "parking_lot_create", "parking_lot_delete", "parking_lot_payload", "parking_lot_update",
    "feature_code_create", "feature_code_delete", "feature_code_payload", "feature_code_update",
    "ring_group_create", "ring_group_delete", "ring_group_payload", "ring_group_update",
    "agent_create", "agent_delete", "agent_payload", "agent_set_state", "agent_update",
    "did_create", "did_delete", "did_payload", "did_update",
    "extension_bulk_create", "extension_create", "extension_delete", "extension_payload", "extension_update",
    "ivr_create", "ivr_delete", "ivr_payload", "ivr_update",
    "outbound_route_create", "outbound_route_delete", "outbound_route_update", "route_payload",
    "queue_create", "queue_delete", "queue_payload", "queue_update",
    "schedule_create", "schedule_delete", "schedule_payload", "schedule_update",
    "time_condition_create", "time_condition_delete", "time_condition_payload", "time_condition_set_override",
    "time_condition_update",
    "trunk_create", "trunk_delete", "trunk_payload", "trunk_update",
]
