"""URL patterns the apps' routers share."""

# A hyphenated UUID, as the API writes them. Any other text in its place is a 404 from the URL
# resolver; a looser pattern let strings that are no UUID reach the UUIDField lookup (a 500).
UUID_LOOKUP_REGEX = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
