"""Conditional requests: the version an If-Match header names (our ETags are "<version>")."""


def if_match_version(header: str | None) -> int | None:
    """None when there is no If-Match; -1 (matches no version, so 412) when it names none of ours."""
    if not header:
        return None
    try:
        return int(header.strip().removeprefix("W/").strip('"'))
    except ValueError:
        return -1
