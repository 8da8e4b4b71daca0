"""The only module other apps may import from apps.notifications (besides events.py).

Functions here take and return primitives or frozen dataclasses, never models or querysets:
the caller may live on another database."""
