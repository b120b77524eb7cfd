from thirdlane import appconfig


class CallsConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.calls"
    label = "calls"
    verbose_name = "Calls"
