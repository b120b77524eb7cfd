from thirdlane import appconfig


class OrganizationsConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.organizations"
    label = "organizations"
    verbose_name = "Organizations"
