from thirdlane import appconfig


class BillingConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.billing"
    label = "billing"
    verbose_name = "Billing"
