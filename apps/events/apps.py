from thirdlane import appconfig


class EventsConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.events"
    label = "events"
    verbose_name = "Events"
