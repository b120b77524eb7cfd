from thirdlane import appconfig


class TelephonyConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.telephony"
    label = "telephony"
    verbose_name = "Telephony"
