#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# build-deb.sh [-o OUTDIR] [--head]
#
# Build the Debian packages of sockit from this tree, outside the tree:
#   1. copy the working tree (without .git and build directories) to a temporary
#      directory; with --head, export the committed HEAD with `git archive` instead;
#   2. put packaging/debian at debian/ in the copy;
#   3. dpkg-buildpackage -us -uc -b;
#   4. lintian --fail-on error,warning (errors and warnings must be clean);
#   5. unpack the .debs into a throwaway root, check that `dpkg -c` lists the
#      binary, the man pages, the completions and the .pc, that the unpacked
#      sockit runs, and that a program builds against the unpacked library;
#   6. print the .deb paths (copied to OUTDIR with -o).
# Needs: dpkg-dev debhelper lintian fakeroot, plus the Build-Depends of
# packaging/debian/control (dpkg-buildpackage checks them).
set -euo pipefail

usage() {
	echo "usage: $0 [-o OUTDIR] [--head]" >&2
	exit 2
}

outdir=
from_head=0
while (($#)); do
	case $1 in
	-o) (($# >= 2)) || usage; outdir=$2; shift 2 ;;
	--head) from_head=1; shift ;;
	-h | --help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -f $root/meson.build && -d $root/packaging/debian ]] || {
	echo "build-deb.sh: $root does not look like the sockit tree" >&2
	exit 2
}
for tool in dpkg-buildpackage dpkg-parsechangelog lintian fakeroot; do
	command -v "$tool" >/dev/null || {
		echo "build-deb.sh: $tool not found;" \
			"apt-get install -y devscripts debhelper lintian dpkg-dev fakeroot" >&2
		exit 2
	}
done

version=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -S Version)
work=$(mktemp -d "${TMPDIR:-/tmp}/sockit-deb.XXXXXX")
src=$work/sockit-$version
mkdir -p "$src"
echo "==> copying the tree to $src"

# 1. The source: the working tree as it is on disk (so uncommitted work is what
#    gets packaged), or the committed HEAD with --head.
if ((from_head)); then
	git -C "$root" rev-parse --verify -q HEAD >/dev/null || {
		echo "build-deb.sh: --head needs a git checkout with a commit" >&2
		exit 2
	}
	git -C "$root" archive --format=tar HEAD | tar -x -C "$src"
else
	excludes=(--exclude=/.git --exclude='/build*' --exclude='/obj-*' --exclude=/debian
		--exclude=__pycache__ --exclude='*.o')
	if command -v rsync >/dev/null; then
		rsync -a "${excludes[@]}" "$root/" "$src/"
	else
		# tar's --exclude has no leading-slash anchor; ./NAME anchors at the top.
		tar -C "$root" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
			--exclude=./debian --exclude=__pycache__ --exclude='*.o' -cf - . |
			tar -C "$src" -xf -
	fi
fi

# 2. debian/ at the top of the copy.
rm -rf "$src/debian"
cp -a "$root/packaging/debian" "$src/debian"

# 3. Build the binary packages.
echo "==> dpkg-buildpackage -us -uc -b"
(cd "$src" && dpkg-buildpackage -us -uc -b) 2>&1 | tee "$work/build.log"

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
changes=$work/sockit_${version}_${arch}.changes
[[ -f $changes ]] || {
	echo "build-deb.sh: $changes was not produced" >&2
	exit 1
}
# The three packages; the automatic -dbgsym packages sit next to them.
mapfile -t debs < <(find "$work" -maxdepth 1 -name '*.deb' ! -name '*-dbgsym_*' | sort)
((${#debs[@]} == 3)) || {
	echo "build-deb.sh: expected 3 .debs, got ${#debs[@]}: ${debs[*]}" >&2
	exit 1
}

# 4. lintian: errors and warnings fail; info tags are shown but do not.
echo "==> lintian --fail-on error,warning $changes"
lintian --fail-on error,warning --display-info "$changes" 2>&1 | tee "$work/lintian.log"
echo "lintian: clean of errors and warnings"

# 5. Check the contents and unpack into a throwaway root.
echo "==> checking package contents"
deb_of() { printf '%s\n' "${debs[@]}" | grep "/$1_${version}_"; }
tool_deb=$(deb_of sockit)
lib_deb=$(deb_of libsockit0)
dev_deb=$(deb_of libsockit-dev)

failed=0
expect() { # expect DEB PATH...: each PATH must be in `dpkg -c DEB`
	local deb=$1 listing path
	shift
	listing=$(dpkg -c "$deb" | awk '{print $6}' | sed 's,^\./,/,')
	for path in "$@"; do
		if grep -qxF "$path" <<<"$listing"; then
			echo "  ok   $(basename "$deb"): $path"
		else
			echo "  MISSING from $(basename "$deb"): $path" >&2
			failed=1
		fi
	done
}
expect "$tool_deb" \
	/usr/bin/sockit \
	/usr/share/man/man1/sockit.1.gz \
	/usr/share/man/man1/sockit-connect.1.gz \
	/usr/share/man/man1/sockit-listen.1.gz \
	/usr/share/man/man1/sockit-probe.1.gz \
	/usr/share/man/man1/sockit-relay.1.gz \
	/usr/share/man/man1/sockit-resolve.1.gz \
	/usr/share/man/man7/sockit-endpoint.7.gz \
	/usr/share/bash-completion/completions/sockit \
	/usr/share/zsh/vendor-completions/_sockit \
	/usr/share/fish/vendor_completions.d/sockit.fish \
	/usr/share/doc/sockit/copyright
expect "$lib_deb" \
	"/usr/lib/$multiarch/libsockit.so.0" \
	"/usr/lib/$multiarch/libsockit.so.$version" \
	"/usr/lib/$multiarch/sockit/sockit-tls.so"
expect "$dev_deb" \
	/usr/include/sockit.h \
	"/usr/lib/$multiarch/libsockit.so" \
	"/usr/lib/$multiarch/libsockit.a" \
	"/usr/lib/$multiarch/pkgconfig/sockit.pc" \
	/usr/share/man/man3/libsockit.3.gz

check=$work/check-root
mkdir -p "$check"
for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$check"; done
libdir=$check/usr/lib/$multiarch

if out=$(LD_LIBRARY_PATH=$libdir "$check/usr/bin/sockit" --version 2>&1); then
	echo "  ok   unpacked sockit runs: $out"
else
	echo "  FAIL unpacked sockit --version: $out" >&2
	failed=1
fi
# readline is opened at run time, so the binary names its soname rather than NEEDing it.
if ! grep -aq 'libreadline\.so\.' "$check/usr/bin/sockit"; then
	echo "  FAIL the packaged sockit was built without readline; debian/rules enables it" >&2
	failed=1
fi

# A program built against the unpacked header, .pc and .so.
cat >"$work/use.c" <<'EOF'
#include <sockit.h>
#include <stdio.h>
int main(void)
{
	struct sk_err err;
	char buf[128];
	sk_err_clear(&err);
	puts(sk_strerror(err.code, buf, sizeof buf));
	return 0;
}
EOF
# shellcheck disable=SC2086 # word splitting of the pkg-config flags is intended
if command -v pkg-config >/dev/null && command -v cc >/dev/null &&
	flags=$(PKG_CONFIG_SYSROOT_DIR=$check PKG_CONFIG_LIBDIR=$libdir/pkgconfig \
		pkg-config --cflags --libs sockit) &&
	cc -o "$work/use" "$work/use.c" $flags &&
	LD_LIBRARY_PATH=$libdir "$work/use" >/dev/null; then
	echo "  ok   a program builds and runs with pkg-config sockit from libsockit-dev"
else
	echo "  FAIL building a program with pkg-config sockit from libsockit-dev" >&2
	failed=1
fi
((failed == 0)) || {
	echo "build-deb.sh: package checks failed; work directory kept: $work" >&2
	exit 1
}

echo "==> package contents"
for deb in "${debs[@]}"; do
	echo "--- $(basename "$deb")"
	dpkg -c "$deb" | awk '$1 !~ /^d/ {print "  " $6 ($7 ? " " $7 " " $8 : "")}' | sed 's,  \./,  /,'
done

# 6. The .deb paths.
if [[ -n $outdir ]]; then
	mkdir -p "$outdir"
	cp "${debs[@]}" "$changes" "$outdir/"
	mapfile -t debs < <(for d in "${debs[@]}"; do
		echo "$(cd "$outdir" && pwd)/$(basename "$d")"
	done)
fi
echo "==> built (work directory $work):"
printf '%s\n' "${debs[@]}"
