"""The flow chart of a nomination, drawn by viewflow with the process's position on it."""

from django.core.exceptions import ObjectDoesNotExist
from viewflow.workflow import chart
from viewflow.workflow.status import STATUS

from .flows import NominationFlow
from .selectors import steps_of_process


def nomination_flow_svg(*, nomination):
    grid = chart.calc_layout_data(NominationFlow)
    try:
        process = nomination.process
    except ObjectDoesNotExist:  # a draft has no process yet
        process = None
    if process is not None:
        # viewflow's calc_cell_status reads task rows alone; the routed steps (gateways,
        # functions, the join, the ends) have none, and their tasks record them instead.
        for node, status in steps_of_process(process_id=process.pk):
            cell = grid[node]
            if cell.status is None or status != STATUS.NEW:
                cell.status = status
    return chart.grid_to_svg(grid)
