"""Broker URLs, and the broker password from a file or the environment instead of the command line."""

import pytest

from minefleet.cli import main
from net.broker_url import PASSWORD_ENV, BrokerPasswordError, BrokerUrl, for_child, resolve, split_password


def test_password_from_file_goes_into_the_url(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cr:t@/x\nsecond line ignored\n")
    url, on_command_line = resolve("mqtts://cloud@broker.site:8883", secret, environ={})
    assert not on_command_line
    parsed = BrokerUrl.parse(url)
    assert (parsed.username, parsed.password, parsed.host, parsed.port) == ("cloud", "s3cr:t@/x", "broker.site", 8883)


def test_password_from_the_environment_and_the_file_wins_over_it(tmp_path):
    url, _ = resolve("mqtt://fleet@h:1884", environ={PASSWORD_ENV: "from-env"})
    assert BrokerUrl.parse(url).password == "from-env"
    secret = tmp_path / "pw"
    secret.write_text("from-file")
    url, _ = resolve("mqtt://fleet@h:1884", secret, environ={PASSWORD_ENV: "from-env"})
    assert BrokerUrl.parse(url).password == "from-file"


def test_password_in_the_url_is_kept_and_said():
    assert resolve("mqtt://u:pw@h", environ={}) == ("mqtt://u:pw@h", True)
    assert resolve("mqtt://h:1", environ={}) == ("mqtt://h:1", False)
    assert resolve("mqtt://u@h", environ={PASSWORD_ENV: ""}) == ("mqtt://u@h", False)


@pytest.mark.parametrize("url, environ, problem", [
    ("mqtt://u:pw@h", {PASSWORD_ENV: "other"}, "given twice"),
    ("mqtt://h:1883", {PASSWORD_ENV: "other"}, "names no user"),
])
def test_ambiguous_or_userless_passwords_are_refused(url, environ, problem):
    with pytest.raises(BrokerPasswordError, match=problem) as err:
        resolve(url, environ=environ)
    assert "other" not in str(err.value) and "pw" not in str(err.value).replace("password", "")


def test_file_errors_name_the_file_and_never_the_password(tmp_path):
    with pytest.raises(BrokerPasswordError, match=r"'.*missing'.*cannot be read"):
        resolve("mqtt://u@h", tmp_path / "missing", environ={})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(BrokerPasswordError, match="empty"):
        resolve("mqtt://u@h", tmp_path / "empty", environ={})
    (tmp_path / "pw").write_text("hunter2")
    with pytest.raises(BrokerPasswordError) as err:
        resolve("mqtt://u:hunter3@h", tmp_path / "pw", environ={})
    assert "hunter" not in str(err.value)


def test_a_child_gets_the_password_in_its_environment_not_its_command_line():
    url, env = for_child("mqtt://cloud:p%40ss@127.0.0.1:1999", {"HOME": "/h", PASSWORD_ENV: "stale"})
    assert url == "mqtt://cloud@127.0.0.1:1999" and "p@ss" not in url
    assert env == {"HOME": "/h", PASSWORD_ENV: "p@ss"}
    assert resolve(url, environ=env)[0] == "mqtt://cloud:p%40ss@127.0.0.1:1999"
    url, env = for_child("mqtt://127.0.0.1:1999", {PASSWORD_ENV: "stale"})
    assert url == "mqtt://127.0.0.1:1999" and env == {}
    assert split_password("mqtt://u@h") == ("mqtt://u@h", None)


def test_cli_password_errors_and_warning(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    assert main(["run", "tutorial", "--headless", "--transport", "mqtt", "--broker-password-file",
                 str(tmp_path / "pw"), "--out", str(tmp_path / "r1")]) == 2
    assert "--broker-password-file: needs --broker" in capsys.readouterr().err
    assert main(["cloud", "--broker", "mqtt://cloud@127.0.0.1:1", "--broker-password-file",
                 str(tmp_path / "nope"), "--site", "x"]) == 2
    err = capsys.readouterr().err
    assert "--broker-password-file" in err and "nope" in err and "cannot be read" in err
    assert main(["run", "tutorial", "--headless", "--broker-password-file", str(tmp_path / "pw"),
                 "--out", str(tmp_path / "r2")]) == 2
    assert "need --transport mqtt" in capsys.readouterr().err
    monkeypatch.setenv("MINEFLEET_SITE_KEY", "00" * 32)
    # A password on the command line still works (here the broker is not there) and is warned about.
    assert main(["cloud", "--broker", "mqtt://cloud:hunter2@127.0.0.1:1", "--site", "x",
                 "--peer-timeout", "1"]) != 0
    err = capsys.readouterr().err
    assert "process list" in err and "hunter2" not in err
