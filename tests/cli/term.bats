#!/usr/bin/env bats
# term.bats - the interactive terminal of connect (SPEC §3 connect), driven for
# real through tmux: typing while data arrives, escaping what the peer sends,
# history across restarts, Ctrl-D and Ctrl-C. Each test has its own tmux
# server (-L), killed in teardown; every wait polls the screen with a bound.

load lib/common

setup() {
	sk_setup
	command -v tmux >/dev/null || skip "tmux is not installed"
	TM=sockit-term-$$-$BATS_TEST_NUMBER
	STATE=$T/state
	unset TMUX
}

teardown() {
	tm kill-server 2>/dev/null || true
	sk_teardown
}

# tm ARGS...: tmux on this test's own server; neither bats' fd 3 nor a held
# FIFO may leak into the server (it would hold them open).
tm() {
	(
		for fd in ${HELD_FDS[@]+"${HELD_FDS[@]}"}; do
			eval "exec $fd>&-"
		done
		exec tmux -L "$TM" -f /dev/null "$@" 3>&-
	)
}

# term_start NAME ARGS...: run `sockit connect ARGS` in a 120x30 tmux session
# NAME with a private state directory; its exit status goes to $T/NAME.rc and
# the terminal settings it left to $T/NAME.stty. Waits for the prompt.
term_start() {
	local name=$1
	shift
	mkdir -p "$T/home"
	{
		printf '#!/bin/bash\n'
		printf 'export HOME=%q XDG_STATE_HOME=%q LC_ALL=C.UTF-8\n' "$T/home" "$STATE"
		printf '%q ' "$SOCKIT" connect "$@"
		printf '2>%q\n' "$T/$name.err"
		printf 'status=$?\n'
		printf 'stty -a >%q 2>&1\n' "$T/$name.stty"
		printf 'echo $status >%q.tmp && mv %q.tmp %q\n' "$T/$name.rc" "$T/$name.rc" "$T/$name.rc"
		printf 'exec sleep 600\n'
	} >"$T/$name.sh"
	chmod +x "$T/$name.sh"
	tm new-session -d -s "$name" -x 120 -y 30 "$T/$name.sh"
	wait_screen "$name" '^>( |$)' 5
}

screen() {
	tm capture-pane -p -t "$1"
}

# wait_screen NAME ERE SECS: until a line of the screen matches.
wait_screen() {
	local scr_name=$1 scr_re=$2
	wait_until "$3" eval 'screen "$scr_name" | grep -qE -- "$scr_re"' || {
		echo "screen of $1 never matched '$2':" >&2
		screen "$1" >&2
		return 1
	}
}

# wait_screen_fixed NAME TEXT SECS: until a screen line is exactly TEXT.
wait_screen_fixed() {
	local scr_name=$1 scr_text=$2
	wait_until "$3" eval 'screen "$scr_name" | grep -qxF -- "$scr_text"' || {
		echo "screen of $1 never showed the line '$2':" >&2
		screen "$1" >&2
		return 1
	}
}

# term_status NAME SECS: wait for the session's sockit to exit; sets TSTATUS.
term_status() {
	wait_until "$2" test -f "$T/$1.rc" || {
		echo "sockit in $1 still running; screen:" >&2
		screen "$1" >&2
		return 1
	}
	TSTATUS=$(cat "$T/$1.rc")
}

# Line editing and history need the readline build (-Dreadline=enabled), which names the
# library it opens at run time, and that library installed.
needs_readline() {
	local soname
	soname=$(grep -aoE 'libreadline\.so\.[0-9]+' "$SOCKIT" | head -1)
	[[ -n $soname ]] || skip "sockit was built without readline"
	ldconfig -p | grep -qF "$soname" || skip "$soname is not installed"
}

# A listener whose stdin is a held FIFO on fd 7: `printf ... >&7` sends to the terminal.
peer_listen() {
	hold_fifo "$T/peer.in" 7
	listen_bg --in "$T/peer.in" 127.0.0.1 0
}

@test "terminal: a typed line reaches the peer" {
	peer_listen
	term_start s 127.0.0.1 "$LPORT"
	tm send-keys -t s 'hello there' Enter
	wait_line "$T/listen.out" '^hello there$' 5
	assert_equal "$(cat "$T/listen.out")" "hello there"
}

@test "terminal: incoming lines print above a half-typed line, which stays intact" {
	needs_readline
	peer_listen
	term_start s 127.0.0.1 "$LPORT"
	tm send-keys -t s 'half typed'
	wait_screen_fixed s '> half typed' 5
	printf 'first incoming\nsecond incoming\n' >&7
	wait_screen_fixed s 'second incoming' 5
	run -0 screen s
	# The incoming lines come first, then the prompt with the typed text, unbroken.
	assert_equal "$(grep -v '^$' <<<"$output")" $'first incoming\nsecond incoming\n> half typed'
	tm send-keys -t s ' and done' Enter
	wait_line "$T/listen.out" '^half typed and done$' 5
}

@test "terminal: control bytes and invalid UTF-8 from the peer are shown escaped" {
	peer_listen
	term_start s 127.0.0.1 "$LPORT"
	printf 'plain \033[31mred\033[0m bell\a bad\377 caf\303\251\r\n' >&7
	wait_screen_fixed s 'plain \x1b[31mred\x1b[0m bell\x07 bad\xff café' 5
	# Nothing turned red: the escape sequence reached the screen as text.
	run -0 tm capture-pane -p -e -t s
	refute_output --partial $'\033[31m'
}

@test "terminal: a peer's line without a newline is shown, and never grows without bound" {
	peer_listen
	term_start s 127.0.0.1 "$LPORT"
	printf 'login: ' >&7
	wait_screen s '^login:' 5
	# 20 KiB with no newline: shown in pieces of at most 4 KiB, the prompt still usable.
	head -c 20480 /dev/zero | tr '\0' 'z' >&7
	wait_until 5 eval '(( $(screen s | tr -cd z | wc -c) > 0 ))'
	tm send-keys -t s 'still here' Enter
	wait_line "$T/listen.out" '^still here$' 5
}

@test "terminal: --crlf sends each line with CRLF" {
	peer_listen
	term_start s --crlf 127.0.0.1 "$LPORT"
	tm send-keys -t s 'one' Enter
	tm send-keys -t s 'two' Enter
	wait_line "$T/listen.out" '^two' 5
	assert_equal "$(od -An -c "$T/listen.out" | tr -s ' \n' ' ')" " o n e \r \n t w o \r \n "
}

@test "terminal: history is saved with mode 0600 and recalled after a restart" {
	needs_readline
	peer_listen
	term_start s 127.0.0.1 "$LPORT"
	tm send-keys -t s 'remember me' Enter
	tm send-keys -t s ' secret with a leading space' Enter
	wait_line "$T/listen.out" 'secret' 5
	tm send-keys -t s C-d
	release_fifo 7
	term_status s 5
	assert_equal "$TSTATUS" 0
	assert_equal "$(cat "$STATE/sockit/history")" "remember me"
	assert_equal "$(stat -c %a "$STATE/sockit/history")" 600
	assert_equal "$(stat -c %a "$STATE/sockit")" 700

	hold_fifo "$T/peer2.in" 8
	listen_bg --name listen2 --in "$T/peer2.in" 127.0.0.1 0
	term_start s2 127.0.0.1 "$LPORT"
	tm send-keys -t s2 Up
	wait_screen_fixed s2 '> remember me' 5
	tm send-keys -t s2 Enter
	wait_line "$T/listen2.out" '^remember me$' 5
}

@test "terminal: a history file that is a symlink is not followed" {
	needs_readline
	mkdir -p "$STATE/sockit"
	ln -s "$T/elsewhere" "$STATE/sockit/history"
	peer_listen
	term_start s 127.0.0.1 "$LPORT"
	tm send-keys -t s 'not for elsewhere' Enter
	wait_line "$T/listen.out" '^not for elsewhere$' 5
	[[ ! -e $T/elsewhere ]]
}

@test "terminal: Ctrl-D half-closes, what the peer sends after still shows, then exit 0" {
	peer_listen
	term_start s 127.0.0.1 "$LPORT"
	tm send-keys -t s 'last line' Enter
	wait_line "$T/listen.out" '^last line$' 5
	tm send-keys -t s C-d
	# The listener saw our EOF (it closed its stdout) but is still sending.
	wait_until 5 eval '! ls -l /proc/$LPID/fd 2>/dev/null | grep -qF "$T/listen.out"'
	alive "$LPID"
	[[ ! -f $T/s.rc ]]
	printf 'reply after EOF\n' >&7
	wait_screen_fixed s 'reply after EOF' 5
	release_fifo 7
	term_status s 5
	assert_equal "$TSTATUS" 0
	wait_exit "$LPID" 5
	assert_equal "$WSTATUS" 0
}

@test "terminal: Ctrl-C exits 130 and leaves the terminal usable" {
	peer_listen
	term_start s 127.0.0.1 "$LPORT"
	tm send-keys -t s 'typed'
	wait_screen_fixed s '> typed' 5
	tm send-keys -t s C-c
	term_status s 5
	assert_equal "$TSTATUS" 130
	# Echo and line editing are back on: the terminal was restored for the shell.
	run -0 cat "$T/s.stty"
	assert_output --regexp '(^|[ ;])icanon( |;|$)'
	assert_output --regexp '(^|[ ;])echo( |;|$)'
}

@test "terminal: the peer closing ends the session with exit 0" {
	peer_listen
	term_start s 127.0.0.1 "$LPORT"
	printf 'bye\n' >&7
	wait_screen_fixed s 'bye' 5
	release_fifo 7
	term_status s 5
	assert_equal "$TSTATUS" 0
	run -0 cat "$T/s.err"
	assert_output "connection closed by peer"
}
