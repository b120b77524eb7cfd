from thirdlane import appconfig


class WebhooksConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
