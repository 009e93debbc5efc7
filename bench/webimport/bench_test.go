package webimport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sesame/internal/store"
	"sesame/internal/store/sqlite"
	"sesame/onboarding"
	"sesame/web"
)

// rows is the size of the measured file: import.max_rows's default.
const rows = 5000

// childEnv tells the test binary, started again by the benchmark, to run
// one measured step and exit.
const childEnv = "SESAME_WEBIMPORTBENCH_CHILD"

// shapes are the measured files and the store they meet.
var shapes = []struct {
	name string
	// existing people are imported (not timed) before the measure.
	existing bool
}{
	{"new-people", false},     // 5,000 people to create, one row in 100 in error
	{"existing-people", true}, // the same 5,000 already there, a right changed on each
}

// sheet is the file of 5,000 people; rights says what they get.
func sheet(rights string) []byte {
	var b bytes.Buffer
	b.WriteString("Prénom;Nom;Courriel;Droits\n")
	for i := 0; i < rows; i++ {
		email := fmt.Sprintf("personne%d@le-beta.example", i)
		if i%100 == 99 {
			email = fmt.Sprintf("personne%d@@le-beta", i) // an error row
		}
		fmt.Fprintf(&b, "Prénom%d;Nom-%d;%s;%s\n", i, i, email, rights)
	}
	return b.Bytes()
}

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := child(mode, os.Getenv(childEnv+"_SHAPE")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childResult is what a child step prints.
type childResult struct {
	Nanos     int64 `json:"nanos"`
	Rows      int   `json:"rows"`       // rows of the preview table, or of the report
	PageBytes int   `json:"page_bytes"` // the preview page, or the text report
}

// setup opens a fresh SQLite store in dir with the structure and its two
// services, and, for a shape with existing people, imports them.
func setup(ctx context.Context, dir string, existing bool) (store.Store, *onboarding.Importer, func(), error) {
	db, err := sqlite.Open(ctx, filepath.Join(dir, "sesame.db"), time.Now)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		return nil, nil, nil, err
	}
	s := store.Structure{Slug: "le-beta", Name: "Le Bêta"}
	if err := db.CreateStructure(ctx, &s); err != nil {
		return nil, nil, nil, err
	}
	for _, svc := range []store.Service{
		{Slug: "nextcloud", Name: "Nextcloud", Kind: store.KindNextcloud, DefaultRole: "user"},
		{Slug: "site", Name: "Site web", Kind: store.KindWordPress, DefaultRole: "subscriber"},
	} {
		svc.StructureID, svc.BaseURL, svc.ClientID = s.ID, "https://"+svc.Slug+".example.org", "le-beta."+svc.Slug
		if err := db.CreateService(ctx, &svc); err != nil {
			return nil, nil, nil, err
		}
	}
	im := &onboarding.Importer{Store: db, Tokens: &onboarding.Tokens{Key: bytes.Repeat([]byte("k"), 32)},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if existing {
		if _, err := im.Import(ctx, onboarding.Request{Structure: "le-beta", Data: sheet("nextcloud"),
			SkipInvalid: true, Actor: "bench"}); err != nil {
			return nil, nil, nil, err
		}
	}
	return db, im, func() { db.Close() }, nil
}

// child runs one step: "web" uploads the file to web.ImportPages (POST,
// multipart) and follows the redirect to the preview page (GET, the whole
// table rendered); "cli" is the CLI's dry run of the same file
// (Importer.Import with DryRun, then the text report).
func child(mode, shape string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "webimportbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	existing := shape == "existing-people"
	db, im, closeDB, err := setup(ctx, dir, existing)
	if err != nil {
		return err
	}
	defer closeDB()
	data := sheet("nextcloud, site:éditeur")
	var res childResult
	switch mode {
	case "web":
		rd, err := web.NewRenderer(nil, slog.New(slog.NewTextHandler(io.Discard, nil)), web.ImportPageNames...)
		if err != nil {
			return err
		}
		pages := &web.ImportPages{Store: db, Importer: im, Renderer: rd,
			Authorize: func(*http.Request, string) error { return nil },
			Uploader: func(*http.Request) (web.Uploader, error) {
				return web.Uploader{Session: "bench", Actor: "admin:bench"}, nil
			},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		mux := http.NewServeMux()
		pages.Mount(mux)
		start := time.Now()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("mode", "add")
		fw, _ := mw.CreateFormFile("file", "personnes.csv")
		_, _ = fw.Write(data)
		_ = mw.Close()
		req := httptest.NewRequest(http.MethodPost, "/admin/structures/le-beta/import", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusSeeOther {
			return fmt.Errorf("upload: %d\n%s", w.Code, w.Body.String())
		}
		w2 := httptest.NewRecorder()
		mux.ServeHTTP(w2, httptest.NewRequest(http.MethodGet, w.Header().Get("Location"), nil))
		if w2.Code != http.StatusOK {
			return fmt.Errorf("preview: %d", w2.Code)
		}
		res.Nanos = time.Since(start).Nanoseconds()
		res.PageBytes = w2.Body.Len()
		res.Rows = strings.Count(w2.Body.String(), "<tr class=\"act-")
	case "cli":
		start := time.Now()
		r, err := im.Import(ctx, onboarding.Request{Structure: "le-beta", FileName: "personnes.csv", Data: data,
			DryRun: true, Actor: "cli:bench"})
		if err != nil {
			return err
		}
		var out bytes.Buffer
		if err := r.Report.WriteText(&out, "fr"); err != nil {
			return err
		}
		res.Nanos = time.Since(start).Nanoseconds()
		res.PageBytes = out.Len()
		res.Rows = len(r.Report.Rows)
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// runChild runs the test binary as a child step and returns what it
// printed and its peak resident memory in MiB.
func runChild(b *testing.B, mode, shape string) (childResult, float64) {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childEnv+"_SHAPE="+shape)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", mode, err, errOut.String())
	}
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		b.Fatalf("%s: %v\n%s", mode, err, out.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("no rusage")
	}
	return res, float64(ru.Maxrss) / 1024 // Linux reports KiB
}

// BenchmarkWebImport uploads a 5,000-row file to the import pages and
// renders its preview, in a child process, and runs the CLI's dry run of
// the same file in another, for each shape. Metrics: each one's time (s,
// measured inside the child around the work, not the store's set-up) and
// peak RSS (MiB, the child's whole life), their ratios, and the preview
// page's size.
//
//	go test -run '^$' -bench WebImport -benchtime 1x ./bench/webimport/
func BenchmarkWebImport(b *testing.B) {
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			var webRes, cliRes childResult
			var webRSS, cliRSS float64
			for b.Loop() {
				webRes, webRSS = runChild(b, "web", sh.name)
				cliRes, cliRSS = runChild(b, "cli", sh.name)
			}
			if webRes.Rows != rows || cliRes.Rows != rows {
				b.Fatalf("rows: web %d, cli %d, want %d", webRes.Rows, cliRes.Rows, rows)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(webRes.Nanos)/1e9, "web-s")
			b.ReportMetric(webRSS, "web-MiB")
			b.ReportMetric(float64(cliRes.Nanos)/1e9, "cli-s")
			b.ReportMetric(cliRSS, "cli-MiB")
			b.ReportMetric(float64(webRes.Nanos)/float64(max(cliRes.Nanos, 1)), "time-ratio")
			b.ReportMetric(webRSS/cliRSS, "mem-ratio")
			b.ReportMetric(float64(webRes.PageBytes), "page-B")
			b.Logf("%s: web upload+preview %s, %.1f MiB, page %d bytes; CLI dry run %s, %.1f MiB",
				sh.name, time.Duration(webRes.Nanos), webRSS, webRes.PageBytes, time.Duration(cliRes.Nanos), cliRSS)
		})
	}
}
