"""The grid events' part of the demo (registered in EventsConfig.ready(), run by seed_demo):
a few dozen events in every state, and one resident's report whose progress can be looked up."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from governance.choices import Role
from governance.codes import Level, ancestor_code
from governance.demo import DemoRun
from governance.models import User
from grids.events.choices import EventSource, Urgency
from grids.events.models import EventCategory
from grids.events.services import events as svc
from grids.events.services.effects import sweep_deadlines
from grids.models import Region

EVENT_SAMPLES = [
    ("public_order_gathering", "小区门口夜间聚集喧哗", "晚上十点后有十余人聚集饮酒喧哗，居民反映影响休息。"),
    ("fire_passage", "消防通道被车辆堵塞", "3号楼北侧消防通道长期停放私家车，消防车无法通行。"),
    ("sanitation_garbage", "垃圾堆放未清运", "村口垃圾点已三天未清运，气味较大。"),
    ("facilities_manhole", "人行道井盖缺失", "人行道井盖缺失，已用树枝临时围挡，存在安全隐患。"),
    ("dispute_neighbour", "邻里因漏水发生纠纷", "楼上住户卫生间漏水，双方多次争吵。"),
    ("vulnerable_elderly", "独居老人需要帮扶", "走访发现独居老人行动不便，需要助餐服务。"),
    ("livelihood_wages", "农民工反映欠薪", "工地十余名工人反映被拖欠两个月工资。"),
    ("work_safety_construction", "工地脚手架不稳", "在建工地脚手架底部松动，未设警示。"),
]


@transaction.atomic
def seed_events(run: DemoRun) -> None:
    """A few dozen events in every state, so the queues and pages have something to show."""
    worker = User.objects.get(role=Role.GRID_WORKER)
    leader = User.objects.get(role=Role.GRID_LEADER)
    centre = User.objects.filter(role=Role.CENTRE_STAFF, region__level=Level.COUNTY).order_by("username").first()
    police = User.objects.get(role=Role.DEPARTMENT_HANDLER, region__level=Level.COUNTY)
    # Half the dispatched events stay in the township: its centre sends them to its 派出所.
    township_centre = User.objects.get(role=Role.CENTRE_STAFF, region__level=Level.TOWNSHIP)
    station = User.objects.get(role=Role.DEPARTMENT_HANDLER, region__level=Level.TOWNSHIP)
    grids = list(
        Region.objects.filter(level=Level.GRID, code__startswith=ancestor_code(worker.region.code, Level.VILLAGE))
    )
    now = timezone.now()
    for index in range(24):
        code, title, description = EVENT_SAMPLES[index % len(EVENT_SAMPLES)]
        region = grids[index % len(grids)] if index % 3 else worker.region
        event, _created = svc.event_file(
            reporter=worker if region == worker.region else leader,
            category=EventCategory.objects.get(code=code),
            title=title,
            description=description,
            urgency=["normal", "normal", "urgent", "critical"][index % 4],
            source=["patrol", "visit"][index % 2],
            region=region,
            reported_at=now - dt.timedelta(hours=5 * index + 1),
        )
        stage = index % 6
        dispatcher, handler = (township_centre, station) if index % 12 < 6 else (centre, police)
        if stage >= 1:
            svc.event_accept(event=event, user=leader)
        if stage >= 2:
            svc.event_dispatch(event=event, user=dispatcher, lead=handler.department)
        if stage >= 3:
            svc.event_department_accept(event=event, user=handler)
        if stage >= 4:
            svc.event_resolve(event=event, user=handler, resolution="已到现场处置，问题已解决。")
        if stage >= 5:
            svc.event_verify(event=event, user=worker if region == worker.region else leader)
            svc.event_feedback(event=event, user=leader, feedback="satisfied", note="电话回访，群众满意。")
    sweep_deadlines()


@transaction.atomic
def seed_resident_report(run: DemoRun) -> None:
    """One 随手拍 report left with the phone 139 0000 1234 in the demo mediator's village, so its
    progress can be looked up at /report/status/."""
    mediator = User.objects.get(role=Role.MEDIATOR)
    village = Region.objects.filter(level=Level.VILLAGE, code__startswith=mediator.region.code).order_by("code")[0]
    svc.event_file(
        reporter=None,
        category=EventCategory.objects.get(code="sanitation_garbage"),
        title="环境卫生：小区门口垃圾未清运",
        description="小区门口垃圾点已三天未清运。",
        urgency=Urgency.NORMAL,
        source=EventSource.RESIDENT,
        region=village,
        reporter_name="群众",
        contact_phone="13900001234",
    )
