"""Site plumbing every app may use, and which knows no app of ours: the Celery app
(``celery``), email (``mail``), private file serving (``media``), files in storage and their
sweep (``storage``), and shared field checks (``validators``). The project package
(``petmemories``: settings, URLs) sits at the top; this sits at the bottom."""
