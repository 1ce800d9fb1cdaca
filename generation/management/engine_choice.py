"""What the engine commands (``animate``, ``restore``) share: the engine named on the command
line, if it is of the kind the command runs and ready here, or a one-line CommandError."""
from django.core.management.base import CommandError

from generation.engines import Engine, get_engine


def engine_for_command(name: str, kind: type[Engine], *, wrong_kind: str) -> Engine:
    chosen = get_engine(name)  # UnknownEngine, an EngineError, is the caller's to report
    if not isinstance(chosen, kind):
        raise CommandError(wrong_kind.format(engine=name))
    readiness = chosen.readiness()
    if not readiness.ready:
        raise CommandError(f"Engine {name} is not ready: {readiness.reason}")
    return chosen
