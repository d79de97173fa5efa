def user_display(user):
    """How account pages and emails name a person."""
    return user.get_full_name() or user.email
