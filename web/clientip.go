package web

// ClientKey names the per-IP rate-limit bucket of a client address, so that
// every limit (account forms here, logins and authorization requests in
// idp) groups clients the same way:
//
//   - an IPv4 address is its own bucket;
//   - an IPv6 address counts by its /64, the prefix one home, phone or
//     server usually holds whole: a client that rotates through its /64
//     (privacy addresses, or on purpose) stays in one bucket;
//   - an IPv4-mapped IPv6 address (::ffff:192.0.2.1, what a dual-stack
//     listener reports) is the IPv4 address it carries;
//   - a zone is dropped, and a port, when addr has one, is ignored.
//
// Anything that is not an IP address (a Unix socket peer, say) is kept as
// it is: one bucket per such value.
func ClientKey(addr string) string {
	a, ok := parseHop(addr)
	if !ok {
		return addr
	}
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}
