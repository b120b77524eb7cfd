from thirdlane import appconfig


class SoundsConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.sounds"
    label = "sounds"
    verbose_name = "Sounds"
