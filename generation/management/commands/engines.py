from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.engines import Engine, EngineError, all_engines, get_engine
from generation.engines.torch_runtime import models_dir


class Command(BaseCommand):
    help = (
        "List the generation engines, where each runs, and whether it is ready. "
        "`engines download NAME` fetches an engine's weights from the model hub into GENERATION_MODELS_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["download"])
        parser.add_argument("name", nargs="?", help="The engine whose weights to download.")

    def handle(self, *args, action=None, name=None, **options):
        if action is None:
            for engine in all_engines():
                readiness = engine.readiness()
                status = "ready" if readiness.ready else f"not ready: {readiness.reason}"
                self.stdout.write(f"{engine.name:<16} {engine.queue:<4} {status}  — {engine.description}")
            self.list_worker_reports()
            return
        if not name:
            raise CommandError("Name the engine whose weights to download, e.g. `engines download svd-xt`.")
        self.download(name)

    def list_worker_reports(self) -> None:
        """What the workers said, which is what the site offers (see services.engine_availability)."""
        from django.db import DatabaseError
        from django.utils.timesince import timesince

        from generation.models import EngineReport

        try:
            reports = list(EngineReport.objects.all())
        except DatabaseError:  # no database here (a bare worker machine): this machine's view is all there is
            return
        if reports:
            self.stdout.write("\nAs the workers reported:")
        for report in reports:
            status = "ready" if report.ready else f"not ready: {report.reason}"
            self.stdout.write(f"  {report.engine:<16} {report.worker:<32} {status} ({timesince(report.reported_at)} ago)")

    def download(self, name: str) -> None:
        from huggingface_hub import constants, snapshot_download
        from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, LocalEntryNotFoundError

        try:
            engine = get_engine(name)
        except EngineError as error:
            raise CommandError(str(error)) from None
        if not engine.weights_repo:
            raise CommandError(f"{engine.name} needs no weights.")
        for download in weights_downloads(engine):
            self.stdout.write(f"Downloading {download.repo} into {download.folder} …")
            try:
                snapshot_download(repo_id=download.repo, local_dir=download.folder, allow_patterns=download.allow)
            except GatedRepoError:
                raise CommandError(
                    f"{download.repo} is gated: accept its licence on the model hub, set HF_TOKEN and try again."
                ) from None
            except LocalEntryNotFoundError:
                raise CommandError(
                    f"Could not reach the model hub at {constants.ENDPOINT} to download {download.repo}; "
                    "check the network (or HF_ENDPOINT) and try again."
                ) from None
            except (HfHubHTTPError, OSError) as error:
                raise CommandError(f"Could not download {download.repo}: {' '.join(str(error).split())}") from None
        readiness = engine.readiness()
        self.stdout.write(f"{engine.name}: {'ready' if readiness.ready else f'downloaded, not ready: {readiness.reason}'}")


@dataclass(frozen=True)
class Download:
    repo: str
    folder: Path
    allow: list[str] | None  # glob patterns of the repository's files; None for all of them


def weights_downloads(engine: Engine) -> list[Download]:
    """What ``engines download`` fetches for ``engine``, and where: its ``weights_repo`` into its
    weights folder, then each of its ``extra_weights`` into a subfolder of it."""
    folder = models_dir(engine.weights_folder or engine.name)
    return [
        Download(engine.weights_repo, folder, list(engine.weights_allow) or None),
        *(Download(repo, folder / into, list(allow) or None) for repo, allow, into in engine.extra_weights),
    ]
