from django.core.exceptions import ValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination as _CursorPagination

from apps.common.http.problems import ApplicationError


class InvalidCursor(ApplicationError):
    code, status, title = "invalid_cursor", 400, "The cursor is not one this list handed out."


class CursorPagination(_CursorPagination):
    """Opaque cursors: stable under concurrent inserts, no COUNT(*) on large tables."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_ordering(self, request, queryset, view):
        # A view names its own stable ordering (a unique last key keeps cursors exact).
        ordering = getattr(view, "ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def decode_cursor(self, request):
        # DRF answers a cursor it cannot decode with 404, as if the list did not exist.
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise InvalidCursor() from exc

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except ValidationError as exc:  # a decodable cursor whose position the ordering field cannot hold
            raise InvalidCursor() from exc
