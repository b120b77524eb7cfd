from rest_framework import serializers

from apps.billing.models import Cdr


class CdrSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cdr
        fields = ("id", "started_at", "answered_at", "ended_at", "duration", "billsec", "direction", "source",
                  "destination", "did", "trunk", "extension", "disposition", "hangup_cause", "hangup_cause_text",
                  "account_code", "linkedid")
        read_only_fields = fields
