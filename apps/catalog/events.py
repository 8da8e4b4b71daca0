"""Domain events that apps.catalog publishes (frozen dataclasses)."""
