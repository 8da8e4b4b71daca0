"""Staff permissions: every staff action names the Django permission it needs, in the API and in
the admin alike. Being staff only opens the admin's door; it grants no action by itself."""

from __future__ import annotations

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission


class StaffPermissionDenied(PermissionDenied):
    """403 permission_denied, naming the permission that is missing."""

    def __init__(self, codename: str):
        super().__init__(f"You need the permission {codename} to do this.", code="permission_denied")


def permission_require(*, user, codename: str) -> None:
    """For checks a view makes itself, after its lookup (e.g. another customer's order is 404 first)."""
    if not user.has_perm(codename):
        raise StaffPermissionDenied(codename)


class HasStaffPermission(BasePermission):
    """The permission the view's `staff_permissions` names for this action (a viewset's action
    name, or the lower-case HTTP method of a plain view). An action it does not name is refused."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # DRF answers 401 not_authenticated
        method = request.method.lower()
        if not hasattr(view, method):
            return True  # no such operation: the view answers 405
        action = getattr(view, "action", None) or method
        codename = view.staff_permissions.get("get" if action == "head" else action)
        if codename is None:  # fail closed, even for superusers: a new action must name its permission
            raise PermissionDenied(f"No permission is declared for {action}.", code="permission_denied")
        permission_require(user=request.user, codename=codename)
        return True
