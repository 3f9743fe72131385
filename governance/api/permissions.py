from rest_framework.permissions import SAFE_METHODS, BasePermission


class RoleCapability(BasePermission):
    """Reads need a login; writes need the view's `change_capability` for the user's role.

    `view_capability`, when a view sets it, is needed for reads too (e.g. the user list).
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        view_capability = getattr(view, "view_capability", None)
        if view_capability and not user.can(view_capability):
            return False
        if request.method in SAFE_METHODS:
            return True
        capability = getattr(view, "change_capability", None)
        return bool(capability) and user.can(capability)
