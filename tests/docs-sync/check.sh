#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# check.sh SOCKIT_BINARY SOURCE_ROOT [LIBSOCKIT_SO]
#
# The C option rows are the one source of truth (STYLE.md §5). This compares,
# both ways where it can, and prints TAP:
# - each command in `sockit --help` with sockit(1) and the three completions;
# - each option in `sockit CMD --help` with man/sockit-CMD.1.scd (as an
#   entry `*-x*, *--name*`) and the completions (bash and zsh `--name`,
#   fish `-l name`), and every `*--name*` in the man page with --help;
# - every long option in a completion with some command's --help;
# - lib/endpoint.c's type table and lib/epopt.c's option table with
#   man/sockit-endpoint.7.scd;
# - the exported functions of the shared library with man/libsockit.3.scd.
set -u

if (($# < 2)); then
	echo "usage: $0 SOCKIT_BINARY SOURCE_ROOT [LIBSOCKIT_SO]" >&2
	exit 2
fi
sockit=$1
root=$2
lib=${3-}

bash_comp=$root/completions/bash/sockit
zsh_comp=$root/completions/zsh/_sockit
fish_comp=$root/completions/fish/sockit.fish

declare -a lines=()
nl=$'\n'
count=0
failed=0

# pass DESCRIPTION / fail DESCRIPTION DIAGNOSTIC...: record one TAP result.
pass() {
	count=$((count + 1))
	lines+=("ok $count - $1")
}
fail() {
	local what=$1 d
	shift
	count=$((count + 1))
	failed=$((failed + 1))
	lines+=("not ok $count - $what")
	for d in "$@"; do
		lines+=("# $d")
	done
}
# check DESCRIPTION "MISSING..." WHERE: ok when nothing is missing.
check() {
	local what=$1 missing=$2 where=$3
	if [[ -z $missing ]]; then
		pass "$what"
	else
		fail "$what" "missing in $where:$missing"
	fi
}
skip() {
	count=$((count + 1))
	lines+=("ok $count - $1 # SKIP $2")
}

# A file's content, or empty (and a failure) when it cannot be read.
slurp() {
	if [[ -r $1 ]]; then
		cat -- "$1"
	fi
}

# Is a long option NAME in TEXT as a whole word `--NAME`?
has_long() {
	grep -Eq -- "(^|[^[:alnum:]-])--$1([^[:alnum:]-]|\$)" <<<"$2"
}
# Is it in fish form `complete ... -l NAME`?
has_fish_long() {
	grep -E -- '^[[:space:]]*complete[[:space:]]' <<<"$2" |
		grep -Eq -- "[[:space:]]-l[[:space:]]+'?$1'?([^[:alnum:]-]|\$)"
}

# The part of each completion that offers CMD's options. These follow the
# layout of the completion files (their comments point here):
# bash: the arrays _sockit_common_opts=(...) and _sockit_CMD_opts=(...);
# zsh: the array common=(...) and the case branch (CMD) ... ;;
# fish: `complete` lines whose __fish_seen_subcommand_from list names CMD.
bash_part() {
	awk -v a="_sockit_$1_opts=(" -v b="_sockit_common_opts=(" '
		index($0, a) == 1 || index($0, b) == 1 { on = 1 }
		on { print }
		on && /\)/ { on = 0 }' "$bash_comp" 2>/dev/null
}
zsh_part() {
	awk -v c="($1)" '
		$1 == "common=(" { on = 1 }
		$1 == c { on = 2 }
		on { print }
		on == 1 && $1 == ")" { on = 0 }
		on == 2 && $1 == ";;" { on = 0 }' "$zsh_comp" 2>/dev/null
}
fish_part() {
	grep -E -- "^[[:space:]]*complete[[:space:]].*__fish_seen_subcommand_from[^'\"]*[[:space:]]$1([[:space:]'\"]|\$)" \
		"$fish_comp" 2>/dev/null
}

# ---- commands ----------------------------------------------------------------

top_help=$("$sockit" --help 2>&1)
mapfile -t commands < <(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' <<<"$top_help")
if ((${#commands[@]} == 0)); then
	fail "sockit --help lists commands" "no command found under 'Commands:' in:" "$top_help"
else
	pass "sockit --help lists commands (${commands[*]})"
fi

main_man=$(slurp "$root/man/sockit.1.scd")
bash_text=$(slurp "$bash_comp")
zsh_text=$(slurp "$zsh_comp")
fish_text=$(slurp "$fish_comp")
for f in "$root/man/sockit.1.scd" "$bash_comp" "$zsh_comp" "$fish_comp"; do
	[[ -r $f ]] || fail "$f is readable" "cannot read $f"
done

missing_man='' missing_bash='' missing_zsh='' missing_fish=''
for cmd in "${commands[@]}"; do
	grep -Fq -- "*$cmd*" <<<"$main_man" || missing_man+=" $cmd"
	grep -Eq -- "(^|[^[:alnum:]-])$cmd([^[:alnum:]-]|\$)" <<<"$bash_text" || missing_bash+=" $cmd"
	grep -Eq -- "(^|[^[:alnum:]-])$cmd([^[:alnum:]-]|\$)" <<<"$zsh_text" || missing_zsh+=" $cmd"
	grep -Eq -- "(^|[^[:alnum:]-])$cmd([^[:alnum:]-]|\$)" <<<"$fish_text" || missing_fish+=" $cmd"
done
check "commands in sockit(1)" "$missing_man" "man/sockit.1.scd"
check "commands in the bash completion" "$missing_bash" "completions/bash/sockit"
check "commands in the zsh completion" "$missing_zsh" "completions/zsh/_sockit"
check "commands in the fish completion" "$missing_fish" "completions/fish/sockit.fish"

# ---- options of each command ---------------------------------------------------

# "SHORT LONG" per option line of `sockit CMD --help` ("-" for a missing part):
# lines like "  -x, --name ARG", "      --name", "  -4".
help_options() {
	"$sockit" "$1" --help 2>/dev/null | awk '
		/^ +-/ {
			short = "-"; long = "-"
			if (match($0, /^ +-[[:alnum:]]([, ]|$)/)) {
				short = substr($0, RSTART, RLENGTH)
				gsub(/[ ,]/, "", short)
			}
			if (match($0, /--[[:alnum:]][[:alnum:]-]*/))
				long = substr($0, RSTART + 2, RLENGTH - 2)
			print short, long
		}'
}

declare -A all_long=([help]=1 [version]=1) # top-level options
for cmd in "${commands[@]}"; do
	mapfile -t opts < <(help_options "$cmd")
	page=man/sockit-$cmd.1.scd
	if ((${#opts[@]} == 0)); then
		fail "$cmd: sockit $cmd --help lists options" "no option lines in 'sockit $cmd --help'"
		continue
	fi
	if [[ ! -r $root/$page ]]; then
		fail "$cmd: $page exists" "cannot read $root/$page"
		continue
	fi
	man_text=$(cat -- "$root/$page")

	bash_cmd=$(bash_part "$cmd")
	zsh_cmd=$(zsh_part "$cmd")
	fish_cmd=$(fish_part "$cmd")
	missing_man='' missing_bash='' missing_zsh='' missing_fish=''
	declare -A help_long=()
	for o in "${opts[@]}"; do
		short=${o% *} long=${o#* }
		if [[ $long == - ]]; then
			grep -Fq -- "*$short*" <<<"$man_text" || missing_man+=" $short"
			continue
		fi
		help_long[$long]=1
		all_long[$long]=1
		if [[ $short == - ]]; then
			entry="*--$long*"
		else
			entry="*$short*, *--$long*"
		fi
		grep -Fq -- "$entry" <<<"$man_text" || missing_man+=" $entry"
		has_long "$long" "$bash_cmd" || missing_bash+=" --$long"
		has_long "$long" "$zsh_cmd" || missing_zsh+=" --$long"
		has_fish_long "$long" "$fish_cmd" || missing_fish+=" -l $long"
	done
	check "$cmd: every --help option has an entry in $page" "$missing_man" "$page"
	check "$cmd: every long option in the bash completion" "$missing_bash" \
		"the $cmd options of completions/bash/sockit"
	check "$cmd: every long option in the zsh completion" "$missing_zsh" \
		"the $cmd options of completions/zsh/_sockit"
	check "$cmd: every long option in the fish completion" "$missing_fish" \
		"the $cmd options of completions/fish/sockit.fish"

	# ... and the reverse: nothing a completion offers for CMD that it lacks.
	unknown=''
	while read -r name; do
		[[ -n ${help_long[$name]-} ]] || unknown+=" $name"
	done < <({
		grep -oE -- '(^|[^[:alnum:]-])--[[:alnum:]][[:alnum:]-]*' <<<"$bash_cmd$nl$zsh_cmd" |
			sed 's/^.*--//'
		grep -oE -- '[[:space:]]-l[[:space:]]+[[:alnum:]][[:alnum:]-]*' <<<"$fish_cmd" |
			awk '{print $NF}'
	} | sort -u)
	if [[ -z $unknown ]]; then
		pass "$cmd: the completions offer only options of --help"
	else
		fail "$cmd: the completions offer only options of --help" \
			"offered for $cmd but not in 'sockit $cmd --help':$unknown"
	fi

	unknown=''
	while read -r name; do
		[[ -n ${help_long[$name]-} ]] || unknown+=" --$name"
	done < <(grep -o -- '\*--[[:alnum:]][[:alnum:]-]*\*' <<<"$man_text" | tr -d '*' |
		sed 's/^--//' | sort -u)
	if [[ -z $unknown ]]; then
		pass "$cmd: every option in $page exists in --help"
	else
		fail "$cmd: every option in $page exists in --help" \
			"documented in $page but not in 'sockit $cmd --help':$unknown"
	fi
	unset help_long
done

# Completions offering options no command has.
for f in "$bash_comp" "$zsh_comp"; do
	unknown=''
	while read -r name; do
		[[ -n ${all_long[$name]-} ]] || unknown+=" --$name"
	done < <(grep -oE -- '(^|[^[:alnum:]-])--[[:alnum:]][[:alnum:]-]*' "$f" 2>/dev/null |
		sed 's/^.*--//' | sort -u)
	if [[ -z $unknown ]]; then
		pass "${f#"$root"/}: every long option exists in --help"
	else
		fail "${f#"$root"/}: every long option exists in --help" "not in any --help:$unknown"
	fi
done
unknown=''
while read -r name; do
	[[ -n ${all_long[$name]-} ]] || unknown+=" -l $name"
done < <(grep -E -- '^[[:space:]]*complete[[:space:]]' "$fish_comp" 2>/dev/null |
	grep -oE -- '[[:space:]]-l[[:space:]]+[[:alnum:]][[:alnum:]-]*' | awk '{print $NF}' | sort -u)
if [[ -z $unknown ]]; then
	pass "completions/fish/sockit.fish: every long option exists in --help"
else
	fail "completions/fish/sockit.fish: every long option exists in --help" \
		"not in any --help:$unknown"
fi

# ---- endpoint types and options --------------------------------------------------

ep_page=man/sockit-endpoint.7.scd
ep_text=$(slurp "$root/$ep_page")
# Rows of the type table: { "tcp-listen", SK_TCP, ... },
mapfile -t types < <(sed -n '/eptypes\[\] *= *{/,/^};/s/^[[:space:]]*{ *"\([^"]*\)".*/\1/p' \
	"$root/lib/endpoint.c" 2>/dev/null)
if ((${#types[@]} == 0)); then
	fail "endpoint types found in lib/endpoint.c" "no rows like '{ \"tcp\", SK_TCP, ... }' in eptypes[]"
else
	missing=''
	for t in "${types[@]}"; do
		grep -Eq -- "^\|[[:space:]]+(.*, )?\*$t\*" <<<"$ep_text" || missing+=" $t"
	done
	check "every endpoint type of lib/endpoint.c (${#types[@]}) has a row in $ep_page" \
		"$missing" "the TYPES table of $ep_page"
fi

# Rows of the option table: [SK__O_BACKLOG] = { .name = "backlog", ...
mapfile -t epopts < <(sed -n 's/^[[:space:]]*\[SK__O_[A-Z0-9_]*\] *= *{ *\.name *= *"\([^"]*\)".*/\1/p' \
	"$root/lib/epopt.c" 2>/dev/null)
if ((${#epopts[@]} == 0)); then
	fail "endpoint options found in lib/epopt.c" "no rows like '[SK__O_X] = { .name = \"x\"' in lib/epopt.c"
else
	missing=''
	declare -A known_epopt=()
	for o in "${epopts[@]}"; do
		known_epopt[$o]=1
		grep -Eq -- "^\*$o\*" <<<"$ep_text" || missing+=" $o"
	done
	check "every endpoint option of lib/epopt.c (${#epopts[@]}) has an entry in $ep_page" \
		"$missing" "$ep_page"
	unknown=''
	while read -r o; do
		[[ -n ${known_epopt[$o]-} ]] || unknown+=" $o"
	done < <(sed -n '/^# OPTIONS/,/^# /s/^\*\([a-z][a-z0-9-]*\)\*.*/\1/p' <<<"$ep_text")
	if [[ -z $unknown ]]; then
		pass "every option entry in $ep_page exists in lib/epopt.c"
	else
		fail "every option entry in $ep_page exists in lib/epopt.c" \
			"documented in $ep_page but not in lib/epopt.c:$unknown"
	fi
fi

# ---- library exports ---------------------------------------------------------------

lib_page=man/libsockit.3.scd
if [[ -z $lib ]]; then
	skip "exported functions in $lib_page" "no LIBSOCKIT_SO given"
elif ! command -v nm >/dev/null; then
	skip "exported functions in $lib_page" "nm not found"
else
	lib_text=$(slurp "$root/$lib_page")
	mapfile -t exports < <(nm -D --defined-only "$lib" 2>/dev/null | awk '$2 == "T" { print $3 }')
	if ((${#exports[@]} == 0)); then
		fail "exported functions found in $lib" "nm -D --defined-only $lib lists no T symbol"
	else
		missing=''
		declare -A exported=()
		for s in "${exports[@]}"; do
			exported[$s]=1
			grep -Eq -- "(^|[^[:alnum:]_])$s([^[:alnum:]_]|\$)" <<<"$lib_text" || missing+=" $s"
		done
		check "every exported function (${#exports[@]}) named in $lib_page" "$missing" "$lib_page"
		unknown=''
		while read -r s; do
			[[ -n ${exported[$s]-} ]] || unknown+=" $s"
		done < <(sed -n 's/^\*\(sk_[a-z0-9_]*\)\*(.*/\1/p' <<<"$lib_text")
		if [[ -z $unknown ]]; then
			pass "every function entry in $lib_page is exported"
		else
			fail "every function entry in $lib_page is exported" \
				"documented in $lib_page but not exported by $lib:$unknown"
		fi
	fi
fi

echo "1..$count"
printf '%s\n' "${lines[@]}"
((failed == 0))
