"""The cloud tier: a fleet twin built from messages only, dispatch planners, and the cloud service."""
