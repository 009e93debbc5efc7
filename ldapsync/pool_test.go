package ldapsync

import (
	"fmt"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// TestConcurrentPagedSearches runs paged searches side by side through one
// Conn (as a bulk sync and person jobs do): slapd keeps one paged search per
// connection, so searches that shared a connection failed with "paged
// results cookie is invalid (or old)".
func TestConcurrentPagedSearches(t *testing.T) {
	e := newEnv(t)
	l := e.syncer.Layout
	const n = 120
	for i := range n {
		req := ldap.NewAddRequest(l.PersonDN(fmt.Sprintf("pg%03d", i)), nil)
		req.Attribute("objectClass", []string{"inetOrgPerson"})
		req.Attribute("cn", []string{"P"})
		req.Attribute("sn", []string{"P"})
		if err := e.conn.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := NewConn(Config{URL: e.slapd.URL, BindDN: e.slapd.AdminDN, BindPassword: e.slapd.AdminPassword,
		BaseDN: e.slapd.BaseDN, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const searches = 8
	var wg sync.WaitGroup
	errs := make(chan error, searches*3)
	for range searches {
		wg.Go(func() {
			for range 3 {
				res, err := conn.Search(ldap.NewSearchRequest(l.People(), ldap.ScopeSingleLevel, ldap.NeverDerefAliases,
					0, 0, false, "(objectClass=inetOrgPerson)", []string{"uid"}, nil))
				switch {
				case err != nil:
					errs <- err
				case len(res.Entries) != n:
					errs <- fmt.Errorf("%d entries, want %d", len(res.Entries), n)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
