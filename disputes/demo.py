"""The mediation part of the demo (registered in DisputesConfig.ready(), run by seed_demo): the
organisations, before the accounts are made (a mediator belongs to one), and a few open cases at
the demo mediator's committee."""

from __future__ import annotations

from django.db import transaction

from governance import audit
from governance.choices import AuditAction, Role
from governance.codes import Level
from governance.demo import DemoRun
from governance.models import User
from grids.demo import PROVINCE
from grids.models import Region

from . import services as cases
from .choices import OrgKind
from .models import MediationOrganisation
from .validators import uscc_check_char

DEMO_COMPANY = ("兰州某物业服务有限公司", "91620102MA7L2K3P4", "钱八")  # the credit code's check character is added


def build_mediation_orgs(
    counties: list[Region], townships: list[Region], scale_name: str
) -> dict[str, MediationOrganisation]:
    """A one-stop centre per county and a people's mediation committee per township (saved
    regions of the demo builder), by region code."""
    rows = [
        MediationOrganisation(region=county, kind=OrgKind.ONE_STOP, name=f"{county.name}矛盾纠纷多元化解中心")
        for county in counties
    ] + [
        MediationOrganisation(region=t, kind=OrgKind.TOWNSHIP_COMMITTEE, name=f"{t.name}人民调解委员会")
        for t in townships
    ]
    MediationOrganisation.objects.bulk_create(rows, batch_size=2000)
    audit.record(
        AuditAction.BULK,
        model_label="disputes.mediationorganisation",
        object_repr=f"seed_demo --scale {scale_name}",
        region_code=PROVINCE[0],
        changes={"organisations": len(rows)},
    )
    return {org.region.code: org for org in rows}


@transaction.atomic
def seed_organisations(run: DemoRun) -> None:
    regions = run.shared["regions"]
    counties = [r for r in regions if r.level == Level.COUNTY]
    townships = [r for r in regions if r.level == Level.TOWNSHIP]
    run.shared["mediation_orgs"] = build_mediation_orgs(counties, townships, run.scale)


@transaction.atomic
def seed_cases(run: DemoRun) -> None:
    """Open cases at the demo mediator's committee (one against a property company, registered as an
    organisation), so the mediator's home — their board — has work."""
    mediator = User.objects.get(role=Role.MEDIATOR)
    village = Region.objects.filter(level=Level.VILLAGE, code__startswith=mediator.region.code).order_by("code")[0]
    name, code17, representative = DEMO_COMPANY
    company = {"side": "respondent", "kind": "organisation", "name": name, "credit_code": code17 + uscc_check_char(code17),
               "legal_representative": representative}  # fmt: skip
    stories = [
        ("小区电梯长期故障维修费用分摊纠纷", "property_management", [{"side": "applicant", "name": "业主代表 孙丽"}, company]),
        ("楼上漏水引发的邻里纠纷", "neighbour", [{"side": "applicant", "name": "马建国"}, {"side": "respondent", "name": "何强"}]),
        ("装修工程尾款纠纷", "contract_debt", [{"side": "applicant", "name": "林涛"}, {"side": "respondent", "name": "郭峰"}]),
    ]  # fmt: skip
    for index, (title, dispute_type, parties) in enumerate(stories):
        case = cases.case_register(
            user=mediator, organisation=mediator.mediation_org, origin_region=village, dispute_type=dispute_type,
            title=title, facts=title + "，当事人申请人民调解。", parties=parties,
        )  # fmt: skip
        if index < 2:
            cases.case_accept(case=case, user=mediator)
        if index == 0:
            cases.case_assign(case=case, user=mediator, mediator=mediator)
