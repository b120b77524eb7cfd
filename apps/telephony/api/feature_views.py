"""Viewsets of the PBX features: ``/api/ring-groups/``, ``/api/block-lists/``, ``/api/feature-codes/``,
``/api/conferences/``, ``/api/parking-lots/``, ``/api/paging-groups/``."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action

from apps.telephony import features, selectors, services
from apps.telephony.api import feature_serializers as fs
from thirdlane.api.viewsets import TenantScopedViewSet, crud_services


class NumberedViewSet(TenantScopedViewSet):
    """What the resources dialled by a number share: search, order and sort by number."""

    search_fields = ("number", "name")
    ordering_fields = ("number", "name", "created_at")
    ordering = ("number",)


class RingGroupViewSet(NumberedViewSet):
    """Ring groups (ring all, hunt, memory hunt) of extensions and external numbers; ``members`` is
    written as a whole list, in ringing order."""

    queryset = selectors.ring_group_list()
    serializer_class = fs.RingGroupSerializer
    filterset_fields = ("number", "strategy")
    create_service, update_service, delete_service = crud_services(services, "ring_group")


class BlockListViewSet(TenantScopedViewSet):
    """Block lists: caller numbers and patterns refused on inbound calls (every DID, or ``dids``),
    and anonymous callers when ``block_anonymous``."""

    queryset = selectors.block_list_list()
    serializer_class = fs.BlockListSerializer
    filterset_fields = ("name", "all_dids", "block_anonymous", "action", "enabled")
    search_fields = ("name", "entries__value")
    ordering_fields = ("name", "created_at")
    ordering = ("name",)
    create_service, update_service, delete_service = crud_services(services, "block_list")

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.distinct() if self.request.query_params.get("search") else qs


class FeatureCodeViewSet(TenantScopedViewSet):
    """The tenant's own feature codes (a row per changed or disabled feature; deleting one goes back
    to the default). ``GET .../effective`` lists every feature with the code phones dial."""

    queryset = selectors.feature_code_list()
    serializer_class = fs.FeatureCodeSerializer
    filterset_fields = ("feature", "code", "enabled")
    search_fields = ("feature", "code")
    ordering_fields = ("feature", "code")
    ordering = ("feature",)
    create_service, update_service, delete_service = crud_services(services, "feature_code")

    @extend_schema(responses=fs.EffectiveFeatureCodeSerializer(many=True), filters=False)
    @action(detail=False, methods=["get"], filter_backends=[])
    def effective(self, request, tenant=None):
        items = features.effective(selectors.feature_code_list())
        return self.paginated(items, fs.EffectiveFeatureCodeSerializer)


class ConferenceViewSet(NumberedViewSet):
    """Conference rooms (ConfBridge) with a PIN and an admin PIN (write-only)."""

    queryset = selectors.conference_list()
    serializer_class = fs.ConferenceSerializer
    filterset_fields = ("number", "record", "wait_for_admin")
    create_service, update_service, delete_service = crud_services(services, "conference")


class ParkingLotViewSet(NumberedViewSet):
    """Parking lots: transfer a call to ``number`` to park it, dial its slot to pick it up."""

    queryset = selectors.parking_lot_list()
    serializer_class = fs.ParkingLotSerializer
    filterset_fields = ("number", "name")
    create_service, update_service, delete_service = crud_services(services, "parking_lot")


class PagingGroupViewSet(NumberedViewSet):
    """Paging / intercom groups: the number pages the members' phones, auto-answered."""

    queryset = selectors.paging_group_list()
    serializer_class = fs.PagingGroupSerializer
    filterset_fields = ("number", "duplex")
    create_service, update_service, delete_service = crud_services(services, "paging_group")
