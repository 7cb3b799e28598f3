"""Only the site's cloud commands a truck: orders are signed, and the fleet refuses any order that is not."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario
from net.auth import REASONS, SiteKey, SiteKeyError, Verifier, sign
from net.envelope import Envelope, EnvelopeError

TOPIC = "mine/s/dispatch/T001"


def order(seq: int = 1, t: float = 10.0, src: str = "cloud", **body) -> Envelope:
    return Envelope(kind="order", src=src, seq=seq, t_sent=t, t_deliver=t,
                    body={"dest": "LA1", "route": "R1", "request": 3, **body})


def signed(key: SiteKey, env: Envelope, topic: str = TOPIC) -> Envelope:
    env.sig = sign(key, topic, env)
    return env


def test_a_signed_order_passes_and_survives_the_wire():
    key = SiteKey.generate()
    env = signed(key, order(t=12.345678901))
    received = Envelope.from_json(env.to_json())
    assert received.sig == env.sig and len(env.sig) == 64
    assert Verifier(key).check(TOPIC, received) is None


def test_other_kinds_encode_as_before():
    env = Envelope(kind="event", src="T001", seq=1, t_sent=1.0, t_deliver=1.0, body={})
    assert b"sig" not in env.to_json()
    assert Envelope.from_json(env.to_json()).sig is None


@pytest.mark.parametrize("bad", [5, "x" * 200])
def test_a_malformed_signature_field_is_an_envelope_error(bad):
    doc = order().to_dict() | {"sig": bad}
    with pytest.raises(EnvelopeError, match="sig"):
        Envelope.from_dict(doc)


def test_each_forgery_is_refused_with_its_reason():
    key = SiteKey.generate()
    v = Verifier(key)
    tampered = signed(key, order(seq=1))
    tampered.body["dest"] = "park-1"
    assert v.check(TOPIC, tampered) == "forged"
    assert v.check(TOPIC, signed(SiteKey.generate(), order(seq=2))) == "forged"  # wrong key
    assert v.check(TOPIC, order(seq=3)) == "unsigned"
    assert v.check("mine/s/dispatch/T002", signed(key, order(seq=4))) == "forged"  # another truck's order
    assert v.check(TOPIC, signed(key, order(seq=5, src="T001"))) == "wrong_sender"
    late = order(seq=6)
    late.t_deliver = late.t_sent - 1.0
    assert v.check(TOPIC, signed(key, late)) == "out_of_window"
    good = signed(key, order(seq=7))
    assert v.check(TOPIC, good) is None
    assert v.check(TOPIC, good) == "replayed"
    assert v.check(TOPIC, replace(good)) == "replayed"


def test_what_json_cannot_carry_is_never_signed_and_never_passes():
    key = SiteKey.generate()
    with pytest.raises(ValueError):
        sign(key, TOPIC, order(note=math.nan))  # would be signed as null, a different message
    with pytest.raises(TypeError):
        sign(key, TOPIC, order(request=2**64))
    huge = order(request=2**64)
    huge.sig = "0" * 64
    assert Verifier(key).check(TOPIC, huge) == "forged"
    keys_in_any_order = signed(key, order(unit="U2", note=None))
    received = Envelope.from_json(keys_in_any_order.to_json())
    received.body = dict(reversed(list(received.body.items())))  # the signed bytes sort the keys
    assert Verifier(key).check(TOPIC, received) is None


def test_orders_overtaking_each_other_are_not_replays():
    """A planner whose decision time varies can send a later order sooner: both are genuine and obeyed."""
    key = SiteKey.generate()
    v = Verifier(key)
    assert v.check(TOPIC, signed(key, order(seq=9))) is None
    assert v.check(TOPIC, signed(key, order(seq=8))) is None
    assert v.check(TOPIC, signed(key, order(seq=8))) == "replayed"


def test_the_key_is_never_shown(tmp_path, monkeypatch):
    key = SiteKey.generate()
    secret = key._secret
    for shown in (repr(key), str(key), f"{key}", repr([key])):
        assert secret.hex() not in shown and secret.hex().upper() not in shown
    path = tmp_path / "site.key"
    path.write_text(secret.hex()[:-2] + "zz\n")
    with pytest.raises(SiteKeyError) as err:
        SiteKey.from_file(path)
    assert secret.hex()[:20] not in str(err.value) and secret.hex()[:20] not in repr(err.value)
    monkeypatch.setenv("MINEFLEET_SITE_KEY", secret.hex()[:40])
    with pytest.raises(SiteKeyError) as err:
        SiteKey.from_env()
    assert secret.hex()[:20] not in str(err.value)
    monkeypatch.setenv("MINEFLEET_SITE_KEY", secret.hex())
    assert sign(SiteKey.from_env(), TOPIC, order()) == sign(key, TOPIC, order())
    path.write_text(f"  {secret.hex()}\n")
    assert sign(SiteKey.from_file(path), TOPIC, order()) == sign(key, TOPIC, order())
    monkeypatch.delenv("MINEFLEET_SITE_KEY")
    assert SiteKey.from_env() is None


ROGUE_ORDERS = 50


def rogue_run(verify: bool) -> tuple[dict, int]:
    """open_pit for 0.5 h with a rogue on the router: at every dispatch request it sends the truck to the park
    (unsigned or under a wrong key), ahead of the cloud's answer, and it replays real orders it captures from
    the dispatch topics, until it has sent ``ROGUE_ORDERS``. ``verify`` False: a fleet that checks nothing."""
    run = build_run(load_scenario("open_pit").with_overrides(hours=0.5))
    if not verify:
        run.sim.comms.verifier = None
    router, topics, cloud = run.wiring.transport, run.wiring.topics, run.cloud
    wrong = SiteKey.generate()
    park = run.sim.mine.parks[0].id
    sent, forged = [0], [0]
    replayed: set[int] = set()

    def publish(topic: str, env: Envelope) -> None:
        if sent[0] < ROGUE_ORDERS:
            sent[0] += 1
            router.publish(topic, env, qos=1)

    def on_event(topic: str, env: Envelope) -> None:
        body = env.body
        if body.get("event") not in ("loaded", "dumped", "ready") or cloud.layout is None:
            return
        route = cloud.layout.route_for(body["at"], park, body["truck_class"], body["payload_t"] > 0)
        if route is None:
            return
        target = topics.dispatch(env.src)
        # seq 0 sorts before the cloud's own answer at the same time, so an unchecking fleet obeys the rogue
        rogue = Envelope(kind="order", src="cloud", seq=0, t_sent=env.t_deliver, t_deliver=env.t_deliver,
                         body={"dest": park, "route": route.id, "request": body.get("request")})
        forged[0] += 1
        if forged[0] % 2:  # unsigned and under a wrong key in turn
            rogue.sig = sign(wrong, target, rogue)
        publish(target, rogue)

    def on_order(topic: str, env: Envelope) -> None:
        if env.src == "cloud" and env.sig and env.seq > 1 and env.seq not in replayed:
            replayed.add(env.seq)
            publish(topic, replace(env))  # a byte-for-byte copy of a real order, as captured

    router.subscribe(topics.event("+"), on_event)
    router.subscribe(topics.dispatch("+"), on_order)
    run.sim.run(0.5 * 3600.0)
    run.close()
    return summarize(run.sim), sent[0]


def test_a_rogue_publisher_commands_no_truck():
    undisturbed = build_run(load_scenario("open_pit").with_overrides(hours=0.5))
    undisturbed.sim.run(0.5 * 3600.0)
    undisturbed.close()
    reference = summarize(undisturbed.sim)
    assert reference["dispatch"]["orders_refused"] == dict.fromkeys(REASONS, 0)

    attacked, sent = rogue_run(verify=True)
    assert sent == ROGUE_ORDERS
    refused = attacked["dispatch"]["orders_refused"]
    assert sum(refused.values()) == ROGUE_ORDERS
    assert refused["unsigned"] > 0 and refused["forged"] > 0 and refused["replayed"] > 0
    assert math.isclose(attacked["tonnes"], reference["tonnes"]) and attacked["loads"] == reference["loads"]
    del attacked["dispatch"]["orders_refused"], reference["dispatch"]["orders_refused"]
    assert attacked == reference  # 0 obeyed: the shift is the undisturbed one, figure for figure

    unchecked, _ = rogue_run(verify=False)  # the same attack on a fleet that checks nothing does send trucks away
    assert unchecked["tonnes"] != reference["tonnes"]


@pytest.mark.parametrize("argv", [
    ["cloud", "--broker", "mqtt://127.0.0.1:1", "--site", "open-pit-coal"],
    ["run", "tutorial", "--headless", "--quiet", "--transport", "mqtt", "--broker", "mqtt://127.0.0.1:1",
     "--no-cloud"],
])
def test_a_cloud_elsewhere_without_a_key_is_refused_in_one_line(argv, monkeypatch, capsys, tmp_path):
    """Before any connection: a fleet and a cloud in two processes must share a key the operator gives."""
    from minefleet.cli import main

    monkeypatch.delenv("MINEFLEET_SITE_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "MINEFLEET_SITE_KEY" in err[0] and "--key-file" in err[0]
    key_file = tmp_path / "site.key"
    key_file.write_text("00" * 31)  # a key one byte short: refused, and not quoted back
    assert main([*argv, "--key-file", str(key_file)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "31 bytes" in err[0] and "00" * 31 not in err[0]


def test_the_key_reaches_no_file_of_the_run_directory(tmp_path):
    from minefleet.headless import run_headless

    key = SiteKey.generate()
    out = tmp_path / "run"
    run_headless(load_scenario("tutorial").with_overrides(hours=0.25), out, quiet=True, key=key)
    secret = key._secret
    for path in out.rglob("*"):
        data = path.read_bytes()
        assert secret not in data and secret.hex().encode() not in data.lower(), path.name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dispatch"]["orders_refused"] == dict.fromkeys(REASONS, 0)
