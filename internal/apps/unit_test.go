package apps

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		status int
		reason Reason
		retry  bool
	}{
		{400, ReasonInvalid, false},
		{401, ReasonCredentials, false},
		{403, ReasonPermission, false},
		{404, ReasonNotFound, false},
		{408, ReasonUnavailable, true},
		{409, ReasonConflict, false},
		{422, ReasonInvalid, false},
		{429, ReasonUnavailable, true},
		{500, ReasonUnavailable, true},
		{502, ReasonUnavailable, true},
		{503, ReasonUnavailable, true},
		{504, ReasonUnavailable, true},
		{301, ReasonConfig, false},
	} {
		reason, retry := classify(tc.status)
		if reason != tc.reason || retry != tc.retry {
			t.Errorf("%d: %s %v, want %s %v", tc.status, reason, retry, tc.reason, tc.retry)
		}
	}
}

func TestIsRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("plain"), false},
		{&Error{Retryable: true}, true},
		{fmt.Errorf("job: %w", &Error{Retryable: true}), true},
		{&Error{Reason: ReasonCredentials}, false},
	} {
		if got := IsRetryable(tc.err); got != tc.want {
			t.Errorf("IsRetryable(%v) = %v", tc.err, got)
		}
	}
	if ReasonOf(fmt.Errorf("x: %w", &Error{Reason: ReasonConflict})) != ReasonConflict || ReasonOf(errors.New("x")) != "" {
		t.Error("ReasonOf")
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := retryAfter(http.Header{"Retry-After": {tc.v}}, now); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestMaySent(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}
	reset := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused", &Error{Err: refused}, false},
		{"dial timeout", &Error{Err: &url.Error{Op: "Post", Err: &net.OpError{Op: "dial", Err: errors.New("i/o timeout")}}}, false},
		{"reset after writing", &Error{Err: reset}, true},
		{"timeout awaiting the answer", &Error{Err: &url.Error{Op: "Post", Err: errors.New("context deadline exceeded")}}, true},
		{"502", &Error{Status: 502}, true},
		{"500", &Error{Status: 500}, true},
		{"401", &Error{Status: 401}, false},
		{"not an apps error", errors.New("x"), false},
	} {
		if got := maySent(tc.err); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		e    *Error
		want string
	}{
		{&Error{Kind: "wordpress", Op: "create user bob", Status: 500, Code: "existing_user_login", Message: "Sorry, that username already exists!"},
			"apps: wordpress: create user bob: HTTP 500 existing_user_login: Sorry, that username already exists!"},
		{&Error{Kind: "paheko", Op: "find member a@b.c", Err: errors.New("dial tcp: connection refused"), Hint: Message{EN: "down"}},
			"apps: paheko: find member a@b.c: no answer: dial tcp: connection refused (down)"},
		{&Error{Kind: "nextcloud", Op: "ensure x", Message: "role \"boss\" is not a Nextcloud role"},
			"apps: nextcloud: ensure x: role \"boss\" is not a Nextcloud role"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 400)
	got := clip(long)
	if len(got) > maxMessage+len("…") || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "é") {
		t.Fatalf("clip: %d bytes %q", len(got), got[len(got)-8:])
	}
	if got := clip("a\nb\x1b[31mc\x00"); got != "a b[31mc" {
		t.Fatalf("clip control characters: %q", got)
	}
}

func TestComputerFileSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"5 GB", 5 << 30, true},
		{"5GB", 5 << 30, true},
		{"5 gb", 5 << 30, true},
		{"512 MB", 512 << 20, true},
		{"1.5 G", 1610612736, true},
		{"1024", 1024, true},
		{"2 KB", 2048, true},
		{"3 b", 3, true},
		{"none", -3, true},
		{"lots", 0, false},
		{"5 XB", 0, false},
		{"", 0, false},
	} {
		got, ok := computerFileSize(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%q: %v %v, want %v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseOCS(t *testing.T) {
	mk := func(status int, body string) *response {
		return &response{status: status, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body: []byte(body)}
	}
	for _, tc := range []struct {
		name    string
		r       *response
		ok      bool
		success bool
		code    int
	}{
		{"v2 success", mk(200, `{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":[]}}`), true, true, 200},
		{"v1 success", mk(200, `{"ocs":{"meta":{"status":"ok","statuscode":100,"message":"OK"},"data":[]}}`), true, true, 100},
		{"102 on v2", mk(400, `{"ocs":{"meta":{"status":"failure","statuscode":102,"message":""},"data":[]}}`), true, false, 102},
		{"997", mk(401, `{"ocs":{"meta":{"status":"failure","statuscode":997,"message":"Current user is not logged in"},"data":[]}}`), true, false, 997},
		{"v1 failure in a 200", mk(200, `{"ocs":{"meta":{"status":"failure","statuscode":102,"message":""},"data":[]}}`), true, false, 102},
		{"html", &response{status: 200, header: http.Header{"Content-Type": {"text/html"}}, body: []byte("<html>")}, false, false, 0},
		{"json without envelope", mk(200, `{"user_id":"x"}`), false, false, 0},
	} {
		a := parseOCS(tc.r)
		if a.ok != tc.ok || a.success() != tc.success || a.meta.StatusCode != tc.code {
			t.Errorf("%s: ok %v success %v code %d", tc.name, a.ok, a.success(), a.meta.StatusCode)
		}
	}
}

func TestNew(t *testing.T) {
	if got := strings.Join(ConnectorKinds(), ","); got != "nextcloud,paheko,wordpress" {
		t.Fatalf("ConnectorKinds() = %s", got)
	}
	creds := Credentials{Username: "u", Password: "p"}
	for _, tc := range []struct {
		kind string
		cfg  Config
		err  string
	}{
		{"wordpress", Config{BaseURL: "https://site.example.org/", Credentials: creds}, ""},
		{"paheko", Config{BaseURL: "https://asso.example.org", Credentials: creds}, ""},
		{"nextcloud", Config{BaseURL: "https://cloud.example.org", Credentials: creds, Settings: map[string]string{"provider_id": "2"}}, ""},
		{"generic", Config{BaseURL: "https://x.example.org", Credentials: creds}, `no connector for kind "generic"`},
		{"wordpress", Config{BaseURL: "ftp://site.example.org", Credentials: creds}, "must be http(s)"},
		{"wordpress", Config{BaseURL: "https://user:pw@site.example.org", Credentials: creds}, "without credentials"},
		{"wordpress", Config{BaseURL: "https://site.example.org/?x=1", Credentials: creds}, "query"},
		{"wordpress", Config{BaseURL: "https://site.example.org"}, "credentials are missing"},
		{"wordpress", Config{BaseURL: "https://site.example.org", Credentials: creds, Settings: map[string]string{"permalinks": "ugly"}}, "use query or pretty"},
		{"wordpress", Config{BaseURL: "https://site.example.org", Credentials: creds, Settings: map[string]string{"provider_id": "2"}}, `unknown setting "provider_id"`},
		{"nextcloud", Config{BaseURL: "https://cloud.example.org", Credentials: creds}, "provider_id"},
		{"nextcloud", Config{BaseURL: "https://cloud.example.org", Credentials: creds, Settings: map[string]string{"provider_id": "sesame"}}, "numeric provider id"},
		{"paheko", Config{BaseURL: "https://asso.example.org", Credentials: creds, Settings: map[string]string{"email_field": "email; DROP"}}, "field name"},
		{"paheko", Config{BaseURL: "https://asso.example.org", Credentials: creds, Settings: map[string]string{"categories": "1,admins"}}, "not a category id"},
	} {
		c, err := New(tc.kind, tc.cfg)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s %+v: %v", tc.kind, tc.cfg, err)
		case tc.err == "" && c.Kind() != tc.kind:
			t.Errorf("%s: Kind() = %s", tc.kind, c.Kind())
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s %+v: error %v, want %q", tc.kind, tc.cfg, err, tc.err)
		}
	}
}

func TestMessage(t *testing.T) {
	if (Message{}).String() != "" || !(Message{}).IsZero() || (Message{FR: "a"}).String() != "a" ||
		(Message{EN: "b"}).String() != "b" || (Message{FR: "a", EN: "b"}).String() != "a\nb" {
		t.Fatal("Message.String")
	}
}

func TestDisplayName(t *testing.T) {
	for _, tc := range []struct {
		a    Account
		want string
	}{
		{Account{Username: "u", GivenName: "Ada", FamilyName: "Lovelace", DisplayName: " Countess "}, "Countess"},
		{Account{Username: "u", GivenName: "Ada", FamilyName: "Lovelace"}, "Ada Lovelace"},
		{Account{Username: "u", GivenName: "Ada"}, "Ada"},
		{Account{Username: "u"}, "u"},
	} {
		if got := tc.a.displayName(); got != tc.want {
			t.Errorf("%+v: %q", tc.a, got)
		}
	}
}
