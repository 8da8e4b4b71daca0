"""Domain events that apps.payments publishes (frozen dataclasses)."""
