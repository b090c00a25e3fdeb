#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-completion.py: execcountctl's completions for bash, zsh and fish.

    test-completion.py EXECCOUNTD EXECCOUNTCTL COMPLETIONS-DIR [--daemon]

bash's completion function is called as bash calls it (COMP_WORDS, COMP_CWORD, COMP_LINE,
COMP_POINT), after bash-completion's own functions; fish's completions are asked with
"complete -C"; zsh's file goes through zsh's syntax check. Without a daemon, --unit offers
nothing, quickly and quietly; with --daemon (as root), it offers the units a real
execcountd counted.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib  # noqa: E402
from daemonlib import Cgroup, Daemon, expect, new_uid  # noqa: E402

EXECCOUNTD, EXECCOUNTCTL, COMPLETIONS = sys.argv[1:4]
WITH_DAEMON = "--daemon" in sys.argv[4:]
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
VERBS = ["events", "help", "metrics", "reload", "reset", "stats", "status"]
# The execcountctl these find on PATH: this build's.
ENV = {"PATH": f"{os.path.dirname(os.path.abspath(EXECCOUNTCTL))}:/usr/sbin:/usr/bin:/sbin:/bin",
       "HOME": "/nonexistent", "LC_ALL": "C.UTF-8"}
NO_DAEMON = "--socket=/nonexistent-execcount-completion/io.execcount"


def missing(tool):
    """Fails under CI, where tools/install-deps --test installs every shell; else skips."""
    ci = bool(os.environ.get("CI"))
    print(f"{'FAIL' if ci else 'SKIP'}: {tool} is missing (tools/install-deps --test)")
    sys.exit(1 if ci else 77)


def bash_words(line):
    """COMP_WORDS and COMP_CWORD for line with the cursor at its end, as readline splits
    it: at blanks, and with "=" (in COMP_WORDBREAKS) a word of its own."""
    words = []
    for w in line.split(" "):
        parts = re.split(r"(=)", w)
        words += [p for p in parts if p] or [""]
    return words, len(words) - 1


def bash_complete(line, nospace=False):
    """What bash offers for line; nospace: whether the function asks bash not to add a
    space after the word (compopt, which works only while bash completes, prints "compopt
    -o nospace" here instead)."""
    words, cword = bash_words(line)
    script = (f'source {BASH_COMPLETION} && source "$1" && shift && COMP_WORDS=("$@") && '
              f'COMP_CWORD={cword} && COMP_LINE=$LINE && COMP_POINT=${{#LINE}} && '
              'compopt() { echo "compopt $*" >&2; } && { _execcountctl execcountctl; '
              'printf "%s\\n" "${COMPREPLY[@]}"; }')
    p = subprocess.run(["bash", "-c", script, "bash", os.path.join(COMPLETIONS, "execcountctl.bash"), *words],
                       env={**ENV, "LINE": line}, capture_output=True, text=True, timeout=30)
    want_stderr = "compopt -o nospace\n" if nospace else ""
    expect(p.returncode == 0 and p.stderr == want_stderr,
           f"bash completion of {line!r}: exit {p.returncode}, stderr {p.stderr!r}, expected {want_stderr!r}")
    return sorted(w for w in p.stdout.split("\n") if w)


def fish_complete(line):
    p = subprocess.run(["fish", "--no-config", "-c", 'source $argv[1]; and complete -C"$argv[2]"',
                        os.path.join(COMPLETIONS, "execcountctl.fish"), line],
                       env=ENV, capture_output=True, text=True, timeout=30)
    expect(p.returncode == 0 and not p.stderr, f"fish completion of {line!r}: exit {p.returncode}: {p.stderr}")
    return sorted(w.split("\t")[0] for w in p.stdout.split("\n") if w)


def expect_offers(shell, line, got, want, exact=True):
    ok = got == sorted(want) if exact else set(want) <= set(got)
    expect(ok, f"{shell}: {line!r} offers {got}, expected {'' if exact else 'at least '}{sorted(want)}")


def check_bash():
    c = bash_complete
    expect_offers("bash", "execcountctl ", c("execcountctl "), VERBS)
    expect_offers("bash", "execcountctl st", c("execcountctl st"), ["stats", "status"])
    # After the command, options only.
    expect_offers("bash", "execcountctl stats s", c("execcountctl stats s"), [])
    options = c("execcountctl --")
    for o in ("--help", "--version", "--socket=", "--uid=", "--user=", "--by=", "--unit=", "--lines=",
              "--follow", "--json", "--json=", "--no-legend", "--no-pager", "--format=", "--max-uids=",
              "--max-units=", "--output="):
        expect(o in options, f"bash: {o} is not among the options offered: {options}")
    expect_offers("bash", "execcountctl stats --no-", c("execcountctl stats --no-"), ["--no-legend", "--no-pager"])
    # An option that takes a value: no space after its "=".
    expect_offers("bash", "execcountctl --form", c("execcountctl --form", nospace=True), ["--format="])
    expect_offers("bash", "execcountctl --json=", c("execcountctl --json="), ["pretty", "short"])
    expect_offers("bash", "execcountctl --json=s", c("execcountctl --json=s"), ["short"])
    expect_offers("bash", "execcountctl stats --by=", c("execcountctl stats --by="), ["login", "unit", "user"])
    expect_offers("bash", "execcountctl metrics --format ", c("execcountctl metrics --format "),
                  ["openmetrics", "prometheus"])
    expect_offers("bash", "execcountctl events -n ", c("execcountctl events -n "), ["all"])
    expect_offers("bash", "execcountctl stats --user=ro", c("execcountctl stats --user=ro"), ["root"], exact=False)
    expect("0" in c("execcountctl stats --uid "), "bash: --uid does not offer root's UID 0")
    # No daemon there: --unit offers nothing, says nothing, and does not hang.
    start = time.monotonic()
    expect_offers("bash", f"execcountctl {NO_DAEMON} stats --unit ", c(f"execcountctl {NO_DAEMON} stats --unit "), [])
    expect(time.monotonic() - start < 5, "bash: --unit without a daemon took 5 s or more")


def check_fish():
    c = fish_complete
    expect_offers("fish", "execcountctl st", c("execcountctl st"), ["stats", "status"])
    expect_offers("fish", "execcountctl ", c("execcountctl "), VERBS)
    expect_offers("fish", "execcountctl stats --no-", c("execcountctl stats --no-"), ["--no-legend", "--no-pager"])
    expect_offers("fish", "execcountctl --json=", c("execcountctl --json="), ["--json=pretty", "--json=short"])
    expect_offers("fish", "execcountctl stats --by ", c("execcountctl stats --by "), ["login", "unit", "user"])
    expect_offers("fish", "execcountctl --format=", c("execcountctl --format="),
                  ["--format=openmetrics", "--format=prometheus"])
    expect_offers("fish", "execcountctl stats --user ro", c("execcountctl stats --user ro"), ["root"], exact=False)
    expect_offers("fish", f"execcountctl {NO_DAEMON} stats --unit ", c(f"execcountctl {NO_DAEMON} stats --unit "), [])


def check_zsh():
    path = os.path.join(COMPLETIONS, "_execcountctl")
    p = subprocess.run(["zsh", "-n", path], capture_output=True, text=True)
    expect(p.returncode == 0 and not p.stderr, f"zsh -n {path}: exit {p.returncode}: {p.stderr}")
    with open(path) as f:
        expect(f.readline().strip() == "#compdef execcountctl", "_execcountctl does not start with #compdef")


def check_units_from_daemon(tmp):
    """--unit offers the units a real daemon counted, asked at the --socket of the line."""
    d = Daemon(tmp)
    name = f"execcount-completion-{os.getpid()}.service"
    cg = Cgroup(f"execcount-test-completion-{os.getpid()}.slice/{name}")
    try:
        cg.run(new_uid(), ok=2)
    finally:
        cg.remove()
    try:
        for line in (f"execcountctl --socket={d.socket} stats --unit ",
                     f"execcountctl stats --socket {d.socket} --unit execcount-completion-"):
            expect_offers("bash", line, bash_complete(line), [name], exact=False)
        if shutil.which("fish"):
            line = f"execcountctl --socket={d.socket} events --unit "
            expect_offers("fish", line, fish_complete(line), [name], exact=False)
    finally:
        d.stop()


def main():
    if not os.path.exists(BASH_COMPLETION):
        missing("bash-completion")
    for shell in ("zsh", "fish"):
        if not shutil.which(shell):
            missing(shell)
    tests = [("bash: commands, options, --json modes, users; --unit quiet without a daemon", check_bash),
             ("fish: the same", check_fish),
             ("zsh: the file passes zsh -n", check_zsh)]
    tmp = None
    if WITH_DAEMON:
        daemonlib.setup([sys.argv[0], EXECCOUNTD, EXECCOUNTCTL], 2850000000)
        tmp = tempfile.mkdtemp(prefix="execcount-completion-")
        tests = [("bash and fish: --unit offers the units the daemon counted", lambda: check_units_from_daemon(tmp))]
    try:
        failed = daemonlib.run_tests(tests)
    finally:
        if tmp:
            daemonlib.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
