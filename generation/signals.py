"""What other apps may listen to. Sent after the transaction that caused it has committed."""
from django.dispatch import Signal

# A job reached succeeded, failed or canceled. Arguments: job_id, state.
job_finished = Signal()
