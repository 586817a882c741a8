"""The survey against Debian's real servers, not the lab's emulators.

Each test starts real daemons on 127.214.R.N (R from the process id, so parallel runs do not
collide), runs ``iotscope survey run`` with logins on, as a user would, and checks the
finding: port and service, banner, login outcome and the list entry that worked. Accounts
that a daemon checks through /etc/passwd and /etc/shadow (dropbear, /bin/login) exist only
inside a private mount namespace the test creates (``unshare -m`` with bind-mounted copies
of the account files): the machine's own accounts are never changed.

The survey names the server software of each (dropbear, lighttpd, mini_httpd) from the
shipped rules.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from iotscope.knowledge import load_default_credentials

pytestmark = [pytest.mark.network, pytest.mark.timeout(300)]
NET = f"127.214.{20 + os.getpid() % 200}"


def need(*tools: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("real servers on port 22/23/80 and mount namespaces need root")
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make system-deps)")


def busybox_has(applet: str) -> None:
    need("busybox")
    listed = subprocess.run(["busybox", "--list"], capture_output=True, text=True).stdout
    if applet not in listed.split():
        pytest.skip(f"this busybox has no {applet} (Debian's busybox-static has)")


# --- daemons --------------------------------------------------------------------------------


def _listening(host: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args} exited: {log.read_text(errors='replace')[-800:]}")
        try:
            socket.create_connection((host, port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{proc.args} did not listen on {host}:{port}")


@contextmanager
def daemon(cmd: Sequence[str], host: str, port: int, log: Path) -> Iterator[None]:
    """Run ``cmd`` in its own session until the block ends; kill that session after."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _listening(host, port, proc, log)
        yield
    finally:
        with suppress(ProcessLookupError):  # the session we started: daemon and children
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def accounts(work: Path, users: dict[str, str]) -> list[str]:
    """A command prefix that runs its command in a private mount namespace where ``users``
    (name -> password) exist: copies of passwd, shadow and group bind-mounted over /etc."""
    need("unshare", "openssl")
    files = {name: (Path("/etc") / name).read_text() for name in ("passwd", "shadow", "group")}
    for n, (user, password) in enumerate(users.items()):
        uid = 42400 + n
        hashed = subprocess.run(["openssl", "passwd", "-6", password], capture_output=True,
                                text=True, check=True).stdout.strip()  # fmt: skip
        files["passwd"] += f"{user}:x:{uid}:{uid}::/tmp:/bin/sh\n"
        files["shadow"] += f"{user}:{hashed}:19000:0:99999:7:::\n"
        files["group"] += f"{user}:x:{uid}:\n"
    binds = []
    for name, text in files.items():
        path = work / f"etc-{name}"
        path.write_text(text)
        path.chmod(0o640 if name == "shadow" else 0o644)
        binds.append(f"mount --bind {path} /etc/{name}")
    script = " && ".join(binds) + ' && exec "$@"'
    probe = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", "true"],
                           capture_output=True, text=True)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.strip()[:200]}")
    return ["unshare", "-m", "sh", "-c", script, "sh"]


# --- the survey, as a user runs it ----------------------------------------------------------


def survey(work: Path, hosts: Sequence[str], ports: str, *extra: str) -> dict[str, Any]:
    """``iotscope survey run`` over ``hosts``; findings by ``ip:port``."""
    scope, out = work / "scope.txt", work / "findings.jsonl"
    scope.write_text("\n".join(hosts) + "\n")
    env = {**os.environ, "IOTSCOPE_HOME": str(work / "home")}
    cmd = [sys.executable, "-m", "iotscope", "survey", "run", "--scope", str(scope),
           "--ports", ports, "--out", str(out), *extra]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-2000:]
    found = {}
    for line in out.read_text().split("\n"):
        if line.strip():
            rec = json.loads(line)
            found[f"{rec['ip']}:{rec['port']}"] = rec
    return found


def login_of(rec: dict[str, Any]) -> tuple[str, str | None, str | None]:
    return rec["login"]["outcome"], rec["login"]["username"], rec["login"]["credential"]


# --- dropbear -------------------------------------------------------------------------------

KEYS = {"rsa": "ssh-rsa", "ecdsa": "ecdsa-sha2-nistp256", "ed25519": "ssh-ed25519"}


@pytest.fixture(scope="module")
def dropbear_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three dropbears, one per host-key type: two with a weak account, one strong only."""
    need("dropbear", "dropbearkey")
    work = tmp_path_factory.mktemp("dropbear")
    users = {"rsa": {"support": "support"}, "ecdsa": {"admin": "admin"},
             "ed25519": {"operator": "c0rrect-Horse-battery"}}  # fmt: skip
    hosts = {kind: f"{NET}.{n}" for n, kind in enumerate(KEYS, start=11)}
    with ExitStack() as stack:
        for kind, host in hosts.items():
            key = work / f"key-{kind}"
            subprocess.run(["dropbearkey", "-t", kind, "-f", str(key)], check=True,
                           capture_output=True)  # fmt: skip
            prefix = accounts(work / kind if (work / kind).mkdir() is None else work, users[kind])
            cmd = [*prefix, "dropbear", "-F", "-E", "-j", "-k", "-p", f"{host}:22",
                   "-r", str(key), "-P", str(work / f"{kind}.pid")]  # fmt: skip
            stack.enter_context(daemon(cmd, host, 22, work / f"dropbear-{kind}.log"))
        found = survey(work, list(hosts.values()), "22", "--max-attempts", "12")
    return {"hosts": hosts, "found": found}


@pytest.mark.parametrize("kind", list(KEYS))
def test_dropbear_banner_and_host_key(dropbear_run: dict[str, Any], kind: str) -> None:
    rec = dropbear_run["found"][f"{dropbear_run['hosts'][kind]}:22"]
    assert rec["service"] == "ssh"
    assert rec["banner"].startswith("SSH-2.0-dropbear_")
    assert rec["details"]["host_key"] == KEYS[kind]
    assert "password" in rec["details"]["auth_methods"].split(",")


def test_dropbear_logins(dropbear_run: dict[str, Any]) -> None:
    found, hosts = dropbear_run["found"], dropbear_run["hosts"]
    assert login_of(found[f"{hosts['rsa']}:22"]) == ("accepted", "support", "mirai-2016#11")
    assert login_of(found[f"{hosts['ecdsa']}:22"]) == ("accepted", "admin", "mirai-2016#4")
    strong = found[f"{hosts['ed25519']}:22"]["login"]
    assert (strong["outcome"], strong["attempts"]) == ("rejected", 12)


def test_dropbear_is_named(dropbear_run: dict[str, Any]) -> None:
    identity = dropbear_run["found"][f"{dropbear_run['hosts']['rsa']}:22"]["identity"] or {}
    assert "dropbear" in (identity.get("product") or "").lower()
    assert identity.get("version") == "2022.83"


# --- BusyBox telnetd ------------------------------------------------------------------------

LOGIN_SCRIPT = """#!/bin/sh
# A device's own login, as embedded firmware scripts it: three tries, no delay.
printf 'IPCam login shell\\r\\n'
n=0
while [ "$n" -lt 3 ]; do
    printf 'login: '
    read -r user || exit 1
    printf 'Password: '
    read -r pass || exit 1
    if [ "$user" = '{user}' ] && [ "$pass" = '{password}' ]; then
        exec /bin/sh
    fi
    printf '\\r\\nLogin incorrect\\r\\n'
    n=$((n + 1))
done
"""


def login_script(work: Path, name: str, user: str, password: str) -> Path:
    path = work / f"login-{name}.sh"
    path.write_text(LOGIN_SCRIPT.format(user=user, password=password))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def telnet_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """BusyBox telnetd: with Debian's /bin/login (pam_faildelay: 3 s after each failure, the
    weak pair 11th on the list) on three hosts; with a scripted login, weak and strong; with
    a bare shell (no login at all)."""
    busybox_has("telnetd")
    need("login")
    work = tmp_path_factory.mktemp("telnetd")
    weak_script = login_script(work, "weak", "root", "vizxv")
    strong_script = login_script(work, "strong", "admin", "N0t-on-any-list")
    prefix = accounts(work, {"support": "support"})
    hosts = {
        "bin_login_1": (f"{NET}.21", [*prefix, "busybox", "telnetd", "-F", "-p", "23",
                                      "-b", f"{NET}.21", "-l", "/bin/login"]),
        "bin_login_2": (f"{NET}.22", [*prefix, "busybox", "telnetd", "-F", "-p", "23",
                                      "-b", f"{NET}.22", "-l", "/bin/login"]),
        "bin_login_3": (f"{NET}.23", [*prefix, "busybox", "telnetd", "-F", "-p", "23",
                                      "-b", f"{NET}.23", "-l", "/bin/login"]),
        "script_weak": (f"{NET}.24", ["busybox", "telnetd", "-F", "-p", "23", "-b", f"{NET}.24",
                                      "-l", str(weak_script)]),
        "shell": (f"{NET}.25", ["busybox", "telnetd", "-F", "-p", "23", "-b", f"{NET}.25",
                                "-l", "/bin/sh"]),
    }  # fmt: skip
    strong = (f"{NET}.26", ["busybox", "telnetd", "-F", "-p", "23", "-b", f"{NET}.26",
                            "-l", str(strong_script)])  # fmt: skip
    with ExitStack() as stack:
        for name, (host, cmd) in {**hosts, "script_strong": strong}.items():
            stack.enter_context(daemon(cmd, host, 23, work / f"telnetd-{name}.log"))
        began = time.monotonic()
        found = survey(work, [h for h, _ in hosts.values()], "23", "--login-budget", "90")
        took = time.monotonic() - began
        (work / "strong").mkdir()
        strong_found = survey(work / "strong", [strong[0]], "23", "--max-attempts", "9")
    return {"hosts": {k: h for k, (h, _) in hosts.items()}, "found": found,
            "strong": strong_found[f"{strong[0]}:23"], "took": took}  # fmt: skip


@pytest.mark.parametrize("name", ["bin_login_1", "bin_login_2", "bin_login_3"])
def test_debian_bin_login_with_fail_delay_is_found_weak(
    telnet_run: dict[str, Any], name: str
) -> None:
    rec = telnet_run["found"][f"{telnet_run['hosts'][name]}:23"]
    assert rec["service"] == "telnet"
    assert "Debian GNU/Linux" in rec["banner"]
    assert login_of(rec) == ("accepted", "support", "mirai-2016#11")
    assert "fail delay" in rec["login"]["detail"]  # measured, and met with parallel connections


def test_scripted_login_and_bare_shell(telnet_run: dict[str, Any]) -> None:
    found, hosts = telnet_run["found"], telnet_run["hosts"]
    weak = found[f"{hosts['script_weak']}:23"]
    assert weak["banner"].endswith("IPCam login shell")  # after telnetd's /etc/issue.net
    assert login_of(weak) == ("accepted", "root", "mirai-2016#2")
    shell = found[f"{hosts['shell']}:23"]
    assert login_of(shell) == ("no_auth", None, None)
    strong = telnet_run["strong"]["login"]
    assert (strong["outcome"], strong["attempts"]) == ("rejected", 9)


# --- web servers behind Basic auth ----------------------------------------------------------


@pytest.fixture(scope="module")
def web_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """lighttpd (mod_auth, plain user file), BusyBox httpd (httpd.conf ``/:user:pass``) and
    mini_httpd (.htpasswd with an MD5-crypt hash), each weak; lighttpd also strong."""
    need("lighttpd", "mini_httpd", "openssl")
    busybox_has("httpd")
    work = tmp_path_factory.mktemp("web")
    www = work / "www"
    www.mkdir()
    (www / "index.html").write_text("<html><title>Camera</title>ok</html>\n")
    hosts = {"lighttpd": f"{NET}.31", "lighttpd_strong": f"{NET}.32", "busybox": f"{NET}.33",
             "mini_httpd": f"{NET}.34"}  # fmt: skip
    cmds = {}
    for name, pair in (("lighttpd", "admin:admin"), ("lighttpd_strong", "admin:Sturdy-Pass-42")):
        users = work / f"{name}.users"
        users.write_text(pair + "\n")
        conf = work / f"{name}.conf"
        conf.write_text(
            f'server.document-root = "{www}"\nserver.bind = "{hosts[name]}"\nserver.port = 80\n'
            f'server.errorlog = "{work}/{name}.err"\nindex-file.names = ("index.html")\n'
            'server.modules = ("mod_auth", "mod_authn_file")\nauth.backend = "plain"\n'
            f'auth.backend.plain.userfile = "{users}"\n'
            'auth.require = ("/" => ("method" => "basic", "realm" => "IP Camera", '
            '"require" => "valid-user"))\n'
        )
        cmds[name] = ["lighttpd", "-D", "-f", str(conf)]
    bb_conf = work / "busybox-httpd.conf"
    bb_conf.write_text("/:admin:1234\n")
    cmds["busybox"] = ["busybox", "httpd", "-f", "-p", f"{hosts['busybox']}:80", "-h", str(www),
                       "-c", str(bb_conf)]  # fmt: skip
    mh = work / "mh"
    mh.mkdir()
    (mh / "index.html").write_text("ok\n")
    hashed = subprocess.run(["openssl", "passwd", "-1", "password"], capture_output=True,
                            text=True, check=True).stdout.strip()  # fmt: skip
    (mh / ".htpasswd").write_text(f"admin:{hashed}\n")
    for path in (work, mh, mh / "index.html", mh / ".htpasswd"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # mini_httpd reads them as nobody
    cmds["mini_httpd"] = ["mini_httpd", "-D", "-h", hosts["mini_httpd"], "-p", "80",
                          "-d", str(mh), "-l", str(work / "mini_httpd.log")]  # fmt: skip
    with ExitStack() as stack:
        for name, cmd in cmds.items():
            stack.enter_context(daemon(cmd, hosts[name], 80, work / f"{name}.log"))
        weak = [h for name, h in hosts.items() if name != "lighttpd_strong"]
        found = survey(work, weak, "80")
        (work / "strong").mkdir()  # lighttpd waits 1 s after a failed Basic auth: a budget
        found.update(survey(work / "strong", [hosts["lighttpd_strong"]], "80",  # it must pace
                            "--login-budget", "40"))  # fmt: skip
    return {"hosts": hosts, "found": found}


def test_lighttpd_basic_auth(web_run: dict[str, Any]) -> None:
    found, hosts = web_run["found"], web_run["hosts"]
    weak = found[f"{hosts['lighttpd']}:80"]
    assert (weak["service"], weak["banner"]) == ("http", "lighttpd/1.4.69")
    assert (
        weak["details"]["auth"] == "basic" and 'realm="IP Camera"' in weak["details"]["http_realm"]
    )
    assert login_of(weak) == ("accepted", "admin", "mirai-2016#4")
    strong = found[f"{hosts['lighttpd_strong']}:80"]["login"]
    listed = sum("http" in e.protocols for e in load_default_credentials())
    assert (strong["outcome"], strong["attempts"]) == ("rejected", listed)  # the whole list
    assert "connections at once" in strong["detail"]  # 1 s per failure, yet in the budget


def test_busybox_httpd_basic_auth(web_run: dict[str, Any]) -> None:
    rec = web_run["found"][f"{web_run['hosts']['busybox']}:80"]
    assert rec["service"] == "http" and rec["details"]["auth"] == "basic"
    assert "Web Server Authentication" in rec["details"]["http_realm"]
    assert login_of(rec) == ("accepted", "admin", "mirai-2016#52")


def test_mini_httpd_basic_auth(web_run: dict[str, Any]) -> None:
    rec = web_run["found"][f"{web_run['hosts']['mini_httpd']}:80"]
    assert (rec["service"], rec["banner"]) == ("http", "mini_httpd/1.30 26Oct2018")
    assert login_of(rec) == ("accepted", "admin", "mirai-2016#13")


@pytest.mark.parametrize(
    ("name", "product", "version"),
    [("lighttpd", "lighttpd", "1.4.69"), ("mini_httpd", "mini_httpd", "1.30")],
)
def test_web_server_software_is_named(
    web_run: dict[str, Any], name: str, product: str, version: str
) -> None:
    identity = web_run["found"][f"{web_run['hosts'][name]}:80"]["identity"] or {}
    assert product in (identity.get("product") or "").lower()
    assert identity.get("version") == version


# --- mosquitto ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mqtt_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Private mosquitto brokers on their own addresses: a password file with a weak account,
    one with a strong account, and one that allows anonymous clients."""
    need("mosquitto", "mosquitto_passwd")
    work = tmp_path_factory.mktemp("mqtt")
    hosts = {"weak": f"{NET}.41", "strong": f"{NET}.42", "anonymous": f"{NET}.43"}
    pairs = {"weak": ("admin", "admin"), "strong": ("sensor", "Hard-to-Guess-77")}
    cmds = {}
    for name, host in hosts.items():
        lines = [f"listener 1883 {host}", "persistence false", "log_dest stderr", "user root"]
        if name in pairs:
            pw = work / f"{name}.passwd"
            subprocess.run(["mosquitto_passwd", "-b", "-c", str(pw), *pairs[name]], check=True,
                           capture_output=True)  # fmt: skip
            pw.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {pw}"]
        else:
            lines += ["allow_anonymous true"]
        conf = work / f"{name}.conf"
        conf.write_text("\n".join(lines) + "\n")
        cmds[name] = ["mosquitto", "-c", str(conf)]
    with ExitStack() as stack:
        for name, cmd in cmds.items():
            stack.enter_context(daemon(cmd, hosts[name], 1883, work / f"mosquitto-{name}.log"))
        found = survey(work, list(hosts.values()), "1883")
    return {"hosts": hosts, "found": found}


def test_mosquitto_password_file_and_anonymous(mqtt_run: dict[str, Any]) -> None:
    found, hosts = mqtt_run["found"], mqtt_run["hosts"]
    weak = found[f"{hosts['weak']}:1883"]
    assert weak["service"] == "mqtt" and weak["details"]["anonymous"] == "false"
    assert login_of(weak) == ("accepted", "admin", "vendor-generic#18")
    assert found[f"{hosts['strong']}:1883"]["login"]["outcome"] == "rejected"
    anonymous = found[f"{hosts['anonymous']}:1883"]
    assert anonymous["details"]["anonymous"] == "true"
    assert login_of(anonymous) == ("no_auth", None, None)
