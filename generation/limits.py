"""What a job may do: given by the app that submits it (the shop's plans), as plain data."""
from dataclasses import dataclass


@dataclass(frozen=True)
class JobLimits:
    """What a job may do, from its owner's plan (``shop.models.Plan.job_limits``). The defaults
    are the free tier's, so a job nobody vouched for gets no more."""

    max_height: int = 720
    gpu_engines: bool = False
    watermark: bool = True
    priority: bool = False
