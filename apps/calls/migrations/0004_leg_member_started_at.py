from django.db import migrations, models


class Migration(migrations.Migration):
    """Agent statistics (apps.reports) read the members' legs of a range's queue calls by their start
    (a partial index: extension legs only, the ones the statistics join)."""

    dependencies = [
        ("calls", "0003_leg_hold_time_and_report_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="callleg",
            index=models.Index(condition=models.Q(("kind", "extension"), models.Q(("extension", ""), _negated=True)),
                               fields=["started_at"], name="call_leg_member_started_at"),
        ),
    ]
