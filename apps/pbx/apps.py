from thirdlane import appconfig


class PbxConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.pbx"
    label = "pbx"
    verbose_name = "PBX servers"
