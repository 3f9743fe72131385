"""/api/v1/assessment/...: catalogue, cycles, results (api.results) and inputs (api.inputs)."""


def register(router) -> None:
    from .after_scores import ROUTES as AFTER_ROUTES
    from .inputs import ROUTES as INPUT_ROUTES
    from .results import ROUTES as RESULT_ROUTES

    for prefix, viewset, basename in [*RESULT_ROUTES, *INPUT_ROUTES, *AFTER_ROUTES]:
        router.register(f"assessment/{prefix}", viewset, basename=basename)
