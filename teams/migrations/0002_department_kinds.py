"""Shipped default: the kinds of functional department the checklist dispatches to."""

from django.db import migrations

DEPARTMENT_KINDS = [
    {"code": "market_supervision", "name_zh": "市场监督管理", "name_en": "Market supervision"},
    {"code": "public_security", "name_zh": "公安", "name_en": "Public security"},
    {
        "code": "housing_construction",
        "name_zh": "住房和城乡建设",
        "name_en": "Housing and construction",
    },
    {"code": "fire_rescue", "name_zh": "消防救援", "name_en": "Fire and rescue"},
    {
        "code": "ecology_environment",
        "name_zh": "生态环境",
        "name_en": "Ecology and environment",
    },
    {
        "code": "natural_resources",
        "name_zh": "自然资源和规划",
        "name_en": "Natural resources and planning",
    },
    {
        "code": "urban_management",
        "name_zh": "综合行政执法",
        "name_en": "Urban management and law enforcement",
    },
    {
        "code": "agriculture_rural",
        "name_zh": "农业农村",
        "name_en": "Agriculture and rural affairs",
    },
    {"code": "transport", "name_zh": "交通运输", "name_en": "Transport"},
    {"code": "water_resources", "name_zh": "水利", "name_en": "Water resources"},
    {"code": "civil_affairs", "name_zh": "民政", "name_en": "Civil affairs"},
    {"code": "health", "name_zh": "卫生健康", "name_en": "Health"},
]


def create_department_kinds(apps, schema_editor):
    DepartmentKind = apps.get_model("teams", "DepartmentKind")
    for row in DEPARTMENT_KINDS:
        DepartmentKind.objects.update_or_create(
            code=row["code"], defaults={"name_zh": row["name_zh"], "name_en": row["name_en"]}
        )


def delete_department_kinds(apps, schema_editor):
    DepartmentKind = apps.get_model("teams", "DepartmentKind")
    # Kinds that real departments already use stay: deleting them would orphan the departments.
    DepartmentKind.objects.filter(
        code__in=[row["code"] for row in DEPARTMENT_KINDS], departments__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("teams", "0001_initial")]

    operations = [migrations.RunPython(create_department_kinds, delete_department_kinds)]
