// The baseline the SIP benchmark compares images with: a bare stateless Kamailio relay, a few lines
// that forward every request to the UAS (replies follow Via statelessly). No modules at all.
export interface BareRelay {
  /** host:port to listen on (UDP). */
  listen: string;
  /** host:port every request goes to. */
  to: string;
  children: number;
}

export function bareRelayConfig(o: BareRelay): string {
  const [host, port] = o.to.split(':');
  return `#!KAMAILIO
debug=0
log_stderror=yes
children=${o.children}
auto_aliases=no
disable_tcp=yes
listen=udp:${o.listen}

request_route {
	forward("${host}", ${port});
}
`;
}
