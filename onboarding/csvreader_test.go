package onboarding

import (
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// stdRecords reads text with encoding/csv as the reader mimics it.
func stdRecords(t *testing.T, text string, comma rune) ([][]string, []int) {
	t.Helper()
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes = comma, -1, true
	var recs [][]string
	var rows []int
	for {
		f, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("encoding/csv: %v", err)
		}
		line, _ := cr.FieldPos(0)
		recs, rows = append(recs, f), append(rows, line)
	}
	return recs, rows
}

// ourRecords reads text with csvReader, blank records included.
func ourRecords(text string, comma rune, max int) ([][]string, []int, []csvRecord) {
	r := newCSVReader(text, comma)
	var recs [][]string
	var rows []int
	var all []csvRecord
	for {
		rec, ok := r.read(max)
		if !ok {
			break
		}
		recs, rows, all = append(recs, rec.fields), append(rows, rec.row), append(all, rec)
	}
	return recs, rows, all
}

func TestCSVReaderMatchesEncodingCSV(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		comma      rune
	}{
		{"plain", "a;b;c\n1;2;3\n", ';'},
		{"no final newline", "a;b\n1;2", ';'},
		{"empty lines", "\n\na;b\n\n\n1;2\n\n", ';'},
		{"quoted delimiter", "\"a;b\";c\n", ';'},
		{"doubled quotes", "\"say \"\"hi\"\"\";x\n", ';'},
		{"multi-line cell", "a;\"line 1\nline 2\n\nline 4\";b\nnext;row\n", ';'},
		{"bare quote in unquoted field", "ab\"c;d\n", ';'},
		{"bare quote in quoted field", "\"ab\"c;d\";e\n", ';'},
		{"unterminated quote", "a;\"bc\nde", ';'},
		{"quote then end of text", "a;\"bc\"", ';'},
		{"empty fields", ";;\n;\n", ';'},
		{"multi-byte delimiter", "a§b§\"c§d\"\n", '§'},
		{"tab", "a\tb\n\"x\ty\"\tz\n", '\t'},
		{"lone quote", "\"\n", ','},
		{"quote quote", "\"\"\n\"\"\"\n", ','},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantRows := stdRecords(t, tc.text, tc.comma)
			got, gotRows, _ := ourRecords(tc.text, tc.comma, -1)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotRows, wantRows) {
				t.Errorf("got %q at %v, want %q at %v", got, gotRows, want, wantRows)
			}
		})
	}
}

func TestCSVReaderBoundsFields(t *testing.T) {
	text := "a;b;\"c\";d;;  ;\"e\"\n"
	_, _, recs := ourRecords(text, ';', 2)
	if len(recs) != 1 {
		t.Fatalf("records = %+v", recs)
	}
	r := recs[0]
	if !reflect.DeepEqual(r.fields, []string{"a", "b"}) || r.count != 7 || r.extra != 3 || r.lastFilled != 6 {
		t.Errorf("record = %+v", r)
	}
	_, _, recs = ourRecords(" ;\"\u00a0\";\n", ';', 1)
	if recs[0].lastFilled != -1 || recs[0].extra != 0 || recs[0].count != 3 {
		t.Errorf("blank record = %+v", recs[0])
	}
}

// FuzzCSVReader checks the bounded reader against encoding/csv on any text
// and delimiter: the same records, on the same rows.
func FuzzCSVReader(f *testing.F) {
	f.Add("a;b\n\"c\nd\";e\n", ";")
	f.Add("\"a\"\"b\"x,y\n\n,\n", ",")
	f.Add("x|\"y|z", "|")
	f.Fuzz(func(t *testing.T, text, delim string) {
		comma := []rune(delim + ";")[0]
		if !validDelimiter(comma) || strings.ContainsRune(text, '\r') {
			return
		}
		text = strings.ToValidUTF8(text, "\uFFFD")
		want, wantRows := stdRecords(t, text, comma)
		got, gotRows, _ := ourRecords(text, comma, -1)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotRows, wantRows) {
			t.Fatalf("text %q: got %q at %v, want %q at %v", text, got, gotRows, want, wantRows)
		}
	})
}
