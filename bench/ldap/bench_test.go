package ldapbench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"sesame/internal/store"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
	"sesame/ldapsync"
)

// people is how many new people each run converges.
const people = 10000

// desired is 10,000 active people of one structure with a Nextcloud: all in
// the service group, a tenth admins, the rest users; each with a password
// hash (one hash shared, hashing is not what is measured).
func desired(hash string) ldapsync.State { return desiredN(hash, people) }

// desiredN is desired with n people.
func desiredN(hash string, n int) ldapsync.State {
	svc := func(role string) ldapsync.Group {
		return ldapsync.Group{Structure: "le-beta", StructureName: "Le Bêta", Service: "nextcloud", ServiceName: "Nextcloud", Role: role}
	}
	st := ldapsync.State{Structures: []ldapsync.Structure{{Slug: "le-beta", Name: "Le Bêta",
		Groups: []ldapsync.Group{svc(""), svc("user"), svc("admin")}}}}
	for i := range n {
		role := "user"
		if i%10 == 0 {
			role = "admin"
		}
		st.People = append(st.People, ldapsync.Person{
			Username: fmt.Sprintf("person.%05d", i), GivenName: "Prénom", FamilyName: fmt.Sprintf("Nom %05d", i),
			DisplayName: fmt.Sprintf("Prénom Nom %05d", i), Email: fmt.Sprintf("person.%05d@example.org", i),
			PasswordHash: hash, Groups: []ldapsync.Group{svc(""), svc(role)},
		})
	}
	return st
}

// ldif is the same directory content as one LDIF file that ldapadd loads:
// the same entries and attributes, each group added once with all its
// members, under base (a sibling subtree of the one sesame writes).
func ldif(st ldapsync.State, base string) string {
	l := ldapsync.Layout{Base: base}
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nobjectClass: organizationalUnit\nou: ref\n\n", base)
	fmt.Fprintf(&b, "dn: %s\nobjectClass: organizationalUnit\nou: people\n\n", l.People())
	fmt.Fprintf(&b, "dn: %s\nobjectClass: organizationalUnit\nou: structures\n\n", l.Structures())
	members := map[string][]string{}
	for _, p := range st.People {
		dn := l.PersonDN(p.Username)
		fmt.Fprintf(&b, "dn: %s\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: inetOrgPerson\n", dn)
		fmt.Fprintf(&b, "uid: %s\ncn: %s\nsn: %s\ngivenName:: %s\ndisplayName:: %s\nmail: %s\nuserPassword: {ARGON2}%s\nbusinessCategory: sesame\n\n",
			p.Username, p.DisplayName, p.FamilyName, b64(p.GivenName), b64(p.DisplayName), p.Email, p.PasswordHash)
		for _, g := range p.Groups {
			gdn := l.GroupDN(g.Structure, g.Service, g.Role)
			members[gdn] = append(members[gdn], dn)
		}
	}
	s := st.Structures[0]
	fmt.Fprintf(&b, "dn: %s\nobjectClass: top\nobjectClass: organization\no: %s\ndescription:: %s\nbusinessCategory: sesame\n\n", l.StructureDN(s.Slug), s.Slug, b64(s.Name))
	for _, g := range s.Groups {
		gdn := l.GroupDN(g.Structure, g.Service, g.Role)
		fmt.Fprintf(&b, "dn: %s\nobjectClass: top\nobjectClass: groupOfNames\ncn: %s\ndescription: %s\nbusinessCategory: sesame\nmember: %s\n",
			gdn, ldapsync.GroupCN(g.Service, g.Role), g.ServiceName, l.Placeholder())
		for _, m := range members[gdn] {
			fmt.Fprintf(&b, "member: %s\n", m)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func hash(tb testing.TB) string {
	var salt [16]byte
	_, _ = rand.Read(salt[:])
	key := argon2.IDKey([]byte("benchmark password"), salt[:], 2, 19456, 1, 32)
	e := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=19456,t=2,p=1$%s$%s", e.EncodeToString(salt[:]), e.EncodeToString(key))
}

// BenchmarkConverge10kVsLdapadd converges 10,000 new people (entries,
// password hashes, group memberships) from their desired state into a
// fresh slapd, beside ldapadd loading the equivalent LDIF into the same
// slapd, and reports both rates and their ratio (sesame_vs_ldapadd: 1
// means as fast as ldapadd).
//
//	SESAME_REQUIRE_SERVICES=1 go test ./bench/ldap/ -run '^$' -bench Converge10k -benchtime 4x
func BenchmarkConverge10kVsLdapadd(b *testing.B) {
	want := desired(hash(b))
	benchVsLdapadd(b, want, func(s *ldapsync.Syncer) (ldapsync.Plan, error) {
		plan, _, err := s.Converge(context.Background(), want)
		return plan, err
	})
}

// BenchmarkSyncStore10kVsLdapadd is the same, read from a SQLite store
// holding the 10,000 people, their membership and grants: what
// `sesame ldap sync` does.
//
//	SESAME_REQUIRE_SERVICES=1 go test ./bench/ldap/ -run '^$' -bench SyncStore10k -benchtime 4x
func BenchmarkSyncStore10kVsLdapadd(b *testing.B) {
	want := desired(hash(b))
	st := seedStore(b, want)
	benchVsLdapadd(b, want, func(s *ldapsync.Syncer) (ldapsync.Plan, error) {
		s.Source = st
		plan, _, err := s.SyncStore(context.Background(), "")
		return plan, err
	})
}

// seedStore writes want into a fresh SQLite store, in one transaction.
func seedStore(b *testing.B, want ldapsync.State) store.Store {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "sesame.db"), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	err = db.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		st := store.Structure{Slug: "le-beta", Name: "Le Bêta", Contact: "ref@example.org"}
		if err := tx.CreateStructure(ctx, &st); err != nil {
			return err
		}
		svc := store.Service{StructureID: st.ID, Kind: store.KindNextcloud, Slug: "nextcloud", Name: "Nextcloud",
			BaseURL: "https://cloud.example.org", DefaultRole: "user", ClientID: "le-beta.nextcloud",
			RedirectURIs: []string{"https://cloud.example.org/cb"}, RequirePKCE: true, SigningAlg: "RS256", AuthMethod: "client_secret_basic"}
		if err := tx.CreateService(ctx, &svc); err != nil {
			return err
		}
		for _, p := range want.People {
			sp := store.Person{Username: p.Username, Email: p.Email, GivenName: p.GivenName, FamilyName: p.FamilyName,
				DisplayName: p.DisplayName, Language: "fr", State: store.StateActive, PasswordHash: p.PasswordHash}
			if err := tx.CreatePerson(ctx, &sp); err != nil {
				return err
			}
			if err := tx.PutMembership(ctx, store.Membership{PersonID: sp.ID, StructureID: st.ID}); err != nil {
				return err
			}
			if err := tx.PutGrant(ctx, store.Grant{PersonID: sp.ID, ServiceID: svc.ID, Role: p.Groups[1].Role}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return db
}

func benchVsLdapadd(b *testing.B, want ldapsync.State, converge func(*ldapsync.Syncer) (ldapsync.Plan, error)) {
	ldapadd, ok := testenv.LookBinary("ldapadd")
	if !ok {
		testenv.Missing(b, "ldapadd is not installed (apt-get install ldap-utils)")
	}
	var addRate, syncRate float64
	runs := 0
	for b.Loop() {
		b.StopTimer()
		s := testenv.StartSlapdWith(b, testenv.SlapdOptions{Sync: os.Getenv("BENCH_SYNC") != ""})
		file := filepath.Join(s.Dir, "ref.ldif")
		if err := os.WriteFile(file, []byte(ldif(want, "ou=ref,"+s.BaseDN)), 0o600); err != nil {
			b.Fatal(err)
		}
		conn, err := ldapsync.NewConn(ldapsync.Config{URL: s.URL, BindDN: s.AdminDN, BindPassword: s.AdminPassword, BaseDN: s.BaseDN,
			RequestTimeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		syncer := ldapsync.New(conn, nil, nil)
		if w := os.Getenv("BENCH_WORKERS"); w != "" {
			fmt.Sscan(w, &syncer.Workers)
		}
		b.StartTimer()

		runLdapadd := func() time.Duration {
			start := time.Now()
			if out, err := exec.Command(ldapadd, "-x", "-H", s.URL, "-D", s.AdminDN, "-w", s.AdminPassword, "-f", file).CombinedOutput(); err != nil {
				b.Fatalf("ldapadd: %v\n%.2000s", err, out)
			}
			return time.Since(start)
		}
		var plan ldapsync.Plan
		runSync := func() time.Duration {
			start := time.Now()
			var err error
			if plan, err = converge(syncer); err != nil {
				b.Fatalf("converge: %v", err)
			}
			return time.Since(start)
		}
		// Both write into the same slapd; the one that goes second finds
		// a database twice as large, so the order alternates between runs.
		var addTime, syncTime time.Duration
		if runs%2 == 0 {
			addTime = runLdapadd()
			syncTime = runSync()
		} else {
			syncTime = runSync()
			addTime = runLdapadd()
		}

		b.StopTimer()
		if again, err := syncer.Diff(context.Background(), want); err != nil || !again.Empty() {
			b.Fatalf("not converged: %v\n%.2000s", err, again)
		}
		b.Logf("ldapadd %s, sesame %s (%d changes)", addTime, syncTime, len(plan.Changes))
		addRate += people / addTime.Seconds()
		syncRate += people / syncTime.Seconds()
		runs++
		conn.Close()
		s.Stop()
		b.StartTimer()
	}
	b.ReportMetric(addRate/float64(runs), "ldapadd_people/s")
	b.ReportMetric(syncRate/float64(runs), "sesame_people/s")
	b.ReportMetric(syncRate/addRate, "sesame_vs_ldapadd")
}
