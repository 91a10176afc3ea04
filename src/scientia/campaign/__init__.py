"""The closed-loop campaign engine."""

from scientia.campaign.loop import Campaign, Progress
from scientia.campaign.state import CampaignState, Objective

__all__ = ["Campaign", "CampaignState", "Objective", "Progress"]
