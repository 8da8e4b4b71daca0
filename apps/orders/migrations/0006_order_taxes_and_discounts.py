"""Orders freeze what priced them (issue #18): the price mode, tax lines, discount lines, the
voucher codes and the customer's tax id on the order; each line's tax class and rate, its share
of the discounts, its tax, what was paid for it and what of that was refunded. Lines placed
before paid their line total (no tax, no discount): `total` starts as that."""

from django.db import migrations, models
from django.db.models import F


def lines_paid_their_total(apps, schema_editor):
    OrderLine = apps.get_model("orders", "OrderLine")
    OrderLine.objects.using(schema_editor.connection.alias).update(total=F("line_total"))


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0005_order_cart_shipping_breakdown"),
    ]

    operations = [
        migrations.AddField(model_name="order", name="prices_include_tax", field=models.BooleanField(default=False)),
        migrations.AddField(model_name="order", name="tax_lines",
                            field=models.JSONField(blank=True, default=list)),
        migrations.AddField(model_name="order", name="discount_lines",
                            field=models.JSONField(blank=True, default=list)),
        migrations.AddField(model_name="order", name="voucher_codes",
                            field=models.JSONField(blank=True, default=list)),
        migrations.AddField(model_name="order", name="tax_id",
                            field=models.CharField(blank=True, default="", max_length=32)),
        migrations.AddField(model_name="order", name="zero_rated", field=models.BooleanField(default=False)),
        migrations.AddField(model_name="orderline", name="tax_class",
                            field=models.CharField(blank=True, default="", max_length=32)),
        migrations.AddField(model_name="orderline", name="tax_rate",
                            field=models.DecimalField(decimal_places=4, default=0, max_digits=7)),
        migrations.AddField(model_name="orderline", name="discount_total",
                            field=models.DecimalField(decimal_places=3, default=0, max_digits=14)),
        migrations.AddField(model_name="orderline", name="tax_total",
                            field=models.DecimalField(decimal_places=3, default=0, max_digits=14)),
        migrations.AddField(model_name="orderline", name="total",
                            field=models.DecimalField(decimal_places=3, default=0, max_digits=14),
                            preserve_default=False),
        migrations.AddField(model_name="orderline", name="refunded_amount",
                            field=models.DecimalField(decimal_places=3, default=0, max_digits=14)),
        migrations.AddField(model_name="orderline", name="refunded_tax",
                            field=models.DecimalField(decimal_places=3, default=0, max_digits=14)),
        migrations.AddField(model_name="orderline", name="refunded_discount",
                            field=models.DecimalField(decimal_places=3, default=0, max_digits=14)),
        migrations.RunPython(lines_paid_their_total, migrations.RunPython.noop),
    ]
