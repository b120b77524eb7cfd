"""The rows of the statistics and counters, for the OpenAPI document (the views return the
dataset functions' dicts as they are: date-times keep the offset of the zone asked for)."""
from rest_framework import serializers


class AgentStatsRowSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=["agent", "agent_queue", "queue"], help_text=(
        "`agent`: the agent over all queues (or the `queue` asked for); `agent_queue`: the agent in one queue "
        "(`by_queue=true`); `queue`: the queue as a whole, every call that joined it (`by_queue=true`)."))
    interval_start = serializers.DateTimeField(help_text="Start of the bucket, in the zone asked for.")
    interval_end = serializers.DateTimeField(help_text="End of the bucket (exclusive), in the zone asked for.")
    extension = serializers.CharField(allow_null=True, help_text="The agent's extension number; null on queue rows.")
    agent_id = serializers.IntegerField(allow_null=True, help_text="The agent on that extension now, if any.")
    agent_name = serializers.CharField(allow_null=True)
    queue = serializers.CharField(allow_null=True, help_text="Queue number; null on `agent` rows.")
    offered = serializers.IntegerField(help_text="Queue calls that rang this agent (queue rows: calls that joined).")
    answered = serializers.IntegerField()
    missed = serializers.IntegerField(help_text="offered - answered (queue rows: abandoned or sent on).")
    answered_within_sl = serializers.IntegerField(help_text="Answered within `service_level_seconds` of joining.")
    service_level = serializers.FloatField(allow_null=True, help_text=(
        "answered_within_sl / answered on agent rows, / offered on queue rows; null when the divisor is 0."))
    talk_seconds = serializers.IntegerField(help_text="Connected time minus hold.")
    hold_seconds = serializers.IntegerField()
    wrapup_seconds = serializers.IntegerField(help_text="The queue's configured wrap-up time per answered call.")
    handle_seconds = serializers.IntegerField(help_text="talk + hold + wrap-up.")
    average_handle_seconds = serializers.FloatField(allow_null=True, help_text="handle_seconds / answered.")
    logged_in_seconds = serializers.IntegerField(allow_null=True, help_text=(
        "Time logged in (paused included) within the bucket; `agent` rows only."))
    pause_seconds = serializers.IntegerField(allow_null=True, help_text="`agent` rows only.")
    pause_by_reason = serializers.DictField(child=serializers.IntegerField(), allow_null=True, help_text=(
        "Seconds paused per reason (`\"\"`: no reason); `agent` rows only. In CSV: `reason=seconds;...`."))


class CallCounterRowSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(
        choices=["total", "direction", "disposition", "direction_disposition", "trunk", "did"],
        help_text="What the row counts by: every bucket has a `total` row, the others exist where calls do.")
    interval_start = serializers.DateTimeField()
    interval_end = serializers.DateTimeField()
    direction = serializers.CharField(allow_null=True)
    disposition = serializers.CharField(allow_null=True)
    trunk = serializers.CharField(allow_null=True)
    did = serializers.CharField(allow_null=True)
    calls = serializers.IntegerField(help_text="Ended calls that started in the bucket.")
    answered = serializers.IntegerField()
    billsec = serializers.IntegerField(help_text="Seconds from answer to end, summed.")
    minutes = serializers.FloatField(help_text="billsec / 60, two decimals.")
    peak_concurrent = serializers.IntegerField(allow_null=True, help_text=(
        "Most calls in progress at once during the bucket (calls that started before it included); "
        "`total` rows only."))


class PlatformCallCounterRowSerializer(CallCounterRowSerializer):
    tenant = serializers.CharField(help_text="Tenant slug.")
