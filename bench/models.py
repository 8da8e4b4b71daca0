from django.db import models


class BenchRow(models.Model):
    """The reference write of S1: one INSERT in a transaction, on the same database and pool."""

    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return str(self.pk)
