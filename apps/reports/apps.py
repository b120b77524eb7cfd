from thirdlane import appconfig


class ReportsConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.reports"
    label = "reports"
    verbose_name = "Reports"
