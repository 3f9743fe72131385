"""The dashboard's demo step (registered in DashboardConfig.ready(), run last by seed_demo)."""

from governance.demo import DemoRun

from .services import refresh_activity


def seed(run: DemoRun) -> None:
    refresh_activity()  # the dashboard's monthly counts (the beat refreshes them hourly afterwards)
