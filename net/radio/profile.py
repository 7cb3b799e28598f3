"""Link profiles as data (``net/profiles/*.toml``), loaded with errors that name the file and the field.

A profile holds the figures that differ between radio technologies and deployments (latency, reliability,
bandwidth, mobility); the geometry (sites, walls) comes from the map. Every figure in a shipped profile carries
its source, or is labelled an assumption, in the TOML file beside it.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from net.radio.pathloss import band_ghz

PROFILE_DIR = Path(__file__).resolve().parent.parent / "profiles"


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    # [radio]
    band: str  # carrier band for every site ("" = each site's own band from the map)
    bandwidth_mhz: float  # [MHz] channel bandwidth (downlink noise and rate)
    ul_allocation_mhz: float  # [MHz] bandwidth a truck transmits in on the uplink
    dl_share: float  # [-] share of the downlink channel a truck's message is scheduled on
    gnb_antenna_gain_dbi: float  # [dBi]
    ue_antenna_gain_dbi: float  # [dBi]
    gnb_noise_figure_db: float  # [dB]
    ue_noise_figure_db: float  # [dB]
    ue_tx_power_dbm: float  # [dBm]
    ue_height_m: float  # [m] truck antenna above the road
    interference_load: float  # [-] fraction of neighbour-cell power that interferes (cell load)
    ul_interference_margin_db: float  # [dB] rise over thermal noise at the gNB from other uplink users
    shannon_alpha: float  # [-] attenuation of the Shannon bound (implementation losses)
    max_spectral_efficiency: float  # [bit/s/Hz] highest MCS
    shadow_scale: float  # [-] multiplies the TR 38.901 shadow-fading sigma (0 turns shadowing off)
    # [latency]
    ul_base_ms: float  # [ms] one-way user-plane delay with no retransmission, uplink
    dl_base_ms: float  # [ms] the same, downlink
    ul_jitter_ms: float  # [ms] mean of the exponential delay variation, uplink
    dl_jitter_ms: float  # [ms] the same, downlink
    harq_rtt_ms: float  # [ms] delay added by each HARQ retransmission
    harq_max_tx: int  # [-] transmissions of a transport block before the radio gives up
    # [reliability]
    bler_target: float  # [-] first-transmission block error rate that link adaptation aims for
    bler_sinr50_db: float  # [dB] SINR at which the lowest MCS fails half its transmissions
    bler_slope_db: float  # [dB] steepness of that curve (logistic scale)
    loss_floor: float  # [-] loss beyond the radio (core, transport) per message
    outage_sinr_db: float  # [dB] below this SINR the truck cannot hold the link at all
    # [mobility]
    handover_hysteresis_db: float  # [dB] a neighbour must be this much stronger to take over
    time_to_trigger_s: float  # [s] ... in every measurement for this long
    handover_interruption_ms: float  # [ms] no user-plane data while the cell changes
    measurement_period_s: float  # [s] one L1 RSRP measurement per site this often (also the L3 filter's X)
    l3_filter_k: int  # [-] layer-3 filterCoefficient k: a = 1/2^(k/4) per measurement period (0 = no filter)
    # [retransmission] (QoS 1 over TCP)
    rto_ms: float  # [ms] first retransmission time-out
    rto_backoff: float  # [-] factor applied to the time-out after each failed attempt
    max_attempts: int  # [-] attempts (first send included) before a QoS 1 message is given up


# (section, key, kind, low, high): kind "str", "float" or "int"; bounds inclusive.
_SPEC: tuple[tuple[str, str, str, float, float], ...] = (
    ("profile", "name", "str", 0, 0), ("profile", "summary", "str", 0, 0),
    ("radio", "band", "str", 0, 0),
    ("radio", "bandwidth_mhz", "float", 0.1, 2000.0), ("radio", "ul_allocation_mhz", "float", 0.1, 2000.0),
    ("radio", "dl_share", "float", 1e-4, 1.0),
    ("radio", "gnb_antenna_gain_dbi", "float", -10.0, 40.0), ("radio", "ue_antenna_gain_dbi", "float", -10.0, 20.0),
    ("radio", "gnb_noise_figure_db", "float", 0.0, 20.0), ("radio", "ue_noise_figure_db", "float", 0.0, 20.0),
    ("radio", "ue_tx_power_dbm", "float", -10.0, 40.0), ("radio", "ue_height_m", "float", 1.0, 10.0),
    ("radio", "interference_load", "float", 0.0, 1.0), ("radio", "ul_interference_margin_db", "float", 0.0, 30.0),
    ("radio", "shannon_alpha", "float", 0.05, 1.0), ("radio", "max_spectral_efficiency", "float", 0.1, 30.0),
    ("radio", "shadow_scale", "float", 0.0, 3.0),
    ("latency", "ul_base_ms", "float", 0.0, 1000.0), ("latency", "dl_base_ms", "float", 0.0, 1000.0),
    ("latency", "ul_jitter_ms", "float", 0.0, 1000.0), ("latency", "dl_jitter_ms", "float", 0.0, 1000.0),
    ("latency", "harq_rtt_ms", "float", 0.0, 100.0), ("latency", "harq_max_tx", "int", 1, 32),
    ("reliability", "bler_target", "float", 0.0, 0.5), ("reliability", "bler_sinr50_db", "float", -30.0, 30.0),
    ("reliability", "bler_slope_db", "float", 0.01, 10.0), ("reliability", "loss_floor", "float", 0.0, 0.5),
    ("reliability", "outage_sinr_db", "float", -40.0, 30.0),
    ("mobility", "handover_hysteresis_db", "float", 0.0, 30.0), ("mobility", "time_to_trigger_s", "float", 0.0, 10.0),
    ("mobility", "handover_interruption_ms", "float", 0.0, 10000.0),
    ("mobility", "measurement_period_s", "float", 0.01, 10.0), ("mobility", "l3_filter_k", "int", 0, 19),
    ("retransmission", "rto_ms", "float", 1.0, 60000.0), ("retransmission", "rto_backoff", "float", 1.0, 10.0),
    ("retransmission", "max_attempts", "int", 1, 20),
)
_SECTIONS = sorted({s for s, *_ in _SPEC} | {"sources"})
# FilterCoefficient ::= ENUMERATED {fc0 .. fc9, fc11, fc13, fc15, fc17, fc19} (3GPP TS 38.331 sec. 6.3.2).
L3_FILTER_KS = frozenset((*range(10), 11, 13, 15, 17, 19))


def _field(path: str, doc: dict[str, Any], section: str, key: str, kind: str, lo: float, hi: float) -> Any:
    where = f"{path}: {section}.{key}"
    table = doc.get(section)
    if not isinstance(table, dict):
        raise ProfileError(f"{path}: missing table [{section}]")
    if key not in table:
        raise ProfileError(f"{where}: missing")
    value = table[key]
    if kind == "str":
        if not isinstance(value, str):
            raise ProfileError(f"{where}: must be a string, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProfileError(f"{where}: must be a number, got {value!r}")
    if kind == "int" and not isinstance(value, int):
        raise ProfileError(f"{where}: must be an integer, got {value!r}")
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ProfileError(f"{where}: {value!r} is outside [{lo:g}, {hi:g}]")
    return int(value) if kind == "int" else float(value)


def parse_profile(doc: dict[str, Any], path: str) -> Profile:
    """Check every field of a parsed profile document; ``path`` is only used in messages."""
    unknown = sorted(set(doc) - set(_SECTIONS))
    if unknown:
        raise ProfileError(f"{path}: unknown table [{unknown[0]}]")
    known = {s: {k for s2, k, *_ in _SPEC if s2 == s} for s in _SECTIONS}
    for section, table in doc.items():
        if section != "sources" and isinstance(table, dict):
            extra = sorted(set(table) - known[section])
            if extra:
                raise ProfileError(f"{path}: {section}.{extra[0]}: unknown field")
    values = {key: _field(path, doc, section, key, kind, lo, hi) for section, key, kind, lo, hi in _SPEC}
    if not values["name"]:
        raise ProfileError(f"{path}: profile.name: must not be empty")
    if values["l3_filter_k"] not in L3_FILTER_KS:
        raise ProfileError(f"{path}: mobility.l3_filter_k: {values['l3_filter_k']} is not a TS 38.331 "
                           f"filterCoefficient (0-9, 11, 13, 15, 17, 19)")
    if values["band"]:
        try:
            band_ghz(values["band"])
        except ValueError as exc:
            raise ProfileError(f"{path}: radio.band: {exc}") from None
    return Profile(**{f.name: values[f.name] for f in fields(Profile)})


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (``5g-urllc``, ``5g-embb``, ``lte``) or a profile file by path."""
    p = Path(name_or_path)
    if p.suffix != ".toml":
        p = PROFILE_DIR / f"{name_or_path}.toml"
        if not p.is_file():
            shipped = sorted(f.stem for f in PROFILE_DIR.glob("*.toml"))
            raise ProfileError(f"{p}: no such link profile; shipped: {', '.join(shipped)}")
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{p}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{p}: not valid TOML: {exc}") from None
    return parse_profile(doc, str(p))
