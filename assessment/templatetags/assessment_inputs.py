"""{% assessment_input_links as links %}: the assessment input pages the current user may open
(the home card and the pages' sub-navigation)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def assessment_input_links(context) -> list[tuple[str, str]]:
    from assessment.views.inputs import input_links

    user = context.get("user")
    if user is None or not user.is_authenticated:
        return []
    return input_links(user)
