from django.db import migrations, models


def tenant_wins(apps, schema_editor):
    # Such users were tenant-scoped in the API already: keep that, drop the reseller link.
    User = apps.get_model("accounts", "User")
    User.objects.filter(reseller__isnull=False, tenant__isnull=False).update(reseller=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_apikey_rate_limit")]

    operations = [
        migrations.RunPython(tenant_wins, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(condition=models.Q(reseller__isnull=True) | models.Q(tenant__isnull=True),
                                              name="user_one_scope"),
        ),
    ]
