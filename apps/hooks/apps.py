from thirdlane import appconfig


class HooksConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.hooks"
    label = "hooks"
    verbose_name = "Integrator hooks"
