"""Template context shared by every page: the navigation the user's role may use."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [(_("工作台"), reverse("home")), (_("区划与网格"), reverse("grids:region-root"))]
    if user.can("region.import"):
        items.append((_("导入区划"), reverse("grids:region-import")))
    if user.can("department.change") or user.can("user.view"):
        items.append((_("职能部门"), reverse("governance:department-list")))
    if user.can("audit.view"):
        items.append((_("审计日志"), reverse("governance:audit-list")))
    items.append((_("接口文档"), reverse("api-docs")))
    if user.is_superuser:
        items.append((_("系统配置"), reverse("admin:index")))
    return {"nav_items": items}
