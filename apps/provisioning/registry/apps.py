from thirdlane import appconfig


class ProvisioningRegistryConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.provisioning.registry"
    label = "provisioning_registry"
    verbose_name = "Provisioned phones (platform index)"
