"""Expertise per theme with a self-rated level; what reviewers had becomes "experienced".

The plain many-to-many table is replaced by the ``Expertise`` through model: its rows are
copied at the middle level (2) before the old table goes.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

EXPERIENCED = 2


def copy_expertise(apps, schema_editor):
    profile = apps.get_model("reviewers", "ReviewerProfile")
    expertise = apps.get_model("reviewers", "Expertise")
    old = profile.expertise.through.objects.values_list("reviewerprofile_id", "theme_id")
    expertise.objects.bulk_create(
        expertise(profile_id=profile_id, theme_id=theme_id, level=EXPERIENCED)
        for profile_id, theme_id in old.iterator()
    )


def copy_back(apps, schema_editor):
    # Reversed, the plain field's table comes back empty before this runs (levels are lost).
    profile = apps.get_model("reviewers", "ReviewerProfile")
    expertise = apps.get_model("reviewers", "Expertise")
    plain = profile.expertise.through
    plain.objects.bulk_create(
        plain(reviewerprofile_id=profile_id, theme_id=theme_id)
        for profile_id, theme_id in expertise.objects.values_list("profile_id", "theme_id")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("nominations", "0004_matching_settings"),
        ("reviewers", "0004_rubric_into_english"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Expertise",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "level",
                    models.PositiveSmallIntegerField(
                        choices=[(1, "Some knowledge"), (2, "Experienced"), (3, "Expert")],
                        default=2,
                        verbose_name="level",
                    ),
                ),
                (
                    "profile",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="expertise_levels",
                        to="reviewers.reviewerprofile",
                    ),
                ),
                (
                    "theme",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reviewer_expertise",
                        to="nominations.theme",
                    ),
                ),
            ],
            options={
                "verbose_name": "expertise",
                "verbose_name_plural": "expertise",
                "ordering": ["profile", "-theme__is_priority", "theme__name"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("profile", "theme"), name="one_level_per_theme"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("level__gte", 1), ("level__lte", 3)),
                        name="expertise_level_between_one_and_three",
                    ),
                ],
            },
        ),
        migrations.RunPython(copy_expertise, copy_back),
        migrations.RemoveField(model_name="reviewerprofile", name="expertise"),
        migrations.AddField(
            model_name="reviewerprofile",
            name="expertise",
            field=models.ManyToManyField(
                blank=True,
                through="reviewers.Expertise",
                through_fields=("profile", "theme"),
                to="nominations.theme",
                verbose_name="expertise themes",
            ),
        ),
        migrations.CreateModel(
            name="ProfileChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("changed_at", models.DateTimeField(auto_now_add=True, verbose_name="changed")),
                ("changes", models.JSONField(default=list, verbose_name="changes")),
                (
                    "changed_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "profile",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="changes",
                        to="reviewers.reviewerprofile",
                    ),
                ),
            ],
            options={
                "verbose_name": "profile change",
                "verbose_name_plural": "profile changes",
                "ordering": ["-changed_at", "-pk"],
            },
        ),
    ]
