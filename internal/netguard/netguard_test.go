package netguard

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestInternalIP(t *testing.T) {
	for _, c := range []struct {
		addr     string
		internal bool
	}{
		{"127.0.0.1", true}, {"127.1.2.3", true}, {"10.1.2.3", true}, {"172.16.0.1", true}, {"192.168.1.1", true},
		{"169.254.169.254", true}, {"100.64.0.1", true}, {"100.100.100.200", true}, {"0.0.0.0", true},
		{"224.0.0.1", true}, {"255.255.255.255", true}, {"::1", true}, {"::", true}, {"fe80::1", true},
		{"fc00::1", true}, {"fd12::1", true}, {"ff02::1", true}, {"::ffff:127.0.0.1", true},
		{"::ffff:169.254.169.254", true}, {"::ffff:10.0.0.1", true},
		{"64:ff9b::7f00:1", true}, {"64:ff9b::a9fe:a9fe", true}, {"2002:7f00:1::1", true}, {"2002:a00:1::", true},
		{"64:ff9b:1::5db8:d822", true}, {"::7f00:1", true}, {"::5db8:d822", true},
		{"64:ff9b::5db8:d822", false}, {"2002:5db8:d822::1", false},
		{"93.184.216.34", false}, {"100.128.0.1", false}, {"2001:db8::1", false}, {"::ffff:93.184.216.34", false},
	} {
		if got := InternalIP(netip.MustParseAddr(c.addr)); got != c.internal {
			t.Errorf("InternalIP(%s) = %v, want %v", c.addr, got, c.internal)
		}
	}
}

func TestControlRefusesInternalAddresses(t *testing.T) {
	for _, a := range []string{"127.0.0.1:80", "[::1]:443", "[::ffff:127.0.0.1]:80", "169.254.169.254:80", "10.0.0.1:8080", "[fe80::1%eth0]:80", "nonsense"} {
		if err := Control("tcp", a, nil); !errors.Is(err, ErrInternal) {
			t.Errorf("Control(%s) = %v, want ErrInternal", a, err)
		}
	}
	for _, a := range []string{"93.184.216.34:443", "[2001:db8::1]:80"} {
		if err := Control("tcp", a, nil); err != nil {
			t.Errorf("Control(%s) = %v", a, err)
		}
	}
}

// The guarded client checks the address it dials, after resolution: a
// name resolving to loopback (localhost) is refused as 127.0.0.1 is, and
// the server receives nothing. It uses no proxy from the environment.
func TestClientRefusesLoopbackAfterResolution(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	c := Client(0)
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/"} {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, ErrInternal) {
			t.Errorf("GET %s: %v, want ErrInternal", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server received %d requests", n)
	}
	if Transport().Proxy != nil {
		t.Error("the guarded transport uses a proxy")
	}
	// The same server, through an ordinary client, answers.
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits.Load() != 1 {
		t.Error("the server is not reachable")
	}
}
