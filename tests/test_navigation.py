"""The navigation bar: each app registers its entries, and every role sees the same bar as before."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from governance.choices import Role
from governance.context_processors import navigation
from grids.events.models import Notification

from .factories import UserFactory

pytestmark = pytest.mark.django_db

COMMON_TAIL = ["区划与网格", "通知", "接口文档"]
EXPECTED = {
    Role.GRID_WORKER: ["工作台", "上报事件", "我的事件", "走访记录", *COMMON_TAIL],
    Role.GRID_LEADER: ["工作台", "事件受理", *COMMON_TAIL],
    Role.CENTRE_STAFF: [
        "工作台", "综治看板", "事件受理", "矛盾纠纷", "综治考核", "考核填报",
        "区划与网格", "导入区划", "历史数据", "职能部门", "通知", "接口文档",
    ],
    Role.DEPARTMENT_HANDLER: ["工作台", "部门待办", *COMMON_TAIL],
    Role.MEDIATOR: ["工作台", "调解工作台", *COMMON_TAIL],
    Role.ASSESSOR: ["工作台", "综治考核", "考核填报", *COMMON_TAIL],
    Role.COMMITTEE_STAFF: [
        "工作台", "综治看板", "事件受理", "矛盾纠纷", "综治考核", "考核填报",
        "区划与网格", "审计日志", "通知", "接口文档",
    ],
    Role.API_CLIENT: ["工作台", *COMMON_TAIL],
    Role.ADMIN: [
        "工作台", "综治看板", "考核填报", "区划与网格", "导入区划", "历史数据", "职能部门", "审计日志",
        "通知", "接口文档",
    ],
}  # fmt: skip
SUPERUSER = [
    "工作台", "综治看板", "事件受理", "矛盾纠纷", "综治考核", "考核填报", "区划与网格", "导入区划",
    "历史数据", "职能部门", "审计日志", "通知", "接口文档", "系统配置",
]  # fmt: skip


def nav(user) -> list[tuple[str, str]]:
    request = RequestFactory().get("/")
    request.user = user
    with translation.override("zh-hans"):
        return navigation(request)["nav_items"]


def labels(user) -> list[str]:
    return [label for label, _url in nav(user)]


def test_the_enum_of_roles_is_covered():
    assert set(EXPECTED) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_entries_in_the_usual_order(world, role):
    department = world.dept_a if role == Role.DEPARTMENT_HANDLER else None
    user = UserFactory(role=role, region=world.county_a, department=department)
    assert labels(user) == EXPECTED[role]


def test_a_superuser_sees_every_entry_and_the_admin(world):
    user = UserFactory(role=Role.ADMIN, region=None, is_superuser=True, is_staff=True)
    assert labels(user) == SUPERUSER


def test_a_handler_without_a_department_has_no_department_queue(world):
    user = UserFactory(role=Role.DEPARTMENT_HANDLER, region=world.county_a)
    assert labels(user) == ["工作台", *COMMON_TAIL]


def test_an_anonymous_visitor_has_no_navigation():
    assert nav(AnonymousUser()) == []


def test_the_notifications_entry_counts_the_unread_ones(world):
    for n in range(3):
        Notification.objects.create(user=world.worker_a, key=f"k{n}", message="m")
    Notification.objects.filter(key="k0").update(read_at="2026-01-01T00:00:00Z")
    assert ("通知（2）", reverse("events:notifications")) in nav(world.worker_a)


def test_each_entry_points_at_its_page(world):
    user = UserFactory(role=Role.CENTRE_STAFF, region=world.county_a)
    assert nav(user) == [
        ("工作台", reverse("home")),
        ("综治看板", reverse("dashboard:index")),
        ("事件受理", reverse("events:queue")),
        ("矛盾纠纷", reverse("disputes:board")),
        ("综治考核", reverse("assessment:cycles")),
        ("考核填报", reverse("assessment:inputs")),
        ("区划与网格", reverse("grids:region-root")),
        ("导入区划", reverse("grids:region-import")),
        ("历史数据", reverse("interchange:records")),
        ("职能部门", reverse("governance:department-list")),
        ("通知", reverse("events:notifications")),
        ("接口文档", reverse("api-docs")),
    ]


def test_two_entries_may_not_share_a_place():
    from governance.navigation import register

    with pytest.raises(ValueError, match="taken by 'home'"):
        register("elsewhere", place=10, url_name="home", label="x")
