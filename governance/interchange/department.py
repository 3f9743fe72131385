"""The platform's own record type: 职能部门 (`department`), and the department references that
events' dispatches and mediation organisations make. Registered by GovernanceConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext as _

from governance.choices import DepartmentKind
from governance.interchange.base import Context, Rejected, register, word
from governance.interchange.records import DirectoryRecord
from governance.models import Department

DEPARTMENT_KINDS = {member.name.lower(): member.value for member in DepartmentKind}
DEPARTMENT_KIND_WORDS = {v: k for k, v in DEPARTMENT_KINDS.items()}


@register
class DepartmentRecord(DirectoryRecord):
    """职能部门 that events are dispatched to: `region, name, kind, active`."""

    kind = "department"
    model = Department
    position = 20
    placeholder = "department"
    levels = ["province", "city", "county", "township"]

    def fields(self, row, ctx, region):
        kind = word(row, "kind", DEPARTMENT_KINDS)
        return {"kind": DEPARTMENT_KINDS[kind], "is_active": bool(row.get("active", True))}

    def export(self, scope):
        departments = scope.restricted(Department).filter(region__code__under=scope.code).select_related("region")
        for chunk in scope.chunks(departments):
            for d in chunk:
                yield {"region": d.region.code, "name": d.name, "kind": DEPARTMENT_KIND_WORDS[d.kind],
                       "active": d.is_active}  # fmt: skip


def department(ctx: Context, value, key: str) -> Department:
    """The department a row names as {"region", "name"}: on the platform, or (validation) earlier
    in the file; inside the caller's jurisdiction, as live dispatch requires."""
    if not isinstance(value, dict):
        raise Rejected({key: [_('部门应写作{"region": 区划代码, "name": 名称}。')]})
    region, name = str(value.get("region", "")), str(value.get("name", ""))
    found = ctx.cached(
        ("department", region, name),
        lambda: Department.objects.filter(region__code=region, name=name).first(),
    )
    if found is None and ctx.phase == "validate":
        found = ctx.placeholder("department", region, name, Department)
    if found is None:
        raise Rejected({key: [_("部门“%(name)s”（%(code)s）不存在。") % {"name": name, "code": region}]})
    if not ctx.allowed(region):
        raise Rejected({key: [_("部门“%(name)s”不在您的管辖范围内。") % {"name": name}]})
    return found


def department_ref(pk: int, cache: dict) -> dict:
    """How an export names a department: {"region", "name"} (memoised in `cache`)."""
    if pk not in cache:
        d = Department.objects.select_related("region").get(pk=pk)
        cache[pk] = {"region": d.region.code, "name": d.name}
    return cache[pk]
