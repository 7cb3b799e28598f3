"""minefleet: an autonomous open-pit mining fleet simulator. This package wires the tiers together."""

__version__ = "0.1.0"
