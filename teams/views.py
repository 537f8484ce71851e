from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from teams import navigation, selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's roles and places, and the pages those roles can open."""
    roles_and_places = selectors.user_roles_and_places(user=request.user)
    links = navigation.links_for(user=request.user, roles={row.role for row in roles_and_places})
    return render(
        request, "teams/home.html", {"roles_and_places": roles_and_places, "links": links}
    )
