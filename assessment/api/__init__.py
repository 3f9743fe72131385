"""/api/v1/assessment/...: catalogue, cycles and results (views.results), the inputs (views.inputs,
views.decisions) and what follows the scores (views.after_scores); serializers by the same concerns,
filters in assessment.filtersets."""


def register(router) -> None:
    from .views.after_scores import ROUTES as AFTER_ROUTES
    from .views.decisions import ROUTES as DECISION_ROUTES
    from .views.inputs import ROUTES as INPUT_ROUTES
    from .views.results import ROUTES as RESULT_ROUTES

    for prefix, viewset, basename in [*RESULT_ROUTES, *INPUT_ROUTES, *DECISION_ROUTES, *AFTER_ROUTES]:
        router.register(f"assessment/{prefix}", viewset, basename=basename)
