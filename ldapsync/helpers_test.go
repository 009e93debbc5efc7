package ldapsync

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"golang.org/x/crypto/argon2"

	"sesame/internal/testenv"
)

// env is one test's real slapd and a Syncer writing to it as the root DN.
type env struct {
	slapd  *testenv.Slapd
	conn   *Conn
	syncer *Syncer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	s := testenv.StartSlapd(t)
	conn, err := NewConn(Config{URL: s.URL, BindDN: s.AdminDN, BindPassword: s.AdminPassword, BaseDN: s.BaseDN,
		DialTimeout: 2e9, RequestTimeout: 10e9})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &env{slapd: s, conn: conn, syncer: New(conn, nil, log)}
}

// hashPassword makes the argon2id PHC string the store would hold.
func hashPassword(t testing.TB, password string) string {
	t.Helper()
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		t.Fatal(err)
	}
	key := argon2.IDKey([]byte(password), salt[:], 2, 19456, 1, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=19456,t=2,p=1$%s$%s", enc.EncodeToString(salt[:]), enc.EncodeToString(key))
}

// bind tries a simple bind as dn on a fresh connection.
func (e *env) bind(dn, password string) error {
	lc, err := ldap.DialURL(e.slapd.URL)
	if err != nil {
		return err
	}
	defer lc.Close()
	return lc.Bind(dn, password)
}

// converge runs a full convergence and fails the test on error.
func (e *env) converge(t testing.TB, want State) Plan {
	t.Helper()
	plan, _, err := e.syncer.Converge(context.Background(), want)
	if err != nil {
		t.Fatalf("converge: %v\nplan:\n%s", err, plan)
	}
	return plan
}

// requireInSync fails unless the directory matches want.
func (e *env) requireInSync(t testing.TB, want State) {
	t.Helper()
	plan, err := e.syncer.Diff(context.Background(), want)
	if err != nil {
		t.Fatalf("diff: %v", err)
	}
	if !plan.Empty() {
		t.Fatalf("directory differs from the desired state:\n%s", plan)
	}
}

// search runs a search as the root DN.
func (e *env) search(t testing.TB, base, filter string, attrs ...string) []*ldap.Entry {
	t.Helper()
	res, err := e.conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		filter, attrs, nil))
	if err != nil {
		t.Fatalf("search %s %s: %v", base, filter, err)
	}
	return res.Entries
}

// members returns the member DNs (as keys) of a group.
func (e *env) members(t testing.TB, dn string) []string {
	t.Helper()
	ents := e.search(t, dn, "(objectClass=*)", "member")
	if len(ents) != 1 {
		t.Fatalf("group %s: %d entries", dn, len(ents))
	}
	var out []string
	for _, m := range ents[0].GetAttributeValues("member") {
		out = append(out, dnKey(m))
	}
	slices.Sort(out)
	return out
}

// keys maps DNs to their canonical keys, sorted.
func keys(dns ...string) []string {
	out := make([]string, len(dns))
	for i, d := range dns {
		out[i] = dnKey(d)
	}
	slices.Sort(out)
	return out
}

func nextcloud(structure string, role string) []Group {
	gs := []Group{{Structure: structure, StructureName: strings.ToUpper(structure), Service: "nextcloud", ServiceName: "Nextcloud"}}
	if role != "" {
		gs = append(gs, Group{Structure: structure, StructureName: strings.ToUpper(structure), Service: "nextcloud", ServiceName: "Nextcloud", Role: role})
	}
	return gs
}

// copyOf returns a new Syncer with s's dependencies (a Syncer holds state
// of its own and is not copied by value).
func copyOf(s *Syncer) *Syncer {
	return &Syncer{Dir: s.Dir, Layout: s.Layout, Scheme: s.Scheme, Workers: s.Workers, Source: s.Source, Log: s.Log, Progress: s.Progress}
}
