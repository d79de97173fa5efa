"""What the error banner above a form lists (templates/_form_errors.html)."""

from django import template

register = template.Library()


@register.filter
def fields_with_errors(form):
    """The visible fields that failed, in the form's order; hidden ones have no place to go."""
    return [field for field in form.visible_fields() if field.errors]
