"""Domain events that apps.notifications publishes (frozen dataclasses)."""
