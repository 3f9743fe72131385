"""factory_boy factories: a region tree built level by level with valid codes."""

import datetime as dt

import factory

from governance.choices import DepartmentKind, Role
from governance.codes import CODE_LENGTH, Level
from governance.models import Department, User
from grids.choices import Terrain
from grids.models import GridWorker, Region

TEST_PASSWORD = "Test#Password2026"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"区划{n}")
    terrain = Terrain.PLAIN
    is_urban = False

    @classmethod
    def child(cls, parent: Region, number: int, **kwargs) -> Region:
        level = Level(parent.level + 1)
        width = CODE_LENGTH[level] - len(parent.code)
        code = parent.code + f"{number:0{width}d}"
        defaults = {"grid_type": "comprehensive"} if level == Level.GRID else {}
        return cls(code=code, level=level, parent=parent, **{**defaults, **kwargs})


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    kind = DepartmentKind.POLICE
    name = factory.Sequence(lambda n: f"公安局{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.CENTRE_STAFF
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class GridWorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GridWorker

    name = factory.Sequence(lambda n: f"网格员{n}")
    is_full_time = True
    started_on = dt.date(2024, 1, 1)


def arrange(queryset, **fields) -> int:
    """Put rows into the state a test needs, straight in the database and unaudited, as a
    fixture would (audited models refuse a plain `update()` outside the audited path)."""
    from django.db.models import QuerySet

    return QuerySet.update(queryset.all(), **fields)
