"""Overdue cases and undecided confirmations are supervised by the level above, once; key rotation."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from disputes import services as svc
from disputes.models import Case, CaseSupervision, Party
from disputes.supervision import sweep_case_deadlines
from disputes.tasks import sweep_case_deadlines_task
from grids.events.models import Notification

from .factories import UserFactory, arrange
from .parties import PERSON_1
from .test_case_lifecycle import register

pytestmark = pytest.mark.django_db


def test_a_case_past_30_days_is_supervised_by_the_level_above_once(world, mediation):
    township_staff = UserFactory(username="township_centre", role="centre_staff", region=world.township_a)
    m = mediation["mediator"]
    case = svc.case_accept(case=register(world, mediation), user=m)
    assert sweep_case_deadlines() == {"conclusion": 0, "confirmation": 0}
    arrange(Case.objects.filter(pk=case.pk), conclusion_deadline=timezone.now() - dt.timedelta(minutes=1))
    assert sweep_case_deadlines() == {"conclusion": 1, "confirmation": 0}
    assert sweep_case_deadlines_task() == {"conclusion": 0, "confirmation": 0}
    supervision = CaseSupervision.objects.get(case=case)
    assert supervision.supervising_region == world.township_a  # the village committee's level above
    assert Notification.objects.filter(user=township_staff, key=f"case-overdue:conclusion:{case.pk}").count() == 1


def test_an_undecided_confirmation_past_7_working_days_is_supervised(world, mediation):
    m = mediation["mediator"]
    case = register(world, mediation)
    svc.case_accept(case=case, user=m)
    svc.case_assign(case=case, user=m, mediator=m)
    svc.case_agree(case=case, user=m, terms="赔偿", signed_on=dt.date(2026, 9, 29))
    svc.confirmation_apply(case=case, user=m, court="城关区人民法院", applied_on=dt.date(2026, 9, 30))
    assert sweep_case_deadlines(now=timezone.make_aware(dt.datetime(2026, 10, 15, 12))) == {
        "conclusion": 0,
        "confirmation": 0,
    }
    assert sweep_case_deadlines(now=timezone.make_aware(dt.datetime(2026, 10, 16, 9))) == {
        "conclusion": 0,
        "confirmation": 1,
    }


def test_key_rotation_re_encrypts_and_keeps_values_readable(world, mediation, settings):
    from cryptography.fernet import Fernet

    from governance import personal_data

    register(world, mediation)
    before = list(Party.objects.values_list("id_number", flat=True))
    new_key = Fernet.generate_key().decode()
    settings.PERSONAL_DATA_KEYS = [new_key, *settings.PERSONAL_DATA_KEYS]
    call_command("rotate_personal_data")
    after = list(Party.objects.values_list("id_number", flat=True))
    assert before != after
    settings.PERSONAL_DATA_KEYS = [new_key]  # the old key can now be dropped
    assert personal_data.decrypt(Party.objects.get(name="张三").id_number) == PERSON_1
