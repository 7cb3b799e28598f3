"""Bounded statistics shared by every tier (imports nothing of minefleet): docs/architecture.md, "Runs and KPIs"."""
