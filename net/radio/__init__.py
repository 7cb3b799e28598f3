"""The 5G radio link model: TR 38.901 path loss over the pit geometry, profiles as data."""

from net.radio.link import FiveGLink, Site
from net.radio.profile import Profile, ProfileError, load_profile

__all__ = ["FiveGLink", "Profile", "ProfileError", "Site", "load_profile"]
