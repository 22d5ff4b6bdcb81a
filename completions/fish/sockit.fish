# fish completion for sockit(1). Option lists mirror the option rows in
# src/opts.c and cmd/*.c; tests/docs-sync/check.sh fails when they drift.

# Endpoint types a command serves today, then paths after a UNIX type.
function __sockit_endpoint --argument-names cmd
    set -l tok (commandline -ct)
    switch $tok
        case 'unix:*' 'unix-*:*'
            set -l type (string replace -r ':.*' '' -- $tok)
            set -l path (string replace -r '^[^:]*:' '' -- $tok)
            for f in (__fish_complete_path $path)
                printf '%s:%s\n' $type $f
            end
        case 'exec:*'
            for c in (complete -C (string replace -r '^exec:' '' -- $tok))
                printf 'exec:%s\n' $c
            end
        case '*:*'
            return
        case '*'
            if test "$cmd" = relay-from
                printf '%s\tTCP server\n' tcp-listen: tcp4-listen: tcp6-listen:
                printf '%s\tTLS server\n' tls-listen: tls4-listen: tls6-listen:
                printf '%s\tUDP sessions\n' udp-listen: udp4-listen: udp6-listen:
                printf '%s\tUNIX server\n' unix-listen: unix-seqpacket-listen:
                printf '%s\tabstract server\n' abstract-listen: abstract-seqpacket-listen:
                printf '%s\tAF_VSOCK server\n' vsock-listen:
                printf '%s\tWebSocket server\n' ws-listen: wss-listen:
                printf '%s\tTCP client\n' tcp: tcp4: tcp6:
                printf '%s\tTLS client\n' tls: tls4: tls6:
                printf '%s\tstream client\n' unix: abstract: vsock:
                printf '%s\tWebSocket client\n' ws:// wss://
                printf '%s\tstandard input and output\n' stdio -
                printf '%s\tprogram, no shell\n' exec:
                printf '%s\t/bin/sh -c command\n' sh:
            else if test "$cmd" = relay-to
                printf '%s\tTCP client\n' tcp: tcp4: tcp6:
                printf '%s\tTLS client\n' tls: tls4: tls6:
                printf '%s\tUDP flow\n' udp: udp4: udp6:
                printf '%s\tUNIX socket\n' unix: unix-dgram: unix-seqpacket:
                printf '%s\tabstract socket\n' abstract: abstract-dgram: abstract-seqpacket:
                printf '%s\tAF_VSOCK stream\n' vsock:
                printf '%s\tWebSocket client\n' ws:// wss://
                printf '%s\tprogram, no shell\n' exec:
                printf '%s\t/bin/sh -c command\n' sh:
            else if test "$cmd" = probe
                printf '%s\tTCP port\n' tcp: tcp4: tcp6:
                printf '%s\tUDP port\n' udp: udp4: udp6:
                printf '%s\tUNIX socket\n' unix: unix-dgram: unix-seqpacket:
                printf '%s\tabstract socket\n' abstract: abstract-dgram: abstract-seqpacket:
            else if test "$cmd" = listen
                printf '%s\tTCP server\n' tcp-listen: tcp4-listen: tcp6-listen:
                printf '%s\tTLS server\n' tls-listen: tls4-listen: tls6-listen:
                printf '%s\tUDP server\n' udp-listen: udp4-listen: udp6-listen:
                printf '%s\tUNIX server\n' unix-listen: unix-dgram-listen: unix-seqpacket-listen:
                printf '%s\tabstract server\n' abstract-listen: abstract-dgram-listen: abstract-seqpacket-listen:
                printf '%s\tAF_VSOCK server\n' vsock-listen:
                printf '%s\tWebSocket server\n' ws-listen: wss-listen:
            else
                printf '%s\tTCP client\n' tcp: tcp4: tcp6:
                printf '%s\tTLS client\n' tls: tls4: tls6:
                printf '%s\tUDP flow\n' udp: udp4: udp6:
                printf '%s\tUNIX socket\n' unix: unix-dgram: unix-seqpacket:
                printf '%s\tabstract socket\n' abstract: abstract-dgram: abstract-seqpacket:
                printf '%s\tAF_VSOCK stream\n' vsock:
                printf '%s\tWebSocket client\n' ws:// wss://
            end
    end
end

# relay: which endpoint is being completed, FROM (none given yet) or TO (one given)?
function __sockit_relay_endpoint_is --argument-names want
    set -l args (commandline -opc)
    set -l n 0
    set -l seen 0
    set -l skip 0
    for a in $args[2..-1]
        if test $seen = 0
            test "$a" = relay; and set seen 1
        else if test $skip = 1
            set skip 0
        else if string match -qr -- '^-.' $a
            contains -- $a --max-conns -i --idle-timeout -w --timeout; and set skip 1
        else
            set n (math $n + 1)
        end
    end
    test $n = $want
end

set -l commands connect listen probe relay resolve help
complete -c sockit -f

# Before the command
complete -c sockit -n "not __fish_seen_subcommand_from $commands" -a connect -d 'open a connection or datagram flow to an endpoint'
complete -c sockit -n "not __fish_seen_subcommand_from $commands" -a listen -d 'accept connections or datagrams on an endpoint'
complete -c sockit -n "not __fish_seen_subcommand_from $commands" -a probe -d 'check endpoints: open/closed/filtered, latency, banners, HTTP; wait for them'
complete -c sockit -n "not __fish_seen_subcommand_from $commands" -a relay -d 'join two endpoints and move bytes both ways'
complete -c sockit -n "not __fish_seen_subcommand_from $commands" -a resolve -d 'ask the system resolver; list local interfaces'
complete -c sockit -n "not __fish_seen_subcommand_from $commands" -a help -d 'show the help of a command'
complete -c sockit -n "not __fish_seen_subcommand_from $commands" -s h -l help -d 'show help and exit'
complete -c sockit -n "not __fish_seen_subcommand_from $commands" -s V -l version -d 'show the version and exit'
complete -c sockit -n '__fish_seen_subcommand_from help' -a 'connect listen probe relay resolve'

# Common options (src/opts.c); conditions are spelled out on each line so
# that tests/docs-sync/check.sh can tell which command offers what.
complete -c sockit -n '__fish_seen_subcommand_from connect listen probe relay resolve' -s 4 -d 'use IPv4 only'
complete -c sockit -n '__fish_seen_subcommand_from connect listen probe relay resolve' -s 6 -d 'use IPv6 only'
complete -c sockit -n '__fish_seen_subcommand_from connect listen probe relay resolve' -s h -l help -d 'show this help and exit'
complete -c sockit -n '__fish_seen_subcommand_from connect listen probe relay resolve' -s i -l idle-timeout -x -d 'give up after SECS without data either way (exit 7)'
complete -c sockit -n '__fish_seen_subcommand_from connect listen probe relay resolve' -l json -d 'log events as JSON Lines on stderr'
complete -c sockit -n '__fish_seen_subcommand_from connect listen probe relay resolve' -s q -l quiet -d 'print nothing but errors'
complete -c sockit -n '__fish_seen_subcommand_from connect listen probe relay resolve' -s v -l verbose -d 'print events on stderr; repeat for more'
complete -c sockit -n '__fish_seen_subcommand_from connect listen probe relay resolve' -s w -l timeout -x -d "bound connecting, or a listener's wait for a peer"

# connect (cmd/connect.c)
complete -c sockit -n '__fish_seen_subcommand_from connect' -l abstract -x -d 'connect to the abstract UNIX socket NAME'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l alpn -x -d 'TLS: ALPN protocols, comma-separated, in order of preference'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l ca -r -F -d 'TLS: trust these CA certificates (PEM) instead of the system store'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l cert -r -F -d 'TLS: our certificate chain (PEM)'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l ciphers -x -d 'TLS 1.2: OpenSSL cipher list'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l ciphersuites -x -d 'TLS 1.3: OpenSSL cipher suites'
complete -c sockit -n '__fish_seen_subcommand_from connect' -l crlf -d 'send each line end from stdin as CRLF'
complete -c sockit -n '__fish_seen_subcommand_from connect' -s e -l exec -x -a '(__fish_complete_command)' -d 'run PROG (no shell) on the connection instead of stdio'
complete -c sockit -n '__fish_seen_subcommand_from connect' -l explain -d 'print the parsed endpoint and the socket calls; create nothing'
complete -c sockit -n '__fish_seen_subcommand_from connect' -l hexdump -d 'log the traffic both ways on stderr as a hex dump'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l insecure -d "TLS: do not verify the server's certificate (warned about)"
complete -c sockit -n '__fish_seen_subcommand_from connect' -l interactive -d 'line-editing terminal even when stdin/stdout are not TTYs'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l key -r -F -d 'TLS: the private key of --cert (PEM; default: the --cert file)'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l key-pass -x -a 'env: file:' -d 'TLS: where the pass phrase of --key is (never the secret)'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l pin -x -d 'TLS: trust exactly the certificate with this SHA-256 fingerprint'
complete -c sockit -n '__fish_seen_subcommand_from connect' -l pcap -r -F -d 'write the traffic to FILE as a pcapng capture'
complete -c sockit -n '__fish_seen_subcommand_from connect' -l proxy -x -a 'socks5h:// socks5:// socks4a:// http://' -d 'through a proxy: socks5://, socks5h://, socks4a://, http://'
complete -c sockit -n '__fish_seen_subcommand_from connect' -s x -l proxy-addr -x -a '(__fish_print_hostnames)' -d "nc's -x HOST[:PORT]: the proxy (port 1080, or 3128 for connect)"
complete -c sockit -n '__fish_seen_subcommand_from connect' -s X -l proxy-proto -x -a '4 5 connect' -d "nc's -X: 4, 5 (the default) or connect, for -x"
complete -c sockit -n '__fish_seen_subcommand_from connect' -l sh -x -d 'run COMMAND with /bin/sh -c on the connection'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l sni -x -a '(__fish_print_hostnames)' -d 'TLS: send NAME as SNI and verify the certificate for NAME'
complete -c sockit -n '__fish_seen_subcommand_from connect' -s s -l source -x -a '(__fish_print_hostnames)' -d 'send from local address ADDR'
complete -c sockit -n '__fish_seen_subcommand_from connect' -s p -l source-port -x -d 'send from local port PORT'
complete -c sockit -n '__fish_seen_subcommand_from connect' -l tls -d 'TLS over TCP (HOST PORT form)'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l tls-max -x -a '1.2 1.3' -d 'TLS: highest protocol version'
complete -c sockit -n '__fish_seen_subcommand_from connect relay' -l tls-min -x -a '1.2 1.3' -d 'TLS: lowest protocol version (default 1.2)'
complete -c sockit -n '__fish_seen_subcommand_from connect' -s u -l udp -d 'UDP instead of TCP (HOST PORT form)'
complete -c sockit -n '__fish_seen_subcommand_from connect' -s U -l unix -r -F -d 'connect to the UNIX stream socket PATH'
complete -c sockit -n '__fish_seen_subcommand_from connect' -a '(__sockit_endpoint connect)'

# listen (cmd/listen.c)
complete -c sockit -n '__fish_seen_subcommand_from listen' -l abstract -x -d 'listen on the abstract UNIX socket NAME'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l alpn -x -d 'TLS: ALPN protocols, comma-separated, in order of preference'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l allow -x -d 'accept only peers in CIDR (repeatable)'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l broker -d 'keep accepting; what one client sends goes to all others'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l ca -r -F -d 'TLS: CA certificates (PEM) for --verify-client'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l cert -r -F -d 'TLS: our certificate chain (PEM)'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l chat -d '--broker with <user N> prefixes and join/leave lines'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l ciphers -x -d 'TLS 1.2: OpenSSL cipher list'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l ciphersuites -x -d 'TLS 1.3: OpenSSL cipher suites'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l crlf -d 'send each line end from stdin as CRLF (one peer)'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l deny -x -d 'refuse peers in CIDR (repeatable; wins over --allow)'
complete -c sockit -n '__fish_seen_subcommand_from listen' -s e -l exec -x -a '(__fish_complete_command)' -d 'run PROG (no shell) for each connection, on the socket'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l explain -d 'print the parsed endpoint and the socket calls; create nothing'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l hexdump -d 'log the traffic both ways on stderr as a hex dump (one peer)'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l interactive -d 'line-editing terminal even when stdin/stdout are not TTYs'
complete -c sockit -n '__fish_seen_subcommand_from listen' -s k -l keep-open -d 'keep accepting: stdin to every client, every client to stdout'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l key -r -F -d 'TLS: the private key of --cert (PEM; default: the --cert file)'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l key-pass -x -a 'env: file:' -d 'TLS: where the pass phrase of --key is (never the secret)'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l max-conns -x -d 'with -k, at most N clients at once'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l pcap -r -F -d 'write the traffic to FILE as a pcapng capture (one peer)'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l proxy-auth -r -F -d '--proxy-server clients must log in as a USER:PASSWORD line of FILE'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l proxy-server -x -a 'socks5 http' -d 'be a socks5 or http (CONNECT) proxy; --allow/--deny apply to targets too'
complete -c sockit -n '__fish_seen_subcommand_from listen' -s p -l port -x -d 'the port to listen on (as in nc -l -p PORT)'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l sh -x -d 'run COMMAND with /bin/sh -c for each connection'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l systemd -d 'serve the socket systemd passed (socket activation)'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l timestamps -d 'with -u, prefix each datagram with its receive time'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l tls -d 'TLS over TCP'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l tls-max -x -a '1.2 1.3' -d 'TLS: highest protocol version'
complete -c sockit -n '__fish_seen_subcommand_from listen' -l tls-min -x -a '1.2 1.3' -d 'TLS: lowest protocol version (default 1.2)'
complete -c sockit -n '__fish_seen_subcommand_from listen relay' -l verify-client -d 'TLS: require a client certificate signed by --ca'
complete -c sockit -n '__fish_seen_subcommand_from listen' -s u -l udp -d 'UDP: datagrams to stdout, stdin to the latest peer'
complete -c sockit -n '__fish_seen_subcommand_from listen' -s U -l unix -r -F -d 'listen on the UNIX stream socket PATH'
complete -c sockit -n '__fish_seen_subcommand_from listen' -a '(__sockit_endpoint listen)'

# probe (cmd/probe.c)
complete -c sockit -n '__fish_seen_subcommand_from probe' -l all -d 'show every target of a range, not only the open ones'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l alpn -x -d 'TLS: ALPN protocols, comma-separated, in order of preference'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l ca -r -F -d 'TLS: trust these CA certificates (PEM) instead of the system store'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l insecure -d 'TLS: do not verify the server certificate (warned about)'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l pin -x -d 'TLS: trust exactly the certificate with this SHA-256 fingerprint'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l proxy -x -a 'socks5h:// socks5:// socks4a:// http://' -d 'ask a proxy for each TCP target: socks5h://, socks5://, socks4a://, http://'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l sni -x -d 'TLS: send NAME as SNI and verify the certificate for NAME'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l tls -d 'TLS handshake on open ports: certificate, expiry, verification'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l warn-days -x -d 'with --tls, a certificate expiring in under N days fails'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l banner -d 'read what the server sends first (within -w)'
complete -c sockit -n '__fish_seen_subcommand_from probe' -s c -l concurrency -x -d 'at most N probes at once (default: the fd limit)'
complete -c sockit -n '__fish_seen_subcommand_from probe' -s n -l count -x -d 'probe each target N times: latency statistics and loss'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l expect -x -d 'with --http, the status that passes (200, 2xx)'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l http -d 'send GET PATH (default /) and report the status line'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l interval -x -d 'between rounds of --count (1) and --wait (0.5)'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l max-targets -x -d 'refuse more than N targets (default 65536)'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l payload -x -d 'with -u, send these bytes, not an empty datagram'
complete -c sockit -n '__fish_seen_subcommand_from probe' -s u -l udp -d 'UDP instead of TCP (HOST PORTS form)'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l wait -d 'retry until every target is open (default 30 s)'
complete -c sockit -n '__fish_seen_subcommand_from probe' -l wait-closed -d 'retry until every target is closed'
complete -c sockit -n '__fish_seen_subcommand_from probe' -a '(__sockit_endpoint probe)'

# relay (cmd/relay.c)
complete -c sockit -n '__fish_seen_subcommand_from relay' -l explain -d 'print both endpoints and the socket calls; create nothing'
complete -c sockit -n '__fish_seen_subcommand_from relay' -l hexdump -d "log every connection's traffic on stderr as a hex dump"
complete -c sockit -n '__fish_seen_subcommand_from relay' -l max-conns -x -d 'relay at most N connections at once'
complete -c sockit -n '__fish_seen_subcommand_from relay' -l pcap -r -F -d "write every connection's traffic to FILE as a pcapng capture"
complete -c sockit -n '__fish_seen_subcommand_from relay' -l proxy -x -a 'socks5h:// socks5:// socks4a:// http://' -d 'reach TO through a proxy: socks5://, socks5h://, socks4a://, http://'
complete -c sockit -n '__fish_seen_subcommand_from relay' -l stats -d 'a line per connection at close and a total at exit'
complete -c sockit -n '__fish_seen_subcommand_from relay' -l workers -x -d 'N processes share a TCP port (SO_REUSEPORT), a loop each'
complete -c sockit -n '__fish_seen_subcommand_from relay; and __sockit_relay_endpoint_is 0' -a '(__sockit_endpoint relay-from)'
complete -c sockit -n '__fish_seen_subcommand_from relay; and __sockit_relay_endpoint_is 1' -a '(__sockit_endpoint relay-to)'

# resolve (cmd/resolve.c)
complete -c sockit -n '__fish_seen_subcommand_from resolve' -l addrconfig -d 'only the families configured on this host'
complete -c sockit -n '__fish_seen_subcommand_from resolve' -l canonical -d 'print the canonical name first'
complete -c sockit -n '__fish_seen_subcommand_from resolve' -l interfaces -d 'list local interfaces: addresses, flags, index'
complete -c sockit -n '__fish_seen_subcommand_from resolve' -s l -l long -d 'family, type, protocol, address, port, canonical name'
complete -c sockit -n '__fish_seen_subcommand_from resolve' -l namereqd -d 'with -r: an address without a name is a failure'
complete -c sockit -n '__fish_seen_subcommand_from resolve' -l numeric -d 'accept address literals only, never look a name up'
complete -c sockit -n '__fish_seen_subcommand_from resolve' -l numeric-service -d 'with -r: show the port as a number'
complete -c sockit -n '__fish_seen_subcommand_from resolve' -l passive -d "addresses to bind to; NAME '*' is the wildcard"
complete -c sockit -n '__fish_seen_subcommand_from resolve' -s r -l reverse -x -d 'look up the name of ADDRESS [and PORT]'
complete -c sockit -n '__fish_seen_subcommand_from resolve' -l type -x -a 'stream dgram' -d 'stream or dgram: answers for that socket type only'
complete -c sockit -n '__fish_seen_subcommand_from resolve' -a '(__fish_print_hostnames)'
