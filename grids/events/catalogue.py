"""The default event taxonomy of SPEC §3 and the default time limits.

Installed by migration 0004; `install_defaults` takes the model classes so the migration can
pass its historical models and tests can restore the rows after a flush.
"""

CATEGORIES = [
    # code, name, default department kind, sub-categories
    ("public_order", "治安隐患", "公安", [("public_order_gathering", "聚集滋事"), ("public_order_theft", "盗窃隐患")]),
    (
        "dispute",
        "矛盾纠纷",
        "司法",
        [("dispute_neighbour", "邻里纠纷"), ("dispute_family", "婚姻家庭"), ("dispute_labour", "劳资纠纷")],
    ),
    (
        "work_safety",
        "安全生产隐患",
        "应急管理",
        [("work_safety_hazmat", "危化品"), ("work_safety_construction", "建筑施工")],
    ),
    ("fire", "消防隐患", "应急管理", [("fire_passage", "消防通道堵塞"), ("fire_wiring", "私拉乱接电线")]),
    ("sanitation", "环境卫生", "城管", [("sanitation_garbage", "垃圾堆放"), ("sanitation_sewage", "污水外溢")]),
    (
        "facilities",
        "市政设施",
        "住建",
        [("facilities_road", "道路破损"), ("facilities_lighting", "路灯损坏"), ("facilities_manhole", "井盖缺失")],
    ),
    ("key_person", "重点人员动态", "公安", []),
    ("vulnerable", "特殊人群帮扶", "民政", [("vulnerable_elderly", "独居老人"), ("vulnerable_children", "留守儿童")]),
    ("livelihood", "民生诉求", "民政", [("livelihood_wages", "欠薪"), ("livelihood_water", "供水供暖")]),
    ("enquiry", "政策咨询", "政法委", []),
    ("other", "其他", "政法委", []),
]

# urgency: respond (value, unit), resolve, feedback — SPEC §3 defaults after 接诉即办
DEFAULT_LIMITS = [
    ("normal", (1, "hours"), (5, "working_days"), (7, "days")),
    ("urgent", (1, "hours"), (24, "hours"), (7, "days")),
    ("critical", (1, "hours"), (24, "hours"), (7, "days")),
]


def install_defaults(EventCategory, SlaPolicy) -> None:
    for order, (code, name, kind, children) in enumerate(CATEGORIES):
        parent, _ = EventCategory.objects.get_or_create(
            code=code, defaults={"name": name, "default_department_kind": kind, "sort_order": order * 10}
        )
        for child_order, (child_code, child_name) in enumerate(children, start=1):
            EventCategory.objects.get_or_create(
                code=child_code, defaults={"name": child_name, "parent": parent, "sort_order": order * 10 + child_order}
            )
    for urgency, respond, resolve, feedback in DEFAULT_LIMITS:
        SlaPolicy.objects.get_or_create(
            category=None,
            urgency=urgency,
            defaults={
                "respond_value": respond[0], "respond_unit": respond[1],
                "resolve_value": resolve[0], "resolve_unit": resolve[1],
                "feedback_value": feedback[0], "feedback_unit": feedback[1],
            },
        )  # fmt: skip
