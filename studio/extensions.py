"""What the apps above the studio add to a finished creation's page, without the studio
knowing them: an app registers, in its ``AppConfig.ready``, a template shown to the owner under
the results of the engines it names (memorials: "use as memorial portrait" under a memorial
portrait's candidates). The template gets the page's context and ``images``, the job's images."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResultAction:
    template: str
    engines: tuple[str, ...]


_ACTIONS: list[ResultAction] = []


def result_action_register(*, template: str, engines: tuple[str, ...]) -> None:
    action = ResultAction(template, engines)
    if action not in _ACTIONS:  # ready() may run more than once in tests
        _ACTIONS.append(action)


def result_actions_for(*, engine: str) -> list[str]:
    """The templates to show the owner under the results of a job of ``engine``."""
    return [action.template for action in _ACTIONS if engine in action.engines]
