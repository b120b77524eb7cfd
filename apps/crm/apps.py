from thirdlane import appconfig


class CrmConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.crm"
    label = "crm"
    verbose_name = "CRM"
