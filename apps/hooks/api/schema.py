"""What the hooks' services refuse, stated in the OpenAPI document.

The custom dialplan's grammar is one regular expression (apps/hooks/dialplan_check.py builds it and
checks with it): allowed applications and functions, ``exten => s,1`` first, then ``same => n``
and ``include`` lines. What no pattern can state depends on the tenant's own objects: a jump or an
include must name a context (extension, priority) the tenant's rendering defines: 400
``reference_not_found`` when it does not exist, ``foreign_context`` when it is another tenant's.
"""
from apps.hooks.dialplan_check import DIALPLAN_PATTERN
from thirdlane.api.schema import request_rules

_B64 = "[A-Za-z0-9+/]"
_SECRET = {"pattern": rf"^(?:whsec_(?:(?:{_B64}{{4}}){{8,21}}|(?:{_B64}{{4}}){{8,20}}(?:{_B64}{{3}}=|{_B64}{{2}}==)))?$",
           "description": "Optional `whsec_` + 24 to 64 base64-encoded bytes; generated when left out."}

request_rules({
    "CustomDialplanRequest": {"fields": {"dialplan": {"pattern": DIALPLAN_PATTERN}}},
    "RoutingHookRequest": {"fields": {"secret": _SECRET}},
})
