"""Domain events that apps.reporting publishes (frozen dataclasses)."""
