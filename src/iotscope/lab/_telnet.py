"""Telnet server dialogue as a sans-IO state machine (RFC 854, options RFC 855/857/858).

The device opens with its option offers (``negotiate``, e.g. ``WILL ECHO``), its banner and a
login prompt (or, for a login-less device, straight away a shell prompt). Client option
requests get the RFC 854 answers without loops: a request for a mode already in force is not
acknowledged; unsupported options are refused (``WONT``/``DONT``); subnegotiations (RFC 855)
are skipped. While the client agreed to ``DO ECHO`` (RFC 857) the device echoes what is typed,
except the password. A wrong password prints the fail message; three in a row close the
connection, and ``lockout_after`` failures (across connections) lock the service: it says
``LOCKED_MESSAGE`` and hangs up on every connection until the lockout period ends.
"""

from __future__ import annotations

from iotscope.lab._catalog import ServiceProfile
from iotscope.lab._creds import Pair
from iotscope.lab._session import Lockout

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
OPTIONS = {"ECHO": 1, "SGA": 3, "STATUS": 5, "TTYPE": 24, "NAWS": 31, "TSPEED": 32,
           "LFLOW": 33, "LINEMODE": 34, "NEW-ENVIRON": 39}  # fmt: skip
VERBS = {"WILL": WILL, "WONT": WONT, "DO": DO, "DONT": DONT}
OURS = frozenset({OPTIONS["ECHO"], OPTIONS["SGA"], OPTIONS["STATUS"]})  # we may WILL these
THEIRS = frozenset({OPTIONS["SGA"], OPTIONS["NAWS"]})  # we accept the client's WILL of these
MAX_LINE = 1024
MAX_SUBNEG = 1024
TRIES_PER_CONNECTION = 3
LOCKED_MESSAGE = b"Too many login failures: login temporarily disabled, try again later\r\n"
EXIT_WORDS = frozenset({"exit", "logout", "quit"})


def parse_negotiation(items: list[str]) -> bytes:
    """``["WILL ECHO", "DO NAWS"]`` -> the IAC byte sequences; unknown words are skipped."""
    out = bytearray()
    for item in items:
        verb, _, name = item.upper().partition(" ")
        if verb in VERBS and name.strip() in OPTIONS:
            out += bytes((IAC, VERBS[verb], OPTIONS[name.strip()]))
    return bytes(out)


class TelnetSession:
    """One telnet connection to one emulated device."""

    def __init__(self, spec: ServiceProfile, pair: Pair | None, lockout: Lockout) -> None:
        self.spec, self.pair, self.lockout = spec, pair, lockout
        self.closed = False
        self.state = "shell" if pair is not None and pair.open else "login"
        self.username = ""
        self.failures = 0
        self._us: dict[int, str] = {}  # our side of an option: "pending" | "on"
        self._him: dict[int, str] = {}
        self._mode = "data"  # IAC parser state: data, iac, verb, sb, sb_iac
        self._verb = 0
        self._subneg = 0
        self._line = bytearray()
        self._after_cr = False

    # -- the outside ---------------------------------------------------------------------
    def start(self) -> bytes:
        if self.lockout.locked:
            self.closed = True
            return LOCKED_MESSAGE
        offers = parse_negotiation(self.spec.negotiate)
        for i in range(0, len(offers), 3):
            side = self._us if offers[i + 1] in (WILL, WONT) else self._him
            if offers[i + 1] in (WILL, DO):
                side[offers[i + 2]] = "pending"
        banner = (self.spec.banner or "").encode("latin-1", "replace")
        return offers + banner + self._prompt()

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            if self.closed:
                break
            out += self._byte(byte)
        return bytes(out)

    # -- RFC 854 command parsing -----------------------------------------------------------
    def _byte(self, b: int) -> bytes:
        mode = self._mode
        if mode == "data":
            if b == IAC:
                self._mode = "iac"
                return b""
            return self._data(b)
        if mode == "iac":
            return self._command(b)
        if mode == "verb":
            self._mode = "data"
            return self._negotiate(self._verb, b)
        if mode == "sb":
            self._subneg += 1
            if b == IAC:
                self._mode = "sb_iac"
            elif self._subneg > MAX_SUBNEG:
                self._mode = "data"  # runaway subnegotiation: give up on it
            return b""
        self._mode = "data" if b == SE else "sb"  # sb_iac: IAC SE ends it, IAC IAC is data
        return b""

    def _command(self, b: int) -> bytes:
        if b == IAC:
            self._mode = "data"
            return self._data(IAC)
        if b in (WILL, WONT, DO, DONT):
            self._mode, self._verb = "verb", b
        elif b == SB:
            self._mode, self._subneg = "sb", 0
        else:
            self._mode = "data"  # NOP, GA, AYT, ... need no answer here
        return b""

    def _negotiate(self, verb: int, opt: int) -> bytes:
        if verb in (DO, DONT):
            return self._side(self._us, opt, verb == DO, opt in OURS, WILL, WONT)
        return self._side(self._him, opt, verb == WILL, opt in THEIRS, DO, DONT)

    @staticmethod
    def _side(
        table: dict[int, str], opt: int, enable: bool, supported: bool, yes: int, no: int
    ) -> bytes:
        state = table.get(opt)
        if enable:
            if state == "on":
                return b""  # already in that mode: do not acknowledge (RFC 854)
            if state == "pending" or supported:
                table[opt] = "on"
                return b"" if state == "pending" else bytes((IAC, yes, opt))
            return bytes((IAC, no, opt))
        table.pop(opt, None)
        return bytes((IAC, no, opt)) if state == "on" else b""

    # -- the dialogue ----------------------------------------------------------------------
    @property
    def echoing(self) -> bool:
        return self._us.get(OPTIONS["ECHO"]) == "on" and self.state != "password"

    def _data(self, b: int) -> bytes:
        if self._after_cr and b in (0, 10):
            self._after_cr = False
            return b""
        self._after_cr = b == 13
        if b in (10, 13):
            line = self._line.decode("latin-1")
            self._line.clear()
            echo = b"\r\n" if self.echoing or self.state == "password" else b""
            return echo + self._line_done(line.strip())
        if b in (8, 127):
            if not self._line:
                return b""
            del self._line[-1]
            return b"\b \b" if self.echoing else b""
        if len(self._line) < MAX_LINE and b >= 32:
            self._line.append(b)
            return bytes((b,)) if self.echoing else b""
        return b""

    def _line_done(self, line: str) -> bytes:
        if self.state == "login":
            if not line:
                return self._prompt()
            self.username, self.state = line, "password"
            return self.spec.password_prompt.encode("latin-1", "replace")
        if self.state == "password":
            return self._check(line)
        return self._shell(line)

    def _check(self, password: str) -> bytes:
        pair = self.pair
        if pair is not None and (self.username, password) == (pair.username, pair.password):
            self.lockout.succeed()
            self.state = "shell"
            return self._prompt()
        self.failures += 1
        self.lockout.fail()
        self.state = "login"
        fail = f"{self.spec.fail_message}\r\n".encode("latin-1", "replace")
        if self.lockout.locked:
            self.closed = True
            return fail + LOCKED_MESSAGE
        if self.failures >= TRIES_PER_CONNECTION:
            self.closed = True
            return fail
        return fail + self._prompt()

    def _shell(self, line: str) -> bytes:
        word = line.split(" ", 1)[0] if line else ""
        if word in EXIT_WORDS:
            self.closed = True
            return b""
        if not word or word in ("enable", "system", "shell", "sh", "linuxshell"):
            return self._prompt()
        reply = f"-sh: {word}: not found\r\n".encode("latin-1", "replace")
        return reply + self._prompt()

    def _prompt(self) -> bytes:
        text = self.spec.shell_prompt if self.state == "shell" else self.spec.login_prompt
        return text.encode("latin-1", "replace")
