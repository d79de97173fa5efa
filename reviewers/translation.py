"""The rubric in every interface language (see nominations/translation.py)."""

from modeltranslation.translator import TranslationOptions, register

from .models import RubricCriterion


@register(RubricCriterion)
class RubricCriterionTranslationOptions(TranslationOptions):
    fields = ("title", "description")
    required_languages = {"en": ("title",)}
