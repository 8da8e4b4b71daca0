"""Conditional requests: the version an If-Match header names (our ETags are "<version>")."""


def if_match_version(header: str | None) -> int | None:
    """The version a write must find, or None when any will do: no If-Match, or `*` (RFC 9110:
    any current representation; the resource must exist, which every caller checks first).
    -1 (matches no version, so 412) when the header names none of ours."""
    if not header or header.strip() == "*":
        return None
    try:
        return int(header.strip().removeprefix("W/").strip('"'))
    except ValueError:
        return -1
