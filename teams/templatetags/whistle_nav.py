"""`{% main_navigation as links %}`: the registry's links for the signed-in user, for base.html."""

from django import template

from teams import navigation, selectors
from teams.navigation import NavLink

register = template.Library()


@register.simple_tag(takes_context=True)
def main_navigation(context: template.Context) -> list[NavLink]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return navigation.links_for(user=user, roles=selectors.user_roles(user=user))
