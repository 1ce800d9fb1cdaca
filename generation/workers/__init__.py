"""What runs in a worker process: the Celery tasks (``tasks``), the Dramatiq actors and their
entry point (``dramatiq_actors``, ``dramatiq_worker``), and the heartbeats and engine reports
every worker process writes (``reports``). They call ``generation.services``; nothing below
imports them. Sending a job's message is ``generation.messaging``'s."""
