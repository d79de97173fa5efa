from .selectors import calls_led_by, user_roles


def roles(request):
    """The signed-in person's roles, and the calls they lead, for the navigation.

    The calls are fetched in the one query that tells whether the person leads any.
    """
    if not hasattr(request, "user"):
        return {"roles": set(), "led_calls": []}
    led_calls = calls_led_by(request.user)
    return {"roles": user_roles(request.user, led_calls=led_calls), "led_calls": led_calls}
