#!/usr/bin/env bats
# systemd.bats - listen --systemd: socket activation (LISTEN_FDS) and READY=1.

load lib/common

@test "--systemd under systemd-socket-activate serves the passed socket" {
	command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate not installed"
	local port
	port=$(free_port)
	bg_run activate -- systemd-socket-activate -l "127.0.0.1:$port" \
		"$SOCKIT" listen -v --systemd
	wait_line "$T/activate.err" "^Listening on 127\.0\.0\.1:$port" 5
	run -0 timeout 10 "$SOCKIT" connect 127.0.0.1 "$port" <<<"hello systemd"
	wait_line "$T/activate.out" '^hello systemd$' 5
	wait_line "$T/activate.err" "^listening on tcp-listen:127\.0\.0\.1:$port\$" 5
}

@test "--systemd on a passed UNIX socket reports it as unix-listen:PATH" {
	command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate not installed"
	bg_run activate -- systemd-socket-activate -l "$T/act.sock" "$SOCKIT" listen -v --systemd
	wait_until 5 test -S "$T/act.sock"
	run -0 timeout 10 "$SOCKIT" connect -U "$T/act.sock" <<<"over unix"
	wait_line "$T/activate.out" '^over unix$' 5
	wait_line "$T/activate.err" "^listening on unix-listen:$T/act.sock\$" 5
}

@test "--systemd sends READY=1 to NOTIFY_SOCKET once listening (path and @abstract)" {
	run -0 timeout 20 "$PY" "$HELPERS/activate.py" "$T/notify" "$SOCKIT" listen --systemd
	assert_line "notify READY=1"
	assert_line "exit 0"
	run -0 timeout 20 "$PY" "$HELPERS/activate.py" "@sockit-notify-$$" "$SOCKIT" listen --systemd
	assert_line "notify READY=1"
	assert_line "exit 0"
}

@test "--systemd without activation, or activation for another pid, is exit 2" {
	run -2 env -u LISTEN_PID -u LISTEN_FDS "$SOCKIT" listen --systemd
	assert_output "sockit: listen: --systemd: no socket passed (LISTEN_PID, LISTEN_FDS)"
	run -2 env LISTEN_PID=1 LISTEN_FDS=1 "$SOCKIT" listen --systemd
	assert_output "sockit: listen: --systemd: no socket passed (LISTEN_PID, LISTEN_FDS)"
	run -2 "$SOCKIT" listen --systemd 8080
	assert_output --partial "sockit: listen: --systemd takes the socket systemd passes"
}
