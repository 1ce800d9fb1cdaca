"""What other apps may listen to. generation imports no other app of ours: what happens
elsewhere when a job ends is the listeners' business, connected in their AppConfig.ready()."""
from django.dispatch import Signal

# A job is reaching succeeded, failed or canceled: sent inside the transition's transaction,
# with the job's row locked, so what a receiver writes commits or rolls back with the state
# (and, the transition being refused for a job already finished, happens once). Argument: job.
job_ending = Signal()

# Sent after that transaction has committed.

# A job reached succeeded, failed or canceled. Arguments: job_id, state.
job_finished = Signal()
