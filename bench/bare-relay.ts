// The baseline the SIP benchmark compares images with: a bare stateless Kamailio relay, a few lines
// that forward every request to the UAS (replies follow Via statelessly). No modules at all.
export interface BareRelay {
  /** host:port to listen on (UDP). */
  listen: string;
  /** host:port every request goes to. */
  to: string;
  children: number;
}

// Both baselines share the core settings, so they differ only in how they forward.
function coreHeader(o: BareRelay): string {
  return `#!KAMAILIO
debug=0
log_stderror=yes
children=${o.children}
auto_aliases=no
disable_tcp=yes
listen=udp:${o.listen}
`;
}

export function bareRelayConfig(o: BareRelay): string {
  const [host, port] = o.to.split(':');
  return `${coreHeader(o)}
request_route {
	forward("${host}", ${port});
}

# Workers run in parallel: a forwarded 100 could overtake the 200 and confuse the caller (a stateful
# proxy absorbs 100s the same way).
onreply_route {
	if (status == "100") drop;
}
`;
}

/**
 * The same relay, but transaction-stateful (tm): the floor any image pays for tm's transactions, 100
 * Trying and retransmission handling. Used to show how much of an image's cost is tm itself.
 */
export function bareStatefulConfig(o: BareRelay): string {
  const [host, port] = o.to.split(':');
  return `${coreHeader(o)}
loadmodule "tm.so"
loadmodule "sl.so"

request_route {
	if (!t_relay_to_udp("${host}", "${port}")) sl_reply_error();
	exit;
}
`;
}
