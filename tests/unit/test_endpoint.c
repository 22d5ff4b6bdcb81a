/* SPDX-License-Identifier: BSD-2-Clause */
/* test_endpoint.c - the endpoint grammar: canonical text, every usage error, argv splitting. */
#include "internal.h"
#include "tap.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LONG_LABEL "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 64 */
#define LABEL63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define PATH108 "/tmp/" LONG_LABEL "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 108 bytes */
#define PATH107 "/tmp/" LONG_LABEL "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct valid {
	const char *in, *canonical;
};

/* Each input and the canonical text it must print back as. */
static const struct valid valid[] = {
	{ "tcp:example.com:80", "tcp:example.com:80" },
	{ "tcp:127.0.0.1:8080", "tcp:127.0.0.1:8080" },
	{ "tcp:[::1]:80", "tcp:[::1]:80" },
	{ "tcp:[fe80::1%eth0]:22", "tcp:[fe80::1%eth0]:22" },
	{ "tcp:[::ffff:1.2.3.4]:1", "tcp:[::ffff:1.2.3.4]:1" },
	/* IPv6 literals print back as inet_ntop writes them; a scope stays as given */
	{ "tcp:[0:0:0:0:0:0:0:1]:80", "tcp:[::1]:80" },
	{ "tcp:[FE80::A%eth0]:80", "tcp:[fe80::a%eth0]:80" },
	{ "tcp-listen:[2001:DB8:0::0:1]:443", "tcp-listen:[2001:db8::1]:443" },
	{ "tcp:host.example.:65535", "tcp:host.example.:65535" },
	{ "tcp:under_score-ok:00080", "tcp:under_score-ok:80" },
	{ "tcp4:10.0.0.1:1", "tcp4:10.0.0.1:1" },
	{ "tcp4:example.com:25", "tcp4:example.com:25" },
	{ "tcp6:[2001:db8::1]:443", "tcp6:[2001:db8::1]:443" },
	{ "tcp-listen:8080", "tcp-listen:8080" },
	{ "tcp-listen:0", "tcp-listen:0" },
	{ "tcp-listen::8080", "tcp-listen:8080" },
	{ "tcp-listen:127.0.0.1:8080", "tcp-listen:127.0.0.1:8080" },
	{ "tcp-listen:[::]:8080", "tcp-listen:[::]:8080" },
	{ "tcp-listen:localhost:0", "tcp-listen:localhost:0" },
	{ "tcp4-listen:0.0.0.0:80", "tcp4-listen:0.0.0.0:80" },
	{ "tcp6-listen:[::1]:9000", "tcp6-listen:[::1]:9000" },
	{ "udp:localhost:53", "udp:localhost:53" },
	{ "udp4:8.8.8.8:53", "udp4:8.8.8.8:53" },
	{ "udp6:[::1]:53", "udp6:[::1]:53" },
	{ "udp-listen:5353", "udp-listen:5353" },
	{ "udp4-listen:127.0.0.1:9", "udp4-listen:127.0.0.1:9" },
	{ "udp6-listen:[::]:53", "udp6-listen:[::]:53" },
	{ "unix:/run/app.sock", "unix:/run/app.sock" },
	{ "unix:relative/path", "unix:relative/path" },
	{ "unix-listen:/tmp/a b.sock", "unix-listen:/tmp/a b.sock" },
	{ "unix:/tmp/a\\,b", "unix:/tmp/a\\,b" },
	{ "unix:/tmp/back\\\\slash", "unix:/tmp/back\\\\slash" },
	{ "unix-dgram:/dev/log", "unix-dgram:/dev/log" },
	{ "unix-dgram-listen:/tmp/d", "unix-dgram-listen:/tmp/d" },
	{ "unix-seqpacket:/tmp/sp", "unix-seqpacket:/tmp/sp" },
	{ "unix-seqpacket-listen:/tmp/sp,backlog=4", "unix-seqpacket-listen:/tmp/sp,backlog=4" },
	{ "abstract:name", "abstract:name" },
	{ "abstract-listen:my-service", "abstract-listen:my-service" },
	{ "abstract-dgram:x", "abstract-dgram:x" },
	{ "abstract-dgram-listen:x", "abstract-dgram-listen:x" },
	{ "abstract-seqpacket:x", "abstract-seqpacket:x" },
	{ "abstract-seqpacket-listen:x", "abstract-seqpacket-listen:x" },
	{ "tls:example.com:443", "tls:example.com:443" },
	{ "tls-listen:8443", "tls-listen:8443" },
	{ "tls4:1.1.1.1:853", "tls4:1.1.1.1:853" },
	{ "tls6-listen:[::1]:8443", "tls6-listen:[::1]:8443" },
	{ "ws://example.com/chat", "ws://example.com/chat" },
	{ "ws://example.com", "ws://example.com/" },
	{ "ws://example.com:80/", "ws://example.com/" },
	{ "ws://[::1]:8080/x?y=1", "ws://[::1]:8080/x?y=1" },
	{ "ws://h/a\\,b", "ws://h/a\\,b" },
	{ "wss://example.com", "wss://example.com/" },
	{ "wss://example.com:8443/api", "wss://example.com:8443/api" },
	{ "ws-listen:8080", "ws-listen:8080" },
	{ "ws-listen:8080/", "ws-listen:8080" },
	{ "ws-listen:127.0.0.1:8080/chat", "ws-listen:127.0.0.1:8080/chat" },
	{ "wss-listen:[::1]:443/x,cert=/c.pem,key=/k.pem",
		"wss-listen:[::1]:443/x,cert=/c.pem,key=/k.pem" },
	{ "vsock:2:1234", "vsock:2:1234" },
	{ "vsock:4294967295:1", "vsock:4294967295:1" },
	{ "vsock-listen:5000", "vsock-listen:5000" },
	{ "stdio", "stdio" },
	{ "-", "stdio" },
	{ "exec:cat", "exec:cat" },
	{ "exec:sh -c 'echo a,b'", "exec:sh -c 'echo a,b'" },
	{ "sh:echo a,b; ls | wc -l", "sh:echo a,b; ls | wc -l" },
	{ "sh:x\\y,nodelay", "sh:x\\y,nodelay" },
	{ "tcp-listen:80,reuseport,backlog=5", "tcp-listen:80,backlog=5,reuseport" },
	{ "tcp-listen:80,reuseaddr=no", "tcp-listen:80,reuseaddr=no" },
	{ "tcp-listen:80,reuseaddr=1", "tcp-listen:80,reuseaddr" },
	{ "tcp-listen:80,reuseaddr=true,reuseport=false", "tcp-listen:80,reuseaddr,reuseport=no" },
	{ "tcp:h:1,nodelay=yes,keepalive", "tcp:h:1,keepalive,nodelay" },
	{ "tcp:h:1,nodelay=0", "tcp:h:1,nodelay=no" },
	{ "tcp:h:1,keepalive=60:10:5", "tcp:h:1,keepalive=60:10:5" },
	{ "tcp:h:1,keepalive=60", "tcp:h:1,keepalive=60" },
	{ "tcp:h:1,keepalive=no", "tcp:h:1,keepalive=no" },
	{ "tcp:h:1,keepalive=yes", "tcp:h:1,keepalive" },
	{ "tcp:h:1,keepalive=1", "tcp:h:1,keepalive" },
	{ "tcp:h:1,keepalive=0", "tcp:h:1,keepalive=no" },
	{ "unix:" PATH107, "unix:" PATH107 },
	{ "abstract:" PATH107, "abstract:" PATH107 },
	{ "tcp:h:1,timeout=1.5", "tcp:h:1,timeout=1.5" },
	{ "tcp:h:1,timeout=2.000", "tcp:h:1,timeout=2" },
	{ "tcp:h:1,timeout=0.05", "tcp:h:1,timeout=0.05" },
	{ "tcp:h:1,timeout=.25", "tcp:h:1,timeout=0.25" },
	{ "tcp:h:1,bind=10.0.0.1", "tcp:h:1,bind=10.0.0.1" },
	{ "tcp:h:1,bind=[::1]:5000", "tcp:h:1,bind=[::1]:5000" },
	{ "tcp:h:1,bind=:5000", "tcp:h:1,bind=:5000" },
	{ "tcp:h:1,bind=10.0.0.1:0", "tcp:h:1,bind=10.0.0.1" },
	{ "udp:h:53,bind=:0", "udp:h:53,bind=:0" },
	{ "tcp:h:1,proxy=socks5://user:pw@proxy:1080",
		"tcp:h:1,proxy=socks5://user:pw@proxy:1080" },
	{ "tcp:h:1,proxy=http://[::1]:3128/", "tcp:h:1,proxy=http://[::1]:3128/" },
	{ "tcp:h:1,proxy=socks5h://u:p\\,w@p", "tcp:h:1,proxy=socks5h://u:p\\,w@p" },
	{ "tcp:h:1,proxy-protocol=v2", "tcp:h:1,proxy-protocol=v2" },
	{ "unix:/s,proxy-protocol=v1,timeout=3", "unix:/s,proxy-protocol=v1,timeout=3" },
	{ "tls:h:443,sni=other.example,alpn=h2,insecure,alpn=http/1.1",
		"tls:h:443,alpn=h2,alpn=http/1.1,insecure,sni=other.example" },
	{ "tls:h:443,pin=SHA256:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:"
	  "45:67:89:AB:CD:EF:01:23:45:67:89",
		"tls:h:443,pin=sha256:"
		"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789" },
	{ "tls-listen:443,verify-client,ca=/etc/ca.pem,tls-min=1.3",
		"tls-listen:443,ca=/etc/ca.pem,tls-min=1.3,verify-client" },
	{ "tls:h:443,key-pass=env:PASS,cert=/c,key=/k",
		"tls:h:443,cert=/c,key=/k,key-pass=env:PASS" },
	{ "tls:h:443,key-pass=file:/run/secrets/k", "tls:h:443,key-pass=file:/run/secrets/k" },
	{ "tls:h:1,ciphers=ECDHE+AESGCM,ciphersuites=TLS_AES_128_GCM_SHA256,tls-max=1.2",
		"tls:h:1,ciphers=ECDHE+AESGCM,ciphersuites=TLS_AES_128_GCM_SHA256,tls-max=1.2" },
	{ "tcp-listen:80,accept-proxy", "tcp-listen:80,accept-proxy" },
	{ "tcp-listen:80,accept-proxy=10.0.0.0/8,accept-proxy=::1/128",
		"tcp-listen:80,accept-proxy=10.0.0.0/8,accept-proxy=::1/128" },
	{ "tcp-listen:80,accept-proxy=192.168.1.1", "tcp-listen:80,accept-proxy=192.168.1.1/32" },
	{ "tcp-listen:80,accept-proxy=2001:DB8:0::/32",
		"tcp-listen:80,accept-proxy=2001:db8::/32" },
	{ "unix-listen:/tmp/s,unlink,group=www,owner=www,mode=660",
		"unix-listen:/tmp/s,group=www,mode=0660,owner=www,unlink" },
	{ "unix-listen:/tmp/s,mode=0", "unix-listen:/tmp/s,mode=0000" },
	{ "tcp-listen:80,v6only,ttl=64,tos=16,rcvbuf=65536,sndbuf=65536,iface=lo",
		"tcp-listen:80,iface=lo,rcvbuf=65536,sndbuf=65536,tos=16,ttl=64,v6only" },
	{ "tls:h:1,ca=/a\\,b\\\\c", "tls:h:1,ca=/a\\,b\\\\c" },
	{ "wss://h/,ca=/ca.pem,sni=h.example", "wss://h/,ca=/ca.pem,sni=h.example" },
	{ "vsock:3:22,timeout=10", "vsock:3:22,timeout=10" },
};

struct invalid {
	const char *in, *why;
	int pos;
};

/* Each malformed input with the exact reason and 0-based byte offset. */
static const struct invalid invalid[] = {
	{ "tcpx:host:1", "unknown endpoint type 'tcpx'", 0 },
	{ "foo", "unknown endpoint type 'foo'", 0 },
	{ "TCP:h:1", "unknown endpoint type 'TCP'", 0 },
	{ "tc:h:1", "unknown endpoint type 'tc'", 0 },
	{ "tcp-lis:80", "unknown endpoint type 'tcp-lis'", 0 },
	{ "localhost:80", "unknown endpoint type 'localhost'", 0 },
	{ ":h:1", "missing endpoint type", 0 },
	{ "", "missing endpoint type", 0 },
	{ "tcp", "missing address after 'tcp:'", 3 },
	{ "tcp,nodelay", "missing address after 'tcp:'", 3 },
	{ "tcp:", "missing address", 4 },
	{ "tcp:host", "missing port in 'host'", 4 },
	{ "tcp:host:99999", "port '99999' out of range 0-65535", 9 },
	{ "tcp:host:18446744073709551617", "port '18446744073709551617' out of range 0-65535", 9 },
	{ "tcp:host:", "missing port after 'host:'", 9 },
	{ "tcp::80", "missing host", 4 },
	{ "tcp:::1:80", "IPv6 address '::1' must be in brackets", 4 },
	{ "tcp:::1", "IPv6 address '::1' must be in brackets", 4 },
	{ "tcp:2001:db8::1:443", "IPv6 address '2001:db8::1' must be in brackets", 4 },
	{ "tcp:host:0", "port 0 is not valid for a client", 9 },
	{ "udp:host:0", "port 0 is not valid for a client", 9 },
	{ "tcp:host:nosuchservice", "unknown service 'nosuchservice'", 9 },
	{ "tcp:host:8 0", "invalid port '8 0'", 9 },
	{ "tcp:host:-1", "unknown service '-1'", 9 },
	{ "tcp:[::1:80", "missing ']' in '[::1:80'", 4 },
	{ "tcp:[::1]80", "expected ':' after ']'", 9 },
	{ "tcp:[::1]", "missing port in '[::1]'", 4 },
	{ "tcp:[1.2.3.4]:80", "invalid IPv6 address '1.2.3.4'", 5 },
	{ "tcp:[fe80::1%]:80", "missing scope after '%' in 'fe80::1%'", 13 },
	{ "tcp:[fe80::1%averyveryverylongname]:80",
		"scope 'averyveryverylongname' longer than 15 bytes", 13 },
	{ "tcp:[fe80::1%e/x]:80", "invalid interface name 'e/x'", 14 },
	{ "tcp:[]:80", "missing IPv6 address in brackets", 5 },
	{ "tcp:ho st:80", "invalid character ' ' in host name 'ho st'", 6 },
	{ "tcp:ho\tst:80", "invalid character '\\x09' in host name 'ho?st'", 6 },
	{ "tcp:a..b:80", "empty label in host name 'a..b'", 6 },
	{ "tcp:.a:80", "empty label in host name '.a'", 4 },
	{ "tcp:.:80", "empty label in host name '.'", 4 },
	{ "tcp:" LABEL63 "." LABEL63 "." LABEL63 "." LABEL63 ":80",
		"host name longer than 253 bytes", 4 },
	{ "tcp:" LONG_LABEL ".com:80",
		"label in host name '" LONG_LABEL ".com' longer than 63 bytes", 4 },
	{ "tcp:1.2.3:80", "invalid IPv4 address '1.2.3'", 4 },
	{ "tcp:256.1.1.1:80", "invalid IPv4 address '256.1.1.1'", 4 },
	{ "tcp4:[::1]:80", "address '::1' is not IPv4 (tcp4)", 5 },
	{ "tcp6:1.2.3.4:80", "address '1.2.3.4' is not IPv6 (tcp6)", 5 },
	{ "tcp-listen:", "missing address", 11 },
	{ "tcp-listen:99999", "port '99999' out of range 0-65535", 11 },
	{ "tcp-listen:[::1]", "missing port in '[::1]'", 11 },
	{ "tcp-listen:80,backlgo=5", "unknown option 'backlgo'", 14 },
	{ "tcp-listen:80,back", "unknown option 'back'", 14 },
	{ "tcp-listen:80,backlog=0", "backlog '0' out of range 1-65535", 22 },
	{ "tcp-listen:80,backlog=abc", "invalid number 'abc' for 'backlog'", 22 },
	{ "tcp-listen:80,backlog=-5", "invalid number '-5' for 'backlog'", 22 },
	{ "tcp-listen:80,backlog", "option 'backlog' needs a value", 14 },
	{ "tcp-listen:80,backlog=", "missing value for 'backlog'", 22 },
	{ "tcp-listen:80,backlog=5,backlog=6", "option 'backlog' given twice", 24 },
	{ "tcp:h:1,mode=0600", "option 'mode' does not apply to tcp endpoints", 8 },
	{ "tcp:h:1,backlog=5", "option 'backlog' does not apply to tcp endpoints", 8 },
	{ "tcp-listen:80,nodelay=maybe", "invalid value 'maybe' for 'nodelay' (use yes or no)",
		22 },
	{ "tcp-listen:80,nodelay=YES", "invalid value 'YES' for 'nodelay' (use yes or no)", 22 },
	{ "tcp-listen:80,", "missing option name", 14 },
	{ "tcp-listen:80,,nodelay", "missing option name", 14 },
	{ "tcp-listen:80,=1", "missing option name", 14 },
	{ "tcp:h:1,nodelay,nodelay", "option 'nodelay' given twice", 16 },
	{ "tcp:h:1,ca=", "option 'ca' does not apply to tcp endpoints", 8 },
	{ "tls:h:1,ca=", "missing value for 'ca'", 11 },
	{ "tls:h:1,ca=,nodelay", "missing value for 'ca'", 11 },
	{ "unix:", "missing path", 5 },
	{ "unix-listen:,mode=600", "missing path", 12 },
	{ "abstract:", "missing name", 9 },
	{ "unix:" PATH108, "path longer than 107 bytes", 5 },
	{ "abstract:" PATH108, "name longer than 107 bytes", 9 },
	{ "unix:/tmp/a\\qb", "invalid escape '\\q' (only '\\,' and '\\\\')", 11 },
	{ "unix:/tmp/a\\", "backslash at end of value", 11 },
	{ "unix-listen:/tmp/s,mode=999", "invalid octal mode '999' for 'mode'", 24 },
	{ "unix-listen:/tmp/s,mode=1777", "mode '1777' out of range 0-0777", 24 },
	{ "unix:/tmp/s,mode=600", "option 'mode' does not apply to unix endpoints", 12 },
	{ "abstract-listen:x,mode=600", "option 'mode' does not apply to abstract-listen endpoints",
		18 },
	{ "udp-listen:53,backlog=4", "option 'backlog' does not apply to udp-listen endpoints",
		14 },
	{ "unix-dgram-listen:/d,backlog=4",
		"option 'backlog' does not apply to unix-dgram-listen endpoints", 21 },
	{ "udp:h:1,nodelay", "option 'nodelay' does not apply to udp endpoints", 8 },
	{ "tcp:h:1,keepalive=40000", "keepalive idle '40000' out of range 1-32767", 18 },
	{ "tcp:h:1,keepalive=60:x", "invalid keepalive interval 'x' (IDLE[:INTVL[:CNT]])", 21 },
	{ "tcp:h:1,keepalive=1:2:3:4",
		"too many fields in keepalive '1:2:3:4' (IDLE[:INTVL[:CNT]])", 24 },
	{ "tcp:h:1,keepalive=1:2:200", "keepalive count '200' out of range 1-127", 22 },
	{ "tcp:h:1,keepalive=1::3", "invalid keepalive interval '' (IDLE[:INTVL[:CNT]])", 20 },
	{ "tcp:h:1,timeout=abc", "invalid timeout 'abc' (seconds, up to 3 decimals)", 16 },
	{ "tcp:h:1,timeout=1.2345", "invalid timeout '1.2345' (seconds, up to 3 decimals)", 16 },
	{ "tcp:h:1,timeout=1.", "invalid timeout '1.' (seconds, up to 3 decimals)", 16 },
	{ "tcp:h:1,timeout=0", "timeout '0' out of range 0.001-2147483.647", 16 },
	{ "tcp:h:1,timeout=99999999999999999999",
		"timeout '99999999999999999999' out of range 0.001-2147483.647", 16 },
	{ "tcp:h:1,bind=::1", "IPv6 address '::1' in bind must be in brackets", 13 },
	{ "tcp:h:1,bind=:", "missing port after ':' in bind", 14 },
	{ "tcp:h:1,bind=:99999", "port '99999' out of range 0-65535", 14 },
	{ "tcp:h:1,bind=8080", "invalid IPv4 address '8080'", 13 },
	{ "tcp-listen:80,bind=:1", "option 'bind' does not apply to tcp-listen endpoints", 14 },
	{ "tcp:h:1,proxy=ftp://x",
		"unsupported proxy scheme 'ftp' (socks5, socks5h, socks4a, http)", 14 },
	{ "tcp:h:1,proxy=proxyhost", "invalid proxy URL (SCHEME://[USER[:PASS]@]HOST[:PORT])", 14 },
	{ "tcp:h:1,proxy=socks5://p:0", "port 0 is not valid for a proxy", 25 },
	{ "tcp:h:1,proxy=http://h:1/path", "unexpected path in proxy URL", 24 },
	{ "tcp:h:1,proxy=socks5://:pw@h", "missing user name before '@' in proxy URL", 23 },
	{ "tcp:h:1,proxy=socks5://", "missing host in proxy URL", 23 },
	{ "tcp:h:1,proxy=http://u\\,v:p@h:0", "port 0 is not valid for a proxy", 30 },
	{ "tcp-listen:1,proxy=http://h", "option 'proxy' does not apply to tcp-listen endpoints",
		13 },
	{ "tcp:h:1,proxy-protocol=v3", "invalid value 'v3' for 'proxy-protocol' (use v1 or v2)",
		23 },
	{ "tls:h:1,tls-min=1.1", "invalid value '1.1' for 'tls-min' (use 1.2 or 1.3)", 16 },
	{ "tls:h:1,tls-min=1.3,tls-max=1.2", "tls-max is below tls-min", 20 },
	{ "tls:h:1,pin=md5:ab", "pin must be sha256: and 64 hex digits", 12 },
	{ "tls:h:1,pin=sha256:abcd", "pin has 4 hex digits, sha256 needs 64", 12 },
	{ "tls:h:1,pin=sha256:zz", "invalid character 'z' in pin", 19 },
	{ "tls:h:1,pin=sha256:" HEX64 "00", "pin longer than 64 hex digits", 83 },
	{ "tls:h:1,pin=sha256:a:b", "invalid character ':' in pin", 20 },
	{ "tls:h:1,pin=sha256:ab::cd", "invalid character ':' in pin", 22 },
	{ "tls:h:1,key-pass=secret", "key-pass must be env:VAR or file:PATH, never the secret",
		17 },
	{ "tls:h:1,key-pass=env:1X", "key-pass must be env:VAR or file:PATH, never the secret",
		17 },
	{ "tls:h:1,verify-client", "option 'verify-client' does not apply to tls endpoints", 8 },
	{ "tls-listen:443,insecure", "option 'insecure' does not apply to tls-listen endpoints",
		15 },
	{ "tcp:h:1,alpn=h2", "option 'alpn' does not apply to tcp endpoints", 8 },
	{ "tls:h:1,alpn", "option 'alpn' needs a value", 8 },
	{ "tcp-listen:80,accept-proxy=10.0.0.0/33", "prefix '33' out of range 0-32", 36 },
	{ "tcp-listen:80,accept-proxy=::/129", "prefix '129' out of range 0-128", 30 },
	{ "tcp-listen:80,accept-proxy=bogus", "invalid CIDR 'bogus' for 'accept-proxy'", 27 },
	{ "tcp-listen:80,accept-proxy,accept-proxy=10.0.0.0/8",
		"option 'accept-proxy' given both bare and with a value", 27 },
	{ "tcp-listen:80,accept-proxy=::1/128,accept-proxy",
		"option 'accept-proxy' given both bare and with a value", 35 },
	{ "tcp-listen:80,accept-proxy,accept-proxy", "option 'accept-proxy' given twice", 27 },
	{ "udp-listen:80,accept-proxy",
		"option 'accept-proxy' does not apply to udp-listen endpoints", 14 },
	{ "tcp:h:1,iface=averyveryverylongname",
		"interface name 'averyveryverylongname' longer than 15 bytes", 14 },
	{ "tcp:h:1,iface=a/b", "invalid interface name 'a/b'", 15 },
	{ "tcp:h:1,ttl=0", "ttl '0' out of range 1-255", 12 },
	{ "tcp:h:1,tos=256", "tos '256' out of range 0-255", 12 },
	{ "tls:h:1,sni=1.2.3.4", "sni '1.2.3.4' is an address, not a host name", 12 },
	{ "tls:h:1,sni=a b", "invalid character ' ' in host name 'a b'", 13 },
	{ "stdio:x", "stdio takes no address or options", 5 },
	{ "stdio,nodelay", "stdio takes no address or options", 5 },
	{ "-,nodelay", "stdio takes no address or options", 1 },
	{ "-:", "stdio takes no address or options", 1 },
	{ "exec:", "missing command", 5 },
	{ "exec:echo 'a", "unbalanced single quote", 10 },
	{ "exec:echo \"a\\\"", "unbalanced double quote", 10 },
	{ "exec:   ", "empty command", 5 },
	{ "sh:", "missing command", 3 },
	{ "ws:example.com", "expected '//' after 'ws:'", 3 },
	{ "ws://", "missing host", 5 },
	{ "ws:///x", "missing host", 5 },
	{ "ws://h:0/", "port 0 is not valid for a client", 7 },
	{ "ws://h/a b", "invalid character ' ' in path", 8 },
	{ "ws://::1/", "IPv6 address '::1' must be in brackets", 5 },
	{ "ws-listen:/x", "missing port", 10 },
	{ "vsock:x:1", "invalid vsock CID 'x'", 6 },
	{ "vsock:2", "missing port in '2'", 6 },
	{ "vsock:2:", "missing port", 8 },
	{ "vsock:4294967296:1", "invalid vsock CID '4294967296'", 6 },
	{ "vsock-listen:p", "invalid vsock port 'p'", 13 },
	{ "tcp-listen:80,reuseaddr=no\\,x", "invalid value 'no,x' for 'reuseaddr' (use yes or no)",
		24 },
	{ "tcp-listen:80,rcvbuf=1\\x", "invalid escape '\\x' (only '\\,' and '\\\\')", 22 },
	{ "tls:h:1,ca=a\\,b,tls-min=9", "invalid value '9' for 'tls-min' (use 1.2 or 1.3)", 24 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char *format(const struct sk_endpoint *ep, bool with_options)
{
	size_t n = sk_endpoint_format(ep, with_options, NULL, 0);
	char *buf = malloc(n + 1);

	sk_endpoint_format(ep, with_options, buf, n + 1);
	return buf;
}

static bool same_list(const struct sk__strlist *a, const struct sk__strlist *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return false;
	return true;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Field by field: the canonical text must carry everything that was parsed. */
static bool same_endpoint(const struct sk_endpoint *a, const struct sk_endpoint *b)
{
	const struct sk__epopts *x = &a->opt, *y = &b->opt;

	return a->type == b->type && same_str(a->host, b->host) && a->port == b->port &&
	       a->cid == b->cid && same_str(a->path, b->path) && x->set == y->set &&
	       x->reuseaddr == y->reuseaddr && x->reuseport == y->reuseport &&
	       x->nodelay == y->nodelay && x->v6only == y->v6only && x->unlink == y->unlink &&
	       x->insecure == y->insecure && x->verify_client == y->verify_client &&
	       x->backlog == y->backlog && x->keepalive == y->keepalive &&
	       x->keepalive_idle == y->keepalive_idle && x->keepalive_intvl == y->keepalive_intvl &&
	       x->keepalive_cnt == y->keepalive_cnt && x->rcvbuf == y->rcvbuf &&
	       x->sndbuf == y->sndbuf && x->ttl == y->ttl && x->tos == y->tos &&
	       x->mode == y->mode && same_str(x->owner, y->owner) && same_str(x->group, y->group) &&
	       same_str(x->bind_host, y->bind_host) && x->bind_port == y->bind_port &&
	       same_str(x->iface, y->iface) && x->timeout_ms == y->timeout_ms &&
	       same_str(x->proxy, y->proxy) && x->proxy_protocol == y->proxy_protocol &&
	       same_list(&x->accept_proxy, &y->accept_proxy) && same_str(x->ca, y->ca) &&
	       same_str(x->cert, y->cert) && same_str(x->key, y->key) &&
	       same_str(x->key_pass, y->key_pass) && same_str(x->sni, y->sni) &&
	       same_str(x->pin, y->pin) && same_str(x->ciphers, y->ciphers) &&
	       same_str(x->ciphersuites, y->ciphersuites) && same_list(&x->alpn, &y->alpn) &&
	       x->tls_min == y->tls_min && x->tls_max == y->tls_max;
}

static bool have_services(void)
{
	return getservbyname("http", "tcp") && getservbyname("domain", "udp");
}

static void test_valid(void)
{
	for (size_t i = 0; i < N(valid); i++) {
		struct sk_endpoint *ep = NULL, *again = NULL;
		struct sk_err err;
		char *text, *text2;
		int rc;

		sk_err_clear(&err);
		rc = sk_endpoint_parse(valid[i].in, &ep, &err);
		if (!ok(rc == 0, "parse '%s'", valid[i].in)) {
			printf("#   why: %s (pos %d)\n", err.why, err.pos);
			continue;
		}
		text = format(ep, true);
		is_str(text, valid[i].canonical, "canonical '%s'", valid[i].in);
		rc = sk_endpoint_parse(text, &again, &err);
		ok(rc == 0 && same_endpoint(ep, again), "round trip '%s'", text);
		text2 = again ? format(again, true) : NULL;
		is_str(text2, text, "canonical again '%s'", text);
		free(text2);
		free(text);
		sk_endpoint_free(again);
		sk_endpoint_free(ep);
	}
}

static void test_services(void)
{
	static const struct valid services[] = {
		{ "tcp:example.com:http", "tcp:example.com:80" },
		{ "udp:h:domain", "udp:h:53" },
		{ "tcp-listen:https", "tcp-listen:443" },
		{ "tcp:h:1,bind=:ssh", "tcp:h:1,bind=:22" },
	};

	if (!have_services()) {
		ok(1, "# SKIP no services database");
		return;
	}
	for (size_t i = 0; i < N(services); i++) {
		struct sk_endpoint *ep = NULL;
		char *text;

		if (!ok(sk_endpoint_parse(services[i].in, &ep, NULL) == 0, "parse '%s'",
			    services[i].in))
			continue;
		text = format(ep, true);
		is_str(text, services[i].canonical, "service name prints as its number");
		free(text);
		sk_endpoint_free(ep);
	}
}

static void test_invalid(void)
{
	for (size_t i = 0; i < N(invalid); i++) {
		struct sk_endpoint *ep = (struct sk_endpoint *)&ep;
		struct sk_err err;
		int rc;

		sk_err_clear(&err);
		rc = sk_endpoint_parse(invalid[i].in, &ep, &err);
		is_int(rc, SK_EUSAGE, "'%s' is a usage error", invalid[i].in);
		ok(ep == NULL && err.code == SK_EUSAGE, "  no endpoint, code set");
		is_str(err.why, invalid[i].why, "  why for '%s'", invalid[i].in);
		is_int(err.pos, invalid[i].pos, "  pos for '%s'", invalid[i].in);
		ok(!strchr(err.why, '\n') && !strchr(err.what, '\n'), "  one line");
	}
}

static void test_messages(void)
{
	struct sk_endpoint *ep = NULL;
	struct sk_err err;
	char what[sizeof(err.what)];
	char big[400];

	sk_endpoint_parse("tcp-listen:80,backlgo=5", &ep, &err);
	is_str(err.what, "endpoint 'tcp-listen:80,backlgo=5'", "what names the whole endpoint");
	sk_endpoint_parse("tcp:a\nb:1", &ep, &err);
	is_str(err.what, "endpoint 'tcp:a?b:1'", "a newline in the text stays out of what");
	is_str(err.why, "invalid character '\\x0a' in host name 'a?b'", "and out of why");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sk_endpoint_parse(big, &ep, &err);
	ok(strlen(err.what) < sizeof(what) && strstr(err.what, "...'"),
		"a long endpoint is cut with '...' (%zu bytes)", strlen(err.what));
	ok(strlen(err.why) < 100, "a long token is cut in why too");
	is_int(sk_endpoint_parse("tcp:h:1", NULL, &err), -EINVAL, "NULL out is -EINVAL");
	is_int(sk_endpoint_parse(NULL, &ep, &err), -EINVAL, "NULL text is -EINVAL");
	is_int(sk_endpoint_parse("tcp:h:0", &ep, NULL), SK_EUSAGE, "err may be NULL");
}

static void test_getters(void)
{
	struct sk_endpoint *ep = NULL;

	sk_endpoint_parse("tcp6-listen:[fe80::1%lo]:8080", &ep, NULL);
	is_int(sk_endpoint_transport(ep), SK_TCP, "transport");
	is_int(sk_endpoint_socktype(ep), SOCK_STREAM, "socktype");
	ok(sk_endpoint_is_listener(ep), "listener");
	is_int(sk_endpoint_family(ep), AF_INET6, "tcp6 family");
	is_str(sk_endpoint_host(ep), "fe80::1%lo", "host without brackets, with scope");
	is_int(sk_endpoint_port(ep), 8080, "port");
	ok(sk_endpoint_path(ep) == NULL, "no path");
	is_str(sk_endpoint_type_name(ep), "tcp6-listen", "type name");
	is_int(ep->opt.backlog, 128, "default backlog");
	ok(ep->opt.reuseaddr, "listeners reuse addresses by default");
	sk_endpoint_free(ep);

	sk_endpoint_parse("tcp-listen:9", &ep, NULL);
	is_str(sk_endpoint_host(ep), "", "lone port: wildcard host");
	is_int(sk_endpoint_family(ep), AF_UNSPEC, "tcp family unspecified");
	sk_endpoint_free(ep);

	sk_endpoint_parse("unix-seqpacket-listen:/tmp/x", &ep, NULL);
	is_int(sk_endpoint_socktype(ep), SOCK_SEQPACKET, "seqpacket");
	ok(sk_endpoint_host(ep) == NULL, "unix has no host");
	is_str(sk_endpoint_path(ep), "/tmp/x", "unix path");
	sk_endpoint_free(ep);

	sk_endpoint_parse("abstract-dgram:a\\,b", &ep, NULL);
	is_int(sk_endpoint_transport(ep), SK_ABSTRACT, "abstract");
	is_int(sk_endpoint_socktype(ep), SOCK_DGRAM, "abstract dgram");
	is_str(sk_endpoint_path(ep), "a,b", "abstract name unescaped");
	sk_endpoint_free(ep);

	sk_endpoint_parse("wss://example.com", &ep, NULL);
	is_int(sk_endpoint_port(ep), 443, "wss default port");
	is_str(sk_endpoint_path(ep), "/", "ws default path");
	sk_endpoint_free(ep);

	sk_endpoint_parse("ws://example.com", &ep, NULL);
	is_int(sk_endpoint_port(ep), 80, "ws default port");
	sk_endpoint_free(ep);

	sk_endpoint_parse("udp-listen:7", &ep, NULL);
	is_int(sk_endpoint_socktype(ep), SOCK_DGRAM, "udp is datagram");
	ok(ep->opt.reuseaddr, "udp listeners reuse addresses by default");
	sk_endpoint_free(ep);

	sk_endpoint_parse("vsock:3:5", &ep, NULL);
	ok(ep && ep->cid == 3 && sk_endpoint_port(ep) == 5, "vsock cid and port");
	sk_endpoint_free(ep);

	sk_endpoint_parse("-", &ep, NULL);
	is_int(sk_endpoint_transport(ep), SK_STDIO, "'-' is stdio");
	is_str(sk_endpoint_type_name(ep), "stdio", "and is named stdio");
	sk_endpoint_free(ep);

	sk_endpoint_parse("exec:cat -n,x", &ep, NULL);
	is_str(sk_endpoint_path(ep), "cat -n,x", "exec text verbatim, comma included");
	is_int(ep->opt.set, 0, "exec takes no options");
	sk_endpoint_free(ep);

	sk_endpoint_parse("tcp:h:1", &ep, NULL);
	ok(!ep->opt.reuseaddr, "clients do not reuse addresses by default");
	sk_endpoint_free(ep);
	sk_endpoint_free(NULL);
	ok(1, "free(NULL) is a no-op");
}

static void test_option_values(void)
{
	struct sk_endpoint *ep = NULL;
	const char *names[8];
	size_t n;

	sk_endpoint_parse("tcp:h:1,timeout=1.5,keepalive=30:5:3,nodelay", &ep, NULL);
	is_int(ep->opt.timeout_ms, 1500, "timeout in ms");
	ok(ep->opt.keepalive && ep->opt.keepalive_idle == 30 && ep->opt.keepalive_intvl == 5 &&
			ep->opt.keepalive_cnt == 3,
		"keepalive fields");
	n = sk_endpoint_options_given(ep, names, 8);
	is_int(n, 3, "three options given");
	is_str(names[0], "keepalive", "given in table order (1)");
	is_str(names[2], "timeout", "given in table order (3)");
	is_int(sk_endpoint_options_given(ep, names, 1), 1, "options_given stops at max");
	sk_endpoint_free(ep);

	sk_endpoint_parse("tls:h:1,alpn=h2,alpn=a\\,b,tls-min=1.2,tls-max=1.3", &ep, NULL);
	is_int(ep->opt.alpn.count, 2, "alpn list of two");
	is_str(ep->opt.alpn.items[1], "a,b", "list item unescaped");
	is_int(ep->opt.tls_min, 0x0303, "tls-min 1.2");
	is_int(ep->opt.tls_max, 0x0304, "tls-max 1.3");
	n = sk_endpoint_options_given(ep, names, 8);
	is_int(n, 3, "a list counts once");
	sk_endpoint_free(ep);

	sk_endpoint_parse("tcp:h:1,bind=[fe80::2%lo]:99,proxy-protocol=v1", &ep, NULL);
	is_str(ep->opt.bind_host, "fe80::2%lo", "bind host without brackets");
	is_int(ep->opt.bind_port, 99, "bind port");
	is_int(ep->opt.proxy_protocol, 1, "proxy-protocol v1");
	sk_endpoint_free(ep);

	sk_endpoint_parse("tcp:h:1,bind=:7", &ep, NULL);
	ok(ep->opt.bind_host == NULL && ep->opt.bind_port == 7, "bind=:PORT: any address");
	sk_endpoint_free(ep);

	sk_endpoint_parse("unix-listen:/s,mode=0640", &ep, NULL);
	is_int(ep->opt.mode, 0640, "mode is octal");
	sk_endpoint_free(ep);

	sk_endpoint_parse("tcp-listen:1,accept-proxy", &ep, NULL);
	ok((ep->opt.set & (1ull << SK__O_ACCEPT_PROXY)) && ep->opt.accept_proxy.count == 0,
		"bare accept-proxy: set with no CIDRs");
	sk_endpoint_free(ep);

	static const char *const bools[][2] = { { "", "1" }, { "=1", "1" }, { "=yes", "1" },
		{ "=true", "1" }, { "=0", "0" }, { "=no", "0" }, { "=false", "0" } };
	for (size_t i = 0; i < N(bools); i++) {
		char text[64];

		snprintf(text, sizeof(text), "tcp:h:1,nodelay%s", bools[i][0]);
		ep = NULL;
		sk_endpoint_parse(text, &ep, NULL);
		ok(ep && (ep->opt.set & (1ull << SK__O_NODELAY)) &&
				ep->opt.nodelay == (bools[i][1][0] == '1'),
			"boolean '%s'", text);
		sk_endpoint_free(ep);
	}
}

static void test_format_buffers(void)
{
	struct sk_endpoint *ep = NULL;
	char small[8], buf[64];
	size_t n;

	sk_endpoint_parse("tcp:[::1]:80,nodelay", &ep, NULL);
	n = sk_endpoint_format(ep, true, small, sizeof(small));
	is_int(n, strlen("tcp:[::1]:80,nodelay"), "format returns the full length");
	is_str(small, "tcp:[::", "and truncates with a NUL");
	n = sk_endpoint_format(ep, false, buf, sizeof(buf));
	is_str(buf, "tcp:[::1]:80", "without options");
	is_int(n, 12, "length without options");
	is_int(sk_endpoint_format(ep, true, NULL, 0), 20, "NULL buffer: length only");
	sk_endpoint_free(ep);

	n = sk_endpoint_escape("a,b\\c", buf, sizeof(buf));
	is_str(buf, "a\\,b\\\\c", "escape comma and backslash");
	is_int(n, 7, "escape length");
	n = sk_endpoint_escape("abcdef", small, 4);
	is_str(small, "abc", "escape truncates");
	is_int(n, 6, "escape returns the full length");

	/* An escaped value composes back into a parseable endpoint. */
	char text[128];
	snprintf(text, sizeof(text), "unix:%s", buf);
	ep = NULL;
	ok(sk_endpoint_parse(text, &ep, NULL) == 0 && strcmp(sk_endpoint_path(ep), "a,b\\c") == 0,
		"escaped path parses back to the original");
	sk_endpoint_free(ep);
}

static void check_explain(const char *in, const char *want)
{
	struct sk_endpoint *ep = NULL;
	char buf[1024];
	size_t n;

	if (!ok(sk_endpoint_parse(in, &ep, NULL) == 0, "parse '%s' for explain", in))
		return;
	n = sk_endpoint_explain_options(ep, buf, sizeof(buf));
	is_str(buf, want, "explain '%s'", in);
	is_int(n, strlen(want), "explain length");
	sk_endpoint_free(ep);
}

static void test_explain(void)
{
	check_explain("tcp-listen:8080", "accept-proxy=no\nbacklog=128\niface=\nkeepalive=no\n"
					 "nodelay=no\nrcvbuf=\nreuseaddr=yes\nreuseport=no\n"
					 "sndbuf=\ntos=\nttl=\nv6only=no");
	check_explain("tcp-listen:8080,reuseaddr=no,backlog=5,keepalive=60",
		"accept-proxy=no\nbacklog=5\niface=\nkeepalive=60\nnodelay=no\nrcvbuf=\n"
		"reuseaddr=no\nreuseport=no\nsndbuf=\ntos=\nttl=\nv6only=no");
	check_explain("unix-listen:/tmp/s,mode=600,accept-proxy=10.0.0.0/8,accept-proxy=::/0",
		"accept-proxy=10.0.0.0/8,::/0\nbacklog=128\ngroup=\nmode=0600\nowner=\nrcvbuf=\n"
		"sndbuf=\nunlink=no");
	check_explain("tls:example.com:443,proxy=socks5://u:secret@p,alpn=h2",
		"alpn=h2\nbind=\nca=\ncert=\nciphers=\nciphersuites=\niface=\ninsecure=no\n"
		"keepalive=no\nkey=\nkey-pass=\nnodelay=no\npin=\n"
		"proxy=socks5://u:***@p\nproxy-protocol=\nrcvbuf=\nreuseaddr=no\nreuseport=no\n"
		"sndbuf=\nsni=example.com\ntimeout=\ntls-max=1.3\ntls-min=1.2\ntos=\nttl=");
	check_explain("stdio", "");
	check_explain("exec:cat", "");
}

static void test_tables(void)
{
	size_t n;
	const struct sk__eptype *t = sk__eptype_table(&n);
	bool sorted = true;

	for (size_t i = 1; i < n; i++)
		if (strcmp(t[i - 1].name, t[i].name) >= 0)
			sorted = false;
	ok(sorted, "type table is alphabetical (%zu types)", n);
	sorted = true;
	for (int id = 1; id < SK__O_COUNT; id++)
		if (strcmp(sk__epopt_name((enum sk__opt_id)(id - 1)),
			    sk__epopt_name((enum sk__opt_id)id)) >= 0)
			sorted = false;
	ok(sorted, "option table is alphabetical and indexed by id");
	ok(sk__epopt_name(SK__O_COUNT) == NULL, "no name past the table");
	/* Every option is accepted by at least one type. */
	for (int id = 0; id < SK__O_COUNT; id++) {
		bool any = false;

		for (size_t i = 0; i < n; i++)
			any = any || sk__epopt_applies((enum sk__opt_id)id, &t[i]);
		ok(any, "option '%s' applies somewhere", sk__epopt_name((enum sk__opt_id)id));
	}
}

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, level, name, &v, &len);
	return v;
}

static void test_apply(void)
{
	struct sk_endpoint *ep = NULL;
	struct sk_err err;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sk_endpoint_parse("tcp-listen:0,nodelay,ttl=7,rcvbuf=65536,keepalive=70:8:4", &ep, NULL);
	is_int(sk__epopt_apply(fd, AF_INET, ep, SK__PHASE_PREBIND, &err), 0, "apply prebind");
	is_int(getint(fd, SOL_SOCKET, SO_REUSEADDR), 1, "listener default reuseaddr applied");
	is_int(getint(fd, IPPROTO_TCP, TCP_NODELAY), 1, "nodelay applied");
	is_int(getint(fd, IPPROTO_IP, IP_TTL), 7, "ttl applied");
	ok(getint(fd, SOL_SOCKET, SO_RCVBUF) >= 65536, "rcvbuf applied");
	is_int(getint(fd, SOL_SOCKET, SO_KEEPALIVE), 1, "keepalive on");
	is_int(getint(fd, IPPROTO_TCP, TCP_KEEPIDLE), 70, "keepalive idle");
	is_int(getint(fd, IPPROTO_TCP, TCP_KEEPINTVL), 8, "keepalive interval");
	is_int(getint(fd, IPPROTO_TCP, TCP_KEEPCNT), 4, "keepalive count");
	sk_endpoint_free(ep);
	close(fd);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ep = NULL;
	sk_endpoint_parse("tcp-listen:0,reuseaddr=no,nodelay", &ep, NULL);
	is_int(sk__epopt_apply(fd, AF_INET, ep, SK__PHASE_POSTBIND, &err), 0, "apply postbind");
	is_int(getint(fd, IPPROTO_TCP, TCP_NODELAY), 0, "nodelay is not a postbind option");
	is_int(sk__epopt_apply(fd, AF_INET, ep, SK__PHASE_CONNECTED, &err), 0, "apply connected");
	is_int(getint(fd, IPPROTO_TCP, TCP_NODELAY), 1, "nodelay applied again when connected");
	is_int(sk__epopt_apply(fd, AF_INET, ep, SK__PHASE_PREBIND, &err), 0, "apply prebind");
	is_int(getint(fd, SOL_SOCKET, SO_REUSEADDR), 0, "reuseaddr=no leaves it off");
	sk_endpoint_free(ep);
	close(fd);

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		ep = NULL;
		sk_endpoint_parse("tcp-listen:0,v6only,ttl=9,tos=32", &ep, NULL);
		is_int(sk__epopt_apply(fd, AF_INET6, ep, SK__PHASE_PREBIND, &err), 0, "apply v6");
		is_int(getint(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1, "v6only applied");
		is_int(getint(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 9, "ttl as hop limit");
		is_int(getint(fd, IPPROTO_IPV6, IPV6_TCLASS), 32, "tos as traffic class");
		sk_endpoint_free(ep);
		close(fd);
	}

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ep = NULL;
	sk_endpoint_parse("tcp:127.0.0.1:9,iface=nosuchif0", &ep, NULL);
	sk_err_clear(&err);
	ok(sk__epopt_apply(fd, AF_INET, ep, SK__PHASE_PREBIND, &err) < 0, "a failing option fails");
	is_str(err.what, "set iface on tcp:127.0.0.1:9", "and names itself and the endpoint");
	ok(err.code < 0 && err.code > -4096 && err.why[0], "with errno text (%s)", err.why);
	sk_endpoint_free(ep);
	close(fd);

	/* IP-only options are skipped on a UNIX socket rather than failing. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ep = NULL;
	sk_endpoint_parse("unix:/x,sndbuf=32768", &ep, NULL);
	is_int(sk__epopt_apply(fd, AF_UNIX, ep, SK__PHASE_PREBIND, &err), 0, "apply on unix");
	ok(getint(fd, SOL_SOCKET, SO_SNDBUF) >= 32768, "sndbuf on unix");
	sk_endpoint_free(ep);
	close(fd);
}

struct split_case {
	const char *in;
	const char *argv[6]; /* NULL-terminated */
};

static void test_argv_split(void)
{
	static const struct split_case cases[] = {
		{ "cat", { "cat" } },
		{ "  cat   -n  ", { "cat", "-n" } },
		{ "echo 'a b' \"c d\"", { "echo", "a b", "c d" } },
		{ "echo a\\ b", { "echo", "a b" } },
		{ "echo 'it'\\''s'", { "echo", "it's" } },
		{ "echo \"\\\"q\\\" \\n\"", { "echo", "\"q\" \\n" } },
		{ "echo '' \"\"", { "echo", "", "" } },
		{ "sh -c 'a | b; c > d && $e'", { "sh", "-c", "a | b; c > d && $e" } },
		{ "a|b;c>d $HOME *", { "a|b;c>d", "$HOME", "*" } },
		{ "x\ty\nz", { "x", "y", "z" } },
		{ "'single \\ kept'", { "single \\ kept" } },
		{ "trail\\", { "trail\\" } },
	};
	static const struct {
		const char *in, *why;
		int pos;
	} bad[] = {
		{ "echo 'a", "unbalanced single quote", 5 },
		{ "echo \"a", "unbalanced double quote", 5 },
		{ "a \"b\\\"", "unbalanced double quote", 2 },
		{ "", "empty command", 0 },
		{ "   \t ", "empty command", 0 },
	};

	for (size_t i = 0; i < N(cases); i++) {
		char **argv = NULL;
		struct sk_err err;
		size_t k;
		bool same = true;

		if (!ok(sk_argv_split(cases[i].in, &argv, &err) == 0, "split '%s'", cases[i].in))
			continue;
		for (k = 0; cases[i].argv[k]; k++)
			if (!argv[k] || strcmp(argv[k], cases[i].argv[k]) != 0)
				same = false;
		ok(same && argv[k] == NULL, "  words of '%s'", cases[i].in);
		for (k = 0; argv[k]; k++)
			printf("#   argv[%zu] = '%s'\n", k, argv[k]);
		free(argv);
	}
	for (size_t i = 0; i < N(bad); i++) {
		char **argv = (char **)&argv;
		struct sk_err err;

		sk_err_clear(&err);
		is_int(sk_argv_split(bad[i].in, &argv, &err), SK_EUSAGE, "split '%s' fails",
			bad[i].in);
		ok(argv == NULL, "  no argv");
		is_str(err.why, bad[i].why, "  why");
		is_int(err.pos, bad[i].pos, "  pos");
	}
}

int main(void)
{
	test_valid();
	test_services();
	test_invalid();
	test_messages();
	test_getters();
	test_option_values();
	test_format_buffers();
	test_explain();
	test_tables();
	test_apply();
	test_argv_split();
	printf("# %zu valid, %zu invalid endpoints\n", N(valid), N(invalid));
	return tap_done();
}
