from thirdlane import appconfig


class ProvisioningConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.provisioning"
    label = "provisioning"
    verbose_name = "Phone provisioning"
