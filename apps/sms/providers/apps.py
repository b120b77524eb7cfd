from thirdlane import appconfig


class SmsProvidersConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.sms.providers"
    label = "sms_providers"
    verbose_name = "SMS providers"
