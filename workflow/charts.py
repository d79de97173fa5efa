"""The flow chart of a nomination, drawn by viewflow with the process's position on it."""

from django.core.exceptions import ObjectDoesNotExist
from viewflow.workflow import chart

from .flows import NominationFlow


def nomination_flow_svg(*, nomination):
    grid = chart.calc_layout_data(NominationFlow)
    try:
        process = nomination.process
    except ObjectDoesNotExist:  # a draft has no process yet
        process = None
    if process is not None:
        chart.calc_cell_status(NominationFlow, grid, process.pk)
    return chart.grid_to_svg(grid)
