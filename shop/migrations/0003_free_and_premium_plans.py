from decimal import Decimal

from django.db import migrations

PLANS = [
    # code, name, default, monthly credits, max height, watermark, GPU engines, priority, order
    ("free", "Free", True, 5, 720, True, False, False, 0),
    ("premium", "Premium", False, 60, 1080, False, True, True, 1),
]
PRICES = [("premium", "month", "KRW", Decimal("9900")), ("premium", "year", "KRW", Decimal("99000")),
          ("premium", "month", "USD", Decimal("7.99")), ("premium", "year", "USD", Decimal("79.00"))]


def create_plans(apps, schema_editor):
    """The starting plans; staff change them in the admin from here on."""
    Plan = apps.get_model("shop", "Plan")
    PlanPrice = apps.get_model("shop", "PlanPrice")
    for code, name, default, credits, height, watermark, gpu, priority, order in PLANS:
        Plan.objects.get_or_create(code=code, defaults={
            "name": name, "is_default": default, "monthly_credits": credits, "max_height": height, "watermark": watermark,
            "gpu_engines": gpu, "priority": priority, "sort_order": order,
        })
    for code, interval, currency, amount in PRICES:
        PlanPrice.objects.get_or_create(plan=Plan.objects.get(code=code), interval=interval, currency=currency, defaults={"amount": amount})


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_catalog_variants_orders_billing_credits")]

    operations = [migrations.RunPython(create_plans, migrations.RunPython.noop)]
