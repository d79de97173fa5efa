"""How templates name people: ``{{ user|person }}``, ``{{ review.reviewer|reviewer }}``.

An erased account shows as "(erased person)" or "Reviewer (erased)", never as its
placeholder address.
"""

from django import template

from nominations.accounts import reviewer_display, user_display

register = template.Library()


@register.filter
def person(user):
    return user_display(user) if user else ""


@register.filter
def reviewer(user):
    return reviewer_display(user) if user else ""
