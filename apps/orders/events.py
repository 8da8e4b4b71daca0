"""Domain events that apps.orders publishes (frozen dataclasses)."""
