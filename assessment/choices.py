"""Choices of the assessment (SPEC §5)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Dimension(models.TextChoices):
    A = "A", _("资源投入")
    B = "B", _("群众满意")
    C = "C", _("工作效能")
    D = "D", _("能力建设")
    V = "V", _("一票否决")


# Points of each dimension out of 100 in every weight profile (SPEC §5.1).
DIMENSION_POINTS = {"A": 20, "B": 30, "C": 40, "D": 10}


class Category(models.TextChoices):
    BASIC = "basic", _("基础")
    CHARACTERISTIC = "characteristic", _("特色")
    INNOVATION = "innovation", _("创新")


class Nature(models.TextChoices):
    QUANTITATIVE = "quantitative", _("定量")
    QUALITATIVE = "qualitative", _("定性")
    VETO = "veto", _("否决")


class Source(models.TextChoices):
    COMPUTED = "computed", _("平台数据")
    REPORTED = "reported", _("核心指标表")
    SURVEY = "survey", _("问卷调查")
    ASSESSED = "assessed", _("考核组评分")
    VETO = "veto", _("否决裁定")


class Rule(models.TextChoices):
    HIGHER_BETTER = "higher_better", _("越高越好")
    LOWER_BETTER = "lower_better", _("越低越好")
    ASSESSED = "assessed", _("评分")
    VETO = "veto", _("一票否决")


class CycleKind(models.TextChoices):
    SPOT_CHECK = "spot_check", _("季度抽查")
    HALF_YEAR = "half_year", _("半年评估")
    YEAR_END = "year_end", _("年终考核")


class CycleStatus(models.TextChoices):
    DRAFT = "draft", _("未运行")
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("计算中")
    COMPUTED = "computed", _("已计算")
    FAILED = "failed", _("计算失败")
    FINALISED = "finalised", _("已定稿发布")


class LineStatus(models.TextChoices):
    """How one indicator line of a unit was scored."""

    SCORED = "scored", _("已计分")
    NOT_APPLICABLE = "na", _("不适用（无数据）")
    MISSING_REPORT = "missing", _("未报送")
    UNSCORED = "unscored", _("待评分")
    NOT_IN_PROFILE = "excluded", _("不在本权重方案")


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    GOOD = "good", _("良好")
    PASS = "pass", _("合格")
    FAIL = "fail", _("不合格")


class SurveyChannel(models.TextChoices):
    ONLINE = "online", _("线上扫码")
    OFFLINE = "offline", _("入户调查")


class SafetyAnswer(models.TextChoices):
    SAFE = "safe", _("安全")
    FAIRLY_SAFE = "fairly_safe", _("比较安全")
    NOT_VERY_SAFE = "not_very_safe", _("不太安全")
    UNSAFE = "unsafe", _("不安全")


class SatisfactionAnswer(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class AwarenessAnswer(models.TextChoices):
    AWARE = "aware", _("知晓")
    UNAWARE = "unaware", _("不知晓")


class RulingStatus(models.TextChoices):
    IN_FORCE = "in_force", _("生效")
    APPEALED = "appealed", _("申诉中")
    UPHELD = "upheld", _("申诉驳回（维持）")
    REVOKED = "revoked", _("已撤销")


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("待整改")
    REPORTED = "reported", _("已报整改")
    CLOSED = "closed", _("已销号")


class AppealStatus(models.TextChoices):
    FILED = "filed", _("待处理")
    UPHELD = "upheld", _("申诉成立，已调整")
    DISMISSED = "dismissed", _("申诉不成立，维持原分")


class FlagRule(models.TextChoices):
    """The data-credibility checks (智能预警, SPEC §5.4)."""

    MEDIATION_SPIKE = "mediation_spike", _("调解案件数异常激增")
    INSTANT_CLOSURE = "instant_closure", _("事件“秒办结”比例过高")
    UNDER_REPORTING = "under_reporting", _("疑似少报瞒报")
    DUPLICATE_SUBMISSION = "duplicate_submission", _("重复报送")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
