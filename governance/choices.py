"""Choices of the platform package: roles, department kinds, audit actions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of SPEC §1. Residents (群众) have no account."""

    GRID_WORKER = "grid_worker", _("网格员")
    GRID_LEADER = "grid_leader", _("网格长")
    CENTRE_STAFF = "centre_staff", _("综治中心")
    DEPARTMENT_HANDLER = "department_handler", _("部门经办人")
    MEDIATOR = "mediator", _("调解员")
    ASSESSOR = "assessor", _("考核员")
    COMMITTEE_STAFF = "committee_staff", _("政法委")
    API_CLIENT = "api_client", _("系统对接")
    ADMIN = "admin", _("系统管理员")


class DepartmentKind(models.TextChoices):
    """职能部门 kinds; the lead / collaborating departments of the indicators use these names."""

    COMMITTEE = "政法委", _("政法委")
    POLICE = "公安", _("公安")
    JUSTICE = "司法", _("司法")
    CIVIL_AFFAIRS = "民政", _("民政")
    PETITIONS = "信访", _("信访")
    HUMAN_RESOURCES = "人社", _("人社")
    HOUSING = "住建", _("住建")
    MARKET = "市场监管", _("市场监管")
    EMERGENCY = "应急管理", _("应急管理")
    EDUCATION = "教育", _("教育")
    HEALTH = "卫健", _("卫健")
    URBAN = "城管", _("城管")
    FINANCE = "财政", _("财政")
    COURT = "法院", _("法院")
    DISCIPLINE = "纪委监委", _("纪委监委")
    OTHER = "其他", _("其他")


class AuditAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    BULK = "bulk", _("批量操作")
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOCKOUT = "lockout", _("账户锁定")
    LOGOUT = "logout", _("退出")
    EXPORT = "export", _("导出")
    READ_UNMASKED = "read_unmasked", _("查看个人信息原文")


class ImportStatus(models.TextChoices):
    """The life of an ImportJob; VALIDATING and WRITING are the importer's two passes."""

    QUEUED = "queued", _("排队中")
    VALIDATING = "validating", _("校验中")
    WRITING = "writing", _("写入中")
    DONE = "done", _("已完成")
    REJECTED = "rejected", _("已拒绝")
    FAILED = "failed", _("失败")
