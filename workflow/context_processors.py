from .selectors import user_roles


def roles(request):
    """The signed-in person's roles, for the navigation."""
    return {"roles": user_roles(request.user) if hasattr(request, "user") else set()}
