from django.db import migrations

# Defaults documented in README ("Plans and limits"); operators change them in the admin.
PLANS = [
    # code, name, kind, max enabled connections, owners register, custom connectors, override
    ("free", "Free", "individual", 1, False, 1, False, 10),
    ("pro", "Pro", "individual", 5, False, None, False, 20),
    ("max", "Max", "individual", 10, False, None, False, 30),
    ("team", "Team", "organization", 10, True, None, False, 40),
    ("enterprise", "Enterprise", "organization", 25, True, None, True, 50),
]


def create_plans(apps, schema_editor):
    Plan = apps.get_model("organizations", "Plan")
    for code, name, kind, limit, owners, custom, override, position in PLANS:
        Plan.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "max_enabled_connections": limit,
                "owners_register_connectors": owners,
                "max_custom_connectors": custom,
                "allows_limit_override": override,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("organizations", "0001_initial")]

    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
