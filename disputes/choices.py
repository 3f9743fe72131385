"""Choices of mediation cases (SPEC §4)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    VILLAGE_COMMITTEE = "village_committee", _("村（社区）人民调解委员会")
    TOWNSHIP_COMMITTEE = "township_committee", _("乡镇（街道）人民调解委员会")
    ENTERPRISE_COMMITTEE = "enterprise_committee", _("企事业单位人民调解委员会")
    TRADE_COMMITTEE = "trade_committee", _("专业性、行业性人民调解委员会")
    ADMINISTRATIVE = "administrative", _("行政调解")
    COURT = "court", _("司法调解 / 诉前调解")
    PETITION = "petition", _("信访")
    ONE_STOP = "one_stop", _("矛盾纠纷多元化解中心")


class DisputeType(models.TextChoices):
    MARRIAGE_FAMILY = "marriage_family", _("婚姻家庭")
    NEIGHBOUR = "neighbour", _("邻里纠纷")
    PROPERTY_MANAGEMENT = "property_management", _("物业纠纷")
    LABOUR = "labour", _("劳动争议")
    LAND_EXPROPRIATION = "land_expropriation", _("征地拆迁")
    LAND_CONTRACT = "land_contract", _("土地承包/山林土地")
    CONTRACT_DEBT = "contract_debt", _("合同债务")
    MEDICAL = "medical", _("医疗纠纷")
    TRAFFIC = "traffic", _("交通事故")
    CONSUMER = "consumer", _("消费纠纷")
    POLLUTION = "pollution", _("环境污染")
    LITIGATION_RELATED = "litigation_related", _("涉法涉诉")
    OTHER = "other", _("其他")


class RiskLevel(models.IntegerChoices):
    GENERAL = 1, _("一般")
    MAJOR = 2, _("较大")
    SERIOUS = 3, _("重大")
    EXTREME = 4, _("特别重大")


class CaseStatus(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    ACCEPTED = "accepted", _("已受理")
    DECLINED = "declined", _("不予受理")
    MEDIATING = "mediating", _("调解中")
    AGREED = "agreed", _("调解成功")
    FAILED = "failed", _("调解不成")
    REFERRED = "referred", _("已引导")
    CLOSED = "closed", _("已结案")


class CaseOutcome(models.TextChoices):
    """How mediation ended (stored when concluded, so the assessment counts without joins)."""

    AGREED = "agreed", _("调解成功")
    FAILED = "failed", _("调解不成")


OPEN_CASE_STATUSES = frozenset({CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.MEDIATING})


class PartySide(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    RESPONDENT = "respondent", _("被申请人")


class PartyKind(models.TextChoices):
    PERSON = "person", _("自然人")
    ORGANISATION = "organisation", _("法人或其他组织")


class Referral(models.TextChoices):
    ARBITRATION = "arbitration", _("仲裁")
    LITIGATION = "litigation", _("诉讼")
    ADMINISTRATIVE_RULING = "administrative_ruling", _("行政裁决")
    PETITION = "petition", _("信访")


class Fulfilment(models.TextChoices):
    FULL = "full", _("已全部履行")
    PARTLY = "partly", _("部分履行")
    NOT = "not", _("未履行")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class ConfirmationDecision(models.TextChoices):
    CONFIRMED = "confirmed", _("确认有效")
    REJECTED = "rejected", _("驳回申请")
