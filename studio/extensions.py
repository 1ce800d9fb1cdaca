"""What the apps above the studio add to a creation's pages, without the studio knowing them.
An app registers, in its ``AppConfig.ready``:

- a template shown to the owner under the results of the engines it names (memorials: "use as
  memorial portrait" under a memorial portrait's candidates); the template gets the page's
  context and ``images``, the job's images;
- what deleting a creation would take from it (memorials: "the portrait of the memorial for
  …"), said on the page that asks before deleting.
"""
from __future__ import annotations

from collections.abc import Callable
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


# Each: a creation -> sentences, in the owner's language, of what deleting it takes from the app.
_DELETION_NOTICES: list[Callable[[object], list[str]]] = []


def deletion_notice_register(notices: Callable[[object], list[str]]) -> None:
    if notices not in _DELETION_NOTICES:
        _DELETION_NOTICES.append(notices)


def deletion_notices_for(*, creation) -> list[str]:
    """What deleting ``creation`` would take from the other apps' pages."""
    return [sentence for notices in _DELETION_NOTICES for sentence in notices(creation)]
