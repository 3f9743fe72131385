"""Assessment pages, mounted at /assessment/ (namespace "assessment")."""

from .views.urls_after import urlpatterns as after_patterns
from .views.urls_inputs import urlpatterns as input_patterns
from .views.urls_results import urlpatterns as result_patterns

urlpatterns = [*result_patterns, *after_patterns, *input_patterns]
