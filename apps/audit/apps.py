from thirdlane import appconfig


class AuditConfig(appconfig.ThirdlaneAppConfig):
    name = "apps.audit"
    label = "audit"
    verbose_name = "Audit log"
