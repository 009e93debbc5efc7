package importbench

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sesame/internal/config"
	"sesame/internal/store"
	"sesame/internal/store/sqlite"
	"sesame/onboarding"
)

// The limits of the default configuration: every shape is as large as an
// import accepts. SESAME_IMPORTBENCH_MAX_BYTES and _MAX_ROWS measure other
// limits.
var (
	maxBytes = envInt("SESAME_IMPORTBENCH_MAX_BYTES", config.DefaultImportMaxBytes)
	maxRows  = envInt("SESAME_IMPORTBENCH_MAX_ROWS", config.DefaultImportMaxRows)
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// childEnv tells the test binary, started again by a benchmark, to run one
// measured step and exit.
const childEnv = "SESAME_IMPORTBENCH_CHILD"

// shapes are the hostile files, each generated up to size bytes.
var shapes = []struct {
	name string
	gen  func(size int) []byte
}{
	// The file: a header of 2.6 million one-letter columns.
	{"wide-header", func(size int) []byte {
		var b bytes.Buffer
		b.WriteString("email")
		for b.Len() < size-2 {
			b.WriteString(";c")
		}
		b.WriteString("\n")
		return b.Bytes()
	}},
	// A normal header, then one row of millions of cells.
	{"wide-row", func(size int) []byte {
		var b bytes.Buffer
		b.WriteString("email;prénom;nom;droits\na@example.org")
		for b.Len() < size-2 {
			b.WriteString(";x")
		}
		b.WriteString("\n")
		return b.Bytes()
	}},
	// Rows of 64 KiB names (each too long).
	{"long-lines", func(size int) []byte {
		var b bytes.Buffer
		b.WriteString("email;prénom;nom\n")
		long := strings.Repeat("é", 32<<10)
		for i := 0; b.Len()+len(long)+40 < size; i++ {
			fmt.Fprintf(&b, "p%d@example.org;%s;Nom\n", i, long)
		}
		return b.Bytes()
	}},
	// Windows-1252 bytes that each become three bytes of text ("€"), in
	// cells too long to keep.
	{"windows-1252-euro", func(size int) []byte {
		var b bytes.Buffer
		b.WriteString("email;nom\n")
		long := strings.Repeat("\x80", 16<<10)
		for i := 0; b.Len()+len(long)+40 < size; i++ {
			fmt.Fprintf(&b, "p%d@example.org;%s\n", i, long)
		}
		return b.Bytes()
	}},
	// As many rows as allowed, each with a rights cell naming hundreds of
	// unknown services, an invalid email and a control character.
	{"many-problems", func(size int) []byte {
		var b bytes.Buffer
		b.WriteString("email;prénom;nom;droits\n")
		per := size/maxRows - 40
		var cell strings.Builder
		for i := 0; cell.Len() < per-4 && cell.Len() < onboarding.MaxRightsLen-8; i++ {
			fmt.Fprintf(&cell, "s%d,", i)
		}
		for i := 0; i < maxRows; i++ {
			fmt.Fprintf(&b, "bad%d@@x;A\x01;Nom;%s\n", i, cell.String())
		}
		return b.Bytes()
	}},
	// One quoted cell holding the whole file, over many lines.
	{"huge-cell", func(size int) []byte {
		var b bytes.Buffer
		b.WriteString("email;nom\na@example.org;\"")
		line := strings.Repeat("x", 79) + "\n"
		for b.Len()+len(line)+3 < size {
			b.WriteString(line)
		}
		b.WriteString("\"\n")
		return b.Bytes()
	}},
	// Millions of tiny rows: far more than max_rows.
	{"many-rows", func(size int) []byte {
		var b bytes.Buffer
		b.WriteString("email\n")
		for b.Len() < size-2 {
			b.WriteString("a\n")
		}
		return b.Bytes()
	}},
	// A valid file of max_rows new people (the ordinary worst case).
	{"valid-max-rows", func(size int) []byte {
		var b bytes.Buffer
		b.WriteString("Prénom;Nom;Courriel;Droits\n")
		for i := 0; i < maxRows; i++ {
			fmt.Fprintf(&b, "Prénom%d;Nom%d;p%d@example.org;nextcloud, site:éditeur\n", i, i, i)
		}
		return b.Bytes()
	}},
}

// TestMain runs a child step when asked to, and the benchmarks otherwise.
func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := child(mode, os.Getenv(childEnv+"_FILE")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childResult is what a child step prints.
type childResult struct {
	Nanos       int64  `json:"nanos"`
	Status      string `json:"status"`
	ReportBytes int    `json:"report_bytes"`
	StoredBytes int    `json:"stored_bytes"`
}

// child runs one step on file: "import" is a dry-run import on a fresh
// SQLite store through onboarding.Importer (parse, plan, report, the import
// record), as `sesame import --dry-run --format json` does; "apply" is the
// same import for real (applied, or refused and recorded with its report);
// "csv" is the reference, encoding/csv reading every record of the same
// bytes.
func child(mode, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var res childResult
	switch mode {
	case "csv":
		start := time.Now()
		r := csv.NewReader(bytes.NewReader(data))
		r.Comma, r.FieldsPerRecord, r.LazyQuotes = ';', -1, true
		n := 0
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			n += len(rec)
		}
		res.Nanos = time.Since(start).Nanoseconds()
		res.Status = fmt.Sprintf("%d fields", n)
	case "import", "apply":
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "importbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		db, err := sqlite.Open(ctx, filepath.Join(dir, "sesame.db"), time.Now)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.Migrate(ctx); err != nil {
			return err
		}
		s := store.Structure{Slug: "le-beta", Name: "Le Bêta"}
		if err := db.CreateStructure(ctx, &s); err != nil {
			return err
		}
		for _, svc := range []store.Service{
			{Slug: "nextcloud", Name: "Nextcloud", Kind: store.KindNextcloud, DefaultRole: "user"},
			{Slug: "site", Name: "Site web", Kind: store.KindWordPress, DefaultRole: "subscriber"},
		} {
			svc.StructureID, svc.BaseURL, svc.ClientID = s.ID, "https://"+svc.Slug+".example.org", "le-beta."+svc.Slug
			if err := db.CreateService(ctx, &svc); err != nil {
				return err
			}
		}
		im := &onboarding.Importer{Store: db, Tokens: &onboarding.Tokens{Key: bytes.Repeat([]byte("k"), 32)},
			Options: onboarding.Options{MaxBytes: int64(maxBytes), MaxRows: maxRows}}
		start := time.Now()
		r, err := im.Import(ctx, onboarding.Request{Structure: "le-beta", FileName: "hostile.csv", Data: data,
			DryRun: mode == "import", Actor: "bench"})
		if err != nil {
			return err
		}
		res.ReportBytes = len(r.Report.JSON())
		res.Nanos = time.Since(start).Nanoseconds()
		res.Status = r.Status
		rec, err := db.GetImport(ctx, r.ImportID)
		if err != nil {
			return err
		}
		res.StoredBytes = len(rec.Report)
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// runChild runs the test binary as a child step and returns what it printed
// and its peak resident memory in MiB.
func runChild(b *testing.B, mode, file string) (childResult, float64) {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, childEnv+"_FILE="+file)
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

// BenchmarkHostile runs a dry-run import of each hostile shape, at the
// default import.max_bytes and import.max_rows, in a child process, the same
// import for real in another, and encoding/csv reading the same file in a
// third. Metrics: each one's time (s, measured inside the child around the
// work) and peak RSS (MiB, the child's whole life: runtime, SQLite, the file),
// the dry run's ratios to the reference, the size of the JSON report, and
// of the report stored with the import record (dry run and real run).
//
//	go test -run '^$' -bench Hostile -benchtime 1x ./bench/import/
func BenchmarkHostile(b *testing.B) {
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			file := filepath.Join(b.TempDir(), sh.name+".csv")
			data := sh.gen(maxBytes)
			if len(data) > maxBytes {
				b.Fatalf("%s is %d bytes, over %d", sh.name, len(data), maxBytes)
			}
			if err := os.WriteFile(file, data, 0o600); err != nil {
				b.Fatal(err)
			}
			var imp, app, ref childResult
			var impRSS, appRSS, refRSS float64
			for b.Loop() {
				imp, impRSS = runChild(b, "import", file)
				app, appRSS = runChild(b, "apply", file)
				ref, refRSS = runChild(b, "csv", file)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(imp.Nanos)/1e9, "import-s")
			b.ReportMetric(impRSS, "import-MiB")
			b.ReportMetric(float64(ref.Nanos)/1e9, "csv-s")
			b.ReportMetric(refRSS, "csv-MiB")
			b.ReportMetric(float64(imp.Nanos)/float64(max(ref.Nanos, 1)), "time-ratio")
			b.ReportMetric(impRSS/refRSS, "mem-ratio")
			b.ReportMetric(float64(imp.ReportBytes), "report-B")
			b.ReportMetric(float64(imp.StoredBytes), "stored-B")
			b.ReportMetric(float64(app.Nanos)/1e9, "apply-s")
			b.ReportMetric(appRSS, "apply-MiB")
			b.ReportMetric(float64(app.StoredBytes), "apply-stored-B")
			b.Logf("%s: %d bytes; dry run: %s in %s, %.1f MiB; real run: %s in %s, %.1f MiB; csv: %s in %s, %.1f MiB",
				sh.name, len(data), imp.Status, time.Duration(imp.Nanos), impRSS, app.Status, time.Duration(app.Nanos),
				appRSS, ref.Status, time.Duration(ref.Nanos), refRSS)
		})
	}
}
