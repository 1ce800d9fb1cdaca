#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import gc
import os
import sys

# Commands that run one engine on one file with no database, URL or other app of ours. They set
# up only the generation app, which imports no other app of ours (docs/architecture.md): a whole
# `animate` run starts about 0.1 s sooner than with every app, allauth's providers and the admin.
ENGINE_COMMANDS = frozenset({"animate", "restore"})
ENGINE_APPS = ("django.contrib.contenttypes", "generation")


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "petmemories.settings.local")
    from django.core.management import execute_from_command_line

    if len(sys.argv) > 1 and sys.argv[1] in ENGINE_COMMANDS:
        from django.conf import settings

        # Before django.setup(), which execute_from_command_line calls: the operator's settings
        # module (its engines, folders and languages) stays; only the apps loaded narrow.
        settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app in ENGINE_APPS]
    execute_from_command_line(sys.argv)
    # The command is done and the process is about to exit: spare it the last garbage
    # collection over every object the project loaded (about 0.2 s of a short command such as
    # `animate` on a 2-core VM). The memory goes back to the system all the same.
    gc.freeze()


if __name__ == "__main__":
    main()
