package loginbench

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sesame/internal/password"
	"sesame/internal/store"
	"sesame/internal/store/sqlite"
	"sesame/internal/testenv"
)

// binEnv names a sesame binary to measure instead of one built from this
// tree (to measure an older version in the same run).
const binEnv = "BENCH_SESAME_BIN"

const (
	ncRedirect = "https://nc.example/index.php/apps/user_oidc/code"
	plain      = "sept hérissons lisent Proust sous la pluie"
)

var reqField = regexp.MustCompile(`name="req" value="([^"]+)"`)

// server is `sesame serve` running as a child process on a fresh SQLite
// data directory, with one structure, a Nextcloud service and one person
// (camille.lefevre) whose password is plain.
type server struct {
	base string
	cmd  *exec.Cmd
}

func sesameBin(b *testing.B) string {
	if bin := os.Getenv(binEnv); bin != "" {
		return bin
	}
	bin := filepath.Join(b.TempDir(), "sesame")
	build := exec.Command("go", "build", "-o", bin, "sesame/cmd/sesame")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startServer(b *testing.B, bin string) *server {
	work := b.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SESAME_") { // sesame refuses unknown ones
			env = append(env, kv)
		}
	}
	env = append(env, "SESAME_DATA_DIR="+filepath.Join(work, "data"), "SESAME_LISTEN="+addr, "SESAME_PUBLIC_URL="+base)
	run := func(args ...string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("sesame %v: %v\n%s", args, err, out)
		}
	}
	run("migrate")
	run("structure", "add", "le-beta", "--name", "Le Bêta", "--contact", "referente@le-beta.example")
	run("service", "add", "le-beta", "nextcloud", "--name", "Nextcloud", "--url", "https://nc.example")
	csv := filepath.Join(work, "people.csv")
	if err := os.WriteFile(csv, []byte("Prénom;Nom;Courriel;Droits\nCamille;Lefèvre;camille@le-beta.example;nextcloud\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	run("import", "le-beta", csv)
	// The password, hashed as sesame hashes, straight into the store.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(work, "data", "sesame.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	phc, err := password.NewHasher(password.DefaultParams(), 1).Hash(ctx, plain)
	if err != nil {
		b.Fatal(err)
	}
	person, err := db.GetPersonByUsername(ctx, "camille.lefevre")
	if err == nil {
		_, err = db.UpdatePerson(ctx, person.ID, func(p *store.Person) error {
			p.PasswordHash, p.State = phc, store.StateActive
			return nil
		})
	}
	db.Close()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	logf, err := os.Create(filepath.Join(work, "serve.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		logf.Close()
	})
	for range 100 {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &server{base: base, cmd: cmd}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatal("sesame serve did not become ready")
	return nil
}

// memory reads the process's resident set now and its peak, in MiB.
func (s *server) memory(b *testing.B) (rss, peak float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			rss = kb / 1024
		case "VmHWM":
			peak = kb / 1024
		}
	}
	return rss, peak
}

// clientFrom is an HTTP client whose connections leave from local, an
// address of 127.0.0.0/8: the per-address limit on authorization requests
// (120 at once) then counts each source alone.
func clientFrom(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// authorize starts n authorization requests (PKCE) of one browser and
// returns their ids.
func (s *server) authorize(b *testing.B, n int, browser *http.Cookie) []string {
	ids := make([]string, n)
	for i := range ids {
		client := clientFrom(fmt.Sprintf("127.0.0.%d", 2+i/100))
		verifier := fmt.Sprintf("%043d", i)
		h := sha256.Sum256([]byte(verifier))
		q := url.Values{"client_id": {"le-beta.nextcloud"}, "redirect_uri": {ncRedirect}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"s" + strconv.Itoa(i)}, "code_challenge_method": {"S256"},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(h[:])}}
		req, _ := http.NewRequest(http.MethodGet, s.base+"/authorize?"+q.Encode(), nil)
		req.AddCookie(browser)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := reqField.FindSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			b.Fatalf("authorize %d: status %d %.300s", i, resp.StatusCode, body)
		}
		ids[i] = html.UnescapeString(string(m[1]))
		client.CloseIdleConnections()
	}
	return ids
}

// BenchmarkOverload sends bursts of concurrent password logins (right
// password, each its own authorization request and connection) to
// `sesame serve` with its defaults (one hash slot per CPU), one server
// process per burst size. It reports how many were logged in (303) and
// refused (503, which must carry Retry-After), the refusals' p50 and p99
// latency, the server's resident memory idle before the burst and its
// peak (VmHWM). b.N bursts are sent per size, one after the other.
//
// The same bursts, from the same client code, are also sent to two
// reference servers, each a child process like sesame: a bare net/http
// server that answers every request 503 with a body of the size of
// sesame's (the floor of this machine: client and server share its cores),
// and the same server while one argon2id hash per CPU runs in a loop, as
// sesame's admitted logins do during the burst. The ratio sesame / hashing
// reference is what sesame's refusal path adds.
func BenchmarkOverload(b *testing.B) {
	bin := sesameBin(b)
	for _, n := range []int{500, 2000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.StopTimer()
			s := startServer(b, bin)
			browser := &http.Cookie{Name: "sesame_browser", Value: strings.Repeat("b", 43)}
			time.Sleep(time.Second)
			idle, _ := s.memory(b)
			var refusals, all []time.Duration
			counts := map[int]int{}
			var refBare, refHash []time.Duration
			var cpu, refCPU time.Duration
			for range b.N {
				ids := s.authorize(b, n, browser)
				r := sendBurst(b, s.cmd.Process.Pid, s.base, ids, browser, true)
				cpu += r.cpu
				refusals, all = append(refusals, r.refusals...), append(all, r.all...)
				for k, v := range r.counts {
					counts[k] += v
				}
				bare := referenceBurst(b, n, false)
				refBare, refCPU = append(refBare, bare.refusals...), refCPU+bare.cpu
				refHash = append(refHash, referenceBurst(b, n, true).refusals...)
			}
			_, peak := s.memory(b)
			b.Logf("%d concurrent logins × %d: statuses %v", n, b.N, counts)
			b.ReportMetric(float64(counts[http.StatusSeeOther])/float64(b.N), "ok/burst")
			b.ReportMetric(float64(counts[http.StatusServiceUnavailable])/float64(b.N), "503/burst")
			b.ReportMetric(float64(len(all)-counts[http.StatusSeeOther]-counts[http.StatusServiceUnavailable]+counts[-1]), "other")
			p99 := percentile(refusals, 0.99)
			b.ReportMetric(percentile(refusals, 0.5), "503-p50-ms")
			b.ReportMetric(p99, "503-p99-ms")
			b.ReportMetric(percentile(all, 0.99), "all-p99-ms")
			b.ReportMetric(percentile(refBare, 0.99), "ref-bare-p99-ms")
			b.ReportMetric(percentile(refHash, 0.99), "ref-hashing-p99-ms")
			if r := percentile(refHash, 0.99); r > 0 {
				b.ReportMetric(p99/r, "p99/ref-hashing")
			}
			// CPU time of the server process during the burst: sesame's
			// includes its admitted logins' hashes (ok/burst of them).
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms")
			b.ReportMetric(float64(refCPU.Milliseconds())/float64(b.N), "ref-bare-cpu-ms")
			b.ReportMetric(idle, "idle-MiB")
			b.ReportMetric(peak, "peak-MiB")
		})
	}
}

// percentile returns the q-quantile of d in milliseconds (d is sorted).
func percentile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return float64(d[min(len(d)-1, int(q*float64(len(d))))].Microseconds()) / 1000
}

// burstResult is what one burst received.
type burstResult struct {
	refusals, all []time.Duration
	counts        map[int]int   // by status; -1 for no answer
	cpu           time.Duration // the server's CPU time during the burst
}

// sendBurst posts one login form per id, all at once, each on its own
// connection, and times the answers (refusals are the 503s, which must
// carry Retry-After when checkRetry), and the CPU time the server process
// pid used meanwhile.
func sendBurst(b *testing.B, pid int, base string, ids []string, browser *http.Cookie, checkRetry bool) burstResult {
	transport := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: len(ids), DisableKeepAlives: true}
	client := &http.Client{Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res := burstResult{counts: map[int]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	startGun := make(chan struct{})
	for _, id := range ids {
		wg.Go(func() {
			form := url.Values{"req": {id}, "username": {"camille.lefevre"}, "password": {plain}}
			req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", base)
			req.AddCookie(browser)
			<-startGun
			sent := time.Now()
			resp, err := client.Do(req)
			took := time.Since(sent)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.counts[-1]++
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			res.counts[resp.StatusCode]++
			res.all = append(res.all, took)
			if resp.StatusCode == http.StatusServiceUnavailable {
				if checkRetry && resp.Header.Get("Retry-After") == "" {
					b.Error("503 without Retry-After")
				}
				res.refusals = append(res.refusals, took)
			}
		})
	}
	cpu0 := serverCPU(b, pid)
	b.StartTimer()
	close(startGun)
	wg.Wait()
	b.StopTimer()
	res.cpu = serverCPU(b, pid) - cpu0
	transport.CloseIdleConnections()
	return res
}

// serverCPU is the CPU time the server process pid has used so far.
func serverCPU(b *testing.B, pid int) time.Duration {
	d, err := testenv.ProcessCPUTime(pid)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// Reference server: this test binary run again with referenceEnv set to
// the address to serve (and referenceHashEnv to hash in a loop meanwhile).
const (
	referenceEnv     = "BENCH_LOGIN_REFERENCE"
	referenceHashEnv = "BENCH_LOGIN_REFERENCE_HASH"
	// referenceBody is the size of sesame's "busy" page (1,215 bytes in
	// English, 1,255 in French).
	referenceBody = 1255
)

func TestMain(m *testing.M) {
	if addr := os.Getenv(referenceEnv); addr != "" {
		serveReference(addr, os.Getenv(referenceHashEnv) != "")
		return
	}
	os.Exit(m.Run())
}

// serveReference answers every request 503 with Retry-After and a body of
// referenceBody bytes; with hashing, it also runs one argon2id hash per
// CPU in a loop, at sesame's default parameters.
func serveReference(addr string, hashing bool) {
	if hashing {
		h := password.NewHasher(password.DefaultParams(), 0)
		for range runtime.NumCPU() {
			go func() {
				for {
					_, _ = h.Hash(context.Background(), plain)
				}
			}()
		}
	}
	body := []byte(strings.Repeat("x", referenceBody))
	err := http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write(body)
	}))
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// referenceBurst starts a reference server, sends it a burst of n logins
// as sendBurst does for sesame, and returns what it received.
func referenceBurst(b *testing.B, n int, hashing bool) burstResult {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), referenceEnv+"="+addr)
	if hashing {
		cmd.Env = append(cmd.Env, referenceHashEnv+"=1")
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	base := "http://" + addr
	for i := 0; ; i++ {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			break
		}
		if i == 100 {
			b.Fatal("the reference server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the hashing loops under way
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	r := sendBurst(b, cmd.Process.Pid, base, ids, &http.Cookie{Name: "sesame_browser", Value: strings.Repeat("b", 43)}, true)
	if r.counts[http.StatusServiceUnavailable] != n {
		b.Fatalf("reference server: %v", r.counts)
	}
	return r
}
