from thirdlane import appconfig


class AccountsConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"
