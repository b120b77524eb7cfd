from thirdlane import appconfig


class EventsConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.events"
    label = "events"
    verbose_name = "Events"

    def ready(self):
        super().ready()
        # Every process that writes events nudges the event stream after its commits.
        from apps.events.stream import nudge  # noqa: F401
