from workflow.steps import open_task, open_tasks

__all__ = ["full_scores", "open_task", "open_tasks"]


def full_scores(call, score=4):
    return {c.pk: (score, f"Comment on {c.title}") for c in call.criteria.all()}
