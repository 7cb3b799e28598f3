"""Link profiles load from data, every figure carries a source note, and bad files are refused by name."""

from __future__ import annotations

import re
import tomllib

import pytest

from net.radio.profile import PROFILE_DIR, ProfileError, load_profile, parse_profile

SHIPPED = ("5g-urllc", "5g-embb", "lte")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profiles_load_and_every_figure_has_a_source_or_is_an_assumption(name):
    prof = load_profile(name)
    assert prof.name == name
    for line in (PROFILE_DIR / f"{name}.toml").read_text(encoding="utf-8").splitlines():
        if re.match(r"^\w+ = [-\d.e]+", line):
            note = line.partition("#")[2].strip()
            assert note, f"{name}: no source or assumption note on: {line}"


def test_profiles_order_as_their_sources_say():
    urllc, embb, lte = (load_profile(n) for n in SHIPPED)
    assert urllc.ul_base_ms + urllc.ul_jitter_ms < embb.ul_base_ms < lte.ul_base_ms
    assert urllc.handover_interruption_ms == 0.0  # the IMT-2020 target
    for prof in (urllc, embb, lte):  # the 3GPP measurement defaults: fc4, one sample per 200 ms
        assert (prof.l3_filter_k, prof.measurement_period_s) == (4, 0.2)


def doc(name: str = "5g-embb") -> dict:
    return tomllib.loads((PROFILE_DIR / f"{name}.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("section, key, value, message", [
    ("radio", "bandwidth_mhz", "wide", r"x\.toml: radio\.bandwidth_mhz: must be a number"),
    ("radio", "bandwidth_mhz", -5.0, r"radio\.bandwidth_mhz: -5\.0 is outside"),
    ("latency", "harq_max_tx", 2.5, r"latency\.harq_max_tx: must be an integer"),
    ("radio", "band", "n999", r"radio\.band: unknown band 'n999'"),
    ("mobility", "hysteresis", 3.0, r"mobility\.hysteresis: unknown field"),
    ("mobility", "l3_filter_k", 10, r"mobility\.l3_filter_k: 10 is not a TS 38\.331 filterCoefficient"),
    ("mobility", "measurement_period_s", 0.0, r"mobility\.measurement_period_s: 0\.0 is outside"),
])
def test_bad_fields_are_named(section, key, value, message):
    d = doc()
    d[section][key] = value
    with pytest.raises(ProfileError, match=message):
        parse_profile(d, "x.toml")


def test_missing_field_and_table_are_named(tmp_path):
    d = doc()
    del d["retransmission"]["rto_ms"]
    with pytest.raises(ProfileError, match=r"x\.toml: retransmission\.rto_ms: missing"):
        parse_profile(d, "x.toml")
    del d["retransmission"]
    with pytest.raises(ProfileError, match=r"missing table \[retransmission\]"):
        parse_profile(d, "x.toml")
    bad = tmp_path / "broken.toml"
    bad.write_text("[radio\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"broken\.toml: not valid TOML"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="no such link profile; shipped: 5g-embb, 5g-urllc, lte"):
        load_profile("6g")
