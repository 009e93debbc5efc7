package ldapbench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/internal/testenv"
	"sesame/ldapsync"
)

// BenchmarkJobsVsLdapadd measures LDAP convergence through the jobs, as
// `sesame serve` does it: N new people (2,000 unless BENCH_PEOPLE says
// otherwise) of one structure with a Nextcloud are in a SQLite store with
// one ldap.person job each (as an import leaves them); a job runner with
// the ldap handlers registered as serve registers them (Syncer.Register)
// runs until every job is done. Beside it, in a second fresh slapd,
// ldapadd loads the same entries from one LDIF file (each group once with
// all its members). It reports both rates and jobs_vs_ldapadd (1: as fast
// as ldapadd; the aim is at least 0.8).
//
//	SESAME_REQUIRE_SERVICES=1 go test ./bench/ldap/ -run '^$' -bench JobsVsLdapadd -benchtime 3x
func BenchmarkJobsVsLdapadd(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("BENCH_PEOPLE")); err == nil && v > 0 {
		n = v
	}
	ldapadd, ok := testenv.LookBinary("ldapadd")
	if !ok {
		testenv.Missing(b, "ldapadd is not installed (apt-get install ldap-utils)")
	}
	want := desiredN(hash(b), n)
	var addRate, jobRate, recRate, dbRatio, cpuRatio float64
	var ratios []float64 // each run's
	var quiet []float64  // each run's, where the host took little (steal)
	runs := 0
	for b.Loop() {
		b.StopTimer()
		ctx := context.Background()
		st := seedStore(b, want)
		if err := enqueuePeople(ctx, st); err != nil {
			b.Fatal(err)
		}
		// Each side writes into a fresh slapd of its own, started alike:
		// in one shared slapd the second writer found a directory of
		// 10,000 entries and groups of 10,000 members, and took up to
		// 45 % longer than the first, whichever it was.
		opts := testenv.SlapdOptions{Sync: os.Getenv("BENCH_SYNC") != ""}
		s := testenv.StartSlapdWith(b, opts)
		ref := testenv.StartSlapdWith(b, opts)
		file := filepath.Join(ref.Dir, "ref.ldif")
		if err := os.WriteFile(file, []byte(ldif(want, "ou=ref,"+ref.BaseDN)), 0o600); err != nil {
			b.Fatal(err)
		}
		conn, err := ldapsync.NewConn(ldapsync.Config{URL: s.URL, BindDN: s.AdminDN, BindPassword: s.AdminPassword, BaseDN: s.BaseDN,
			RequestTimeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		syncer := ldapsync.New(conn, st, nil)
		if w := os.Getenv("BENCH_WORKERS"); w != "" {
			fmt.Sscan(w, &syncer.Workers)
		}
		b.StartTimer()

		runLdapadd := func() time.Duration {
			start := time.Now()
			if out, err := exec.Command(ldapadd, "-x", "-H", ref.URL, "-D", ref.AdminDN, "-w", ref.AdminPassword, "-f", file).CombinedOutput(); err != nil {
				b.Fatalf("ldapadd: %v\n%.2000s", err, out)
			}
			return time.Since(start)
		}
		// runJobs runs the runner and returns when the directory held
		// everybody (every person in each of their groups: a batch writes
		// the entries before the groups) and when every job was recorded
		// done.
		l := ldapsync.Layout{Base: s.BaseDN}
		wantMembers := map[string]int{}
		for _, p := range want.People {
			for _, g := range p.Groups {
				wantMembers[l.GroupDN(g.Structure, g.Service, g.Role)]++
			}
		}
		// The probe has a connection of its own, and asks little while the
		// jobs run: whether the last person is in each of their groups (an
		// LDAP compare), and only then reads the groups' member lists,
		// which at 2,000 people are large enough that reading them every
		// 20 ms slowed the jobs it measures.
		probe, err := goldap.DialURL(s.URL)
		if err != nil {
			b.Fatal(err)
		}
		if err := probe.Bind(s.AdminDN, s.AdminPassword); err != nil {
			b.Fatal(err)
		}
		last := want.People[len(want.People)-1]
		lastDN := l.PersonDN(last.Username)
		converged := func() bool {
			for _, g := range last.Groups {
				if ok, err := probe.Compare(l.GroupDN(g.Structure, g.Service, g.Role), "member", lastDN); err != nil || !ok {
					return false
				}
			}
			for dn, n := range wantMembers {
				res, err := probe.Search(goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
					"(objectClass=*)", []string{"member"}, nil))
				if err != nil || len(res.Entries) != 1 || len(res.Entries[0].GetAttributeValues("member")) < n+1 {
					return false
				}
			}
			return true
		}
		runJobs := func() (inDir, recorded time.Duration) {
			polls := 0
			rw, _ := strconv.Atoi(os.Getenv("BENCH_RUNNER_WORKERS")) // 0: the runner's default
			r := jobs.NewRunner(st, jobs.Config{PollInterval: 20 * time.Millisecond, Workers: rw}, slog.New(slog.DiscardHandler))
			syncer.Register(r)
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			start := time.Now()
			go func() { done <- r.Run(rctx) }()
			defer func() { cancel(); <-done }()
			for {
				if inDir == 0 && converged() {
					inDir = time.Since(start)
				}
				// Counting the jobs reads the whole queue, on the CPU the
				// runner measured here needs: it is counted every 400 ms
				// until the directory holds everybody, then every 20 ms.
				polls++
				if inDir == 0 && polls%20 != 0 {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				c, err := st.CountJobs(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if c[store.JobDone] == n {
					recorded = time.Since(start)
					if inDir == 0 {
						inDir = recorded
					}
					return inDir, recorded
				}
				if c[store.JobDead] > 0 {
					dead, _ := st.ListJobs(ctx, store.JobFilter{State: store.JobDead, Limit: 3})
					b.Fatalf("jobs failed: %v %+v", c, dead)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		var addTime, jobTime, recTime time.Duration
		cpu0, refCPU0 := s.CPUTime(), ref.CPUTime()
		steal0 := readSteal(b)
		if runs%2 == 0 {
			addTime = runLdapadd()
			jobTime, recTime = runJobs()
		} else {
			jobTime, recTime = runJobs()
			addTime = runLdapadd()
		}

		b.StopTimer()
		// The CPU each slapd spent on its side's writes: it does not count
		// what a shared host's other guests took from the machine.
		jobsCPU, refCPU := s.CPUTime()-cpu0, ref.CPUTime()-refCPU0
		steal := readSteal(b).since(steal0)
		cpuRatio += jobsCPU.Seconds() / refCPU.Seconds()
		b.Logf("slapd CPU: jobs %s, ldapadd %s", jobsCPU, refCPU)
		// Everybody is in the directory with their groups (the groups
		// of no one, which only a structure job or sync writes, aside).
		res, err := syncer.Diff(ctx, want)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range res.Changes {
			if c.Kind == ldapsync.KindPerson || len(c.AddMembers) > 0 || len(c.RemoveMembers) > 0 {
				b.Fatalf("not converged: %s", c)
			}
		}
		b.Logf("%d people: ldapadd %s, jobs %s in the directory (%.2f), %s recorded done; steal %.0f %%", n, addTime, jobTime,
			addTime.Seconds()/jobTime.Seconds(), recTime, 100*steal)
		ratios = append(ratios, addTime.Seconds()/jobTime.Seconds())
		if steal < quietSteal {
			quiet = append(quiet, addTime.Seconds()/jobTime.Seconds())
		}
		addRate += float64(n) / addTime.Seconds()
		jobRate += float64(n) / jobTime.Seconds()
		recRate += float64(n) / recTime.Seconds()
		runs++
		probe.Close()
		// What the writes left in each database (the space its pages
		// take on disk): a group rewritten by many modifies leaves many
		// freed pages, which every later commit pays for.
		jobsDB, refDB := usedBytes(b, filepath.Join(s.Dir, "data", "data.mdb")), usedBytes(b, filepath.Join(ref.Dir, "data", "data.mdb"))
		dbRatio += float64(jobsDB) / float64(refDB)
		b.Logf("database: jobs %d KiB, ldapadd %d KiB", jobsDB>>10, refDB>>10)
		conn.Close()
		s.Stop()
		ref.Stop()
		b.StartTimer()
	}
	b.ReportMetric(addRate/float64(runs), "ldapadd_people/s")
	b.ReportMetric(jobRate/float64(runs), "jobs_people/s")
	b.ReportMetric(jobRate/addRate, "jobs_vs_ldapadd")
	b.ReportMetric(recRate/addRate, "recorded_vs_ldapadd")
	// On a machine whose pace wanders (a shared host), the median of the
	// runs' own ratios says more than the ratio of mean rates.
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "median_run_ratio")
	b.ReportMetric(float64(len(quiet)), "quiet_runs")
	if len(quiet) > 0 {
		slices.Sort(quiet)
		b.ReportMetric(quiet[len(quiet)/2], "quiet_median_ratio")
	}
	b.ReportMetric(dbRatio/float64(runs), "db_vs_ldapadd")
	b.ReportMetric(cpuRatio/float64(runs), "slapd_cpu_vs_ldapadd")
}

// enqueuePeople queues one ldap.person job per person of st, in one
// transaction, as an import does.
func enqueuePeople(ctx context.Context, st store.Store) error {
	people, err := st.ListPeople(ctx, store.PeopleFilter{})
	if err != nil {
		return err
	}
	return st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, p := range people {
			if _, err := jobs.Enqueue(ctx, tx, jobs.KindLDAPPerson, jobs.DedupeLDAPPerson(p.ID), jobs.PersonRef{PersonID: p.ID}); err != nil {
				return fmt.Errorf("enqueue: %w", err)
			}
		}
		return nil
	})
}

// usedBytes is the space the file takes on disk (slapd's data.mdb is a
// sparse file the size of its map).
func usedBytes(b *testing.B, file string) int64 {
	var st syscall.Stat_t
	if err := syscall.Stat(file, &st); err != nil {
		b.Fatal(err)
	}
	return st.Blocks * 512
}

// quietSteal is the share of the machine's CPU time that the host may
// have taken (steal) during a run for the run to count as quiet. ldapadd,
// one request at a time, loses more to steal than the jobs do, so a run
// with much steal flatters the jobs.
const quietSteal = 0.02

// cpuTicks is the machine's CPU time so far (/proc/stat's first line):
// all of it, and what the host took (steal).
type cpuTicks struct{ total, steal int64 }

func readSteal(b *testing.B) cpuTicks {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Fatal(err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var t cpuTicks
	if len(f) < 9 {
		b.Fatalf("/proc/stat: short cpu line %q", line)
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatalf("/proc/stat: %v", err)
		}
		if i < 8 { // guest time is already counted in user
			t.total += n
		}
		if i == 7 {
			t.steal = n
		}
	}
	return t
}

// since is the share of CPU time stolen between from and t.
func (t cpuTicks) since(from cpuTicks) float64 {
	if t.total == from.total {
		return 0
	}
	return float64(t.steal-from.steal) / float64(t.total-from.total)
}
