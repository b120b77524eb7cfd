from thirdlane import appconfig


class SmsConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.sms"
    label = "sms"
    verbose_name = "SMS"
