// Package netguard keeps sesame's own requests off this machine and its
// private networks when the address they go to was given by someone the
// hoster did not vouch for (a structure referent's service address).
//
// Checking the name when it is given is not enough: a name may resolve to
// a public address then and to 127.0.0.1 later, when sesame connects (DNS
// rebinding). The dialer made here checks the IP it is about to connect
// to, after resolution, for every connection; its transport uses no proxy
// (a proxy would connect for it, unchecked) and its client follows no
// redirect.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrInternal is the error of a connection refused because the address
// resolved to an internal network. It is the message an administrator
// reads on the failed-jobs page.
var ErrInternal = errors.New("address resolves to an internal network; a hoster admin must confirm this address, then try again")

// sharedSpace is carrier-grade NAT's range, where a cloud may put its
// metadata service (100.100.100.200).
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// nat64 and sixToFour are IPv6 prefixes that carry an IPv4 address (the
// well-known NAT64 prefix, RFC 6052, in the last four bytes; 6to4, RFC
// 3056, in bytes 2–5): a gateway on the way may deliver to it.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
	// localNAT64 (RFC 8215) is a network's own translation prefix, and
	// ::/96 the deprecated IPv4-compatible addresses: neither is a public
	// destination, so both are internal whatever they carry.
	localNAT64   = netip.MustParsePrefix("64:ff9b:1::/48")
	v4Compatible = netip.MustParsePrefix("::/96")
)

// InternalIP reports whether a is not a public unicast address: loopback,
// private, link-local (the cloud metadata address 169.254.169.254),
// shared (100.64/10), unspecified, multicast or broadcast; an IPv4-mapped
// IPv6 address is read as its IPv4 address, and a NAT64 or 6to4 address
// is internal when the IPv4 address it carries is.
func InternalIP(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is6() && (localNAT64.Contains(a) || v4Compatible.Contains(a)) {
		return true
	}
	if b := a.As16(); a.Is6() && (nat64.Contains(a) || sixToFour.Contains(a)) {
		v4 := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		if sixToFour.Contains(a) {
			v4 = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		}
		return InternalIP(v4)
	}
	return !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() || sharedSpace.Contains(a)
}

// Control is a net.Dialer Control function: it refuses (ErrInternal) to
// connect to an internal IP (InternalIP). It sees the address being
// dialled, after resolution; an address it cannot read is refused too.
func Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: %s %q: %w", network, address, ErrInternal)
	}
	if InternalIP(ap.Addr()) {
		return fmt.Errorf("netguard: %s %s: %w", network, ap.Addr(), ErrInternal)
	}
	return nil
}

// Dialer returns d with Control as its only control function.
func Dialer(d net.Dialer) *net.Dialer {
	d.Control, d.ControlContext = Control, nil
	return &d
}

// Transport returns an HTTP transport, the default one's settings, that
// dials through Dialer and never through a proxy (HTTP_PROXY and the like
// are ignored: a proxy would reach the internal address for it).
func Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = Dialer(net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.DialTLSContext = nil
	return t
}

// Client returns an HTTP client over Transport with timeout that follows
// no redirect (the redirect's answer is returned).
func Client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
