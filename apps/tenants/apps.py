from thirdlane import appconfig


class TenantsConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.tenants"
    label = "tenants"
    verbose_name = "Tenants"
