from thirdlane import appconfig


class ExportsConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.exports"
    label = "exports"
    verbose_name = "Billing exports"
