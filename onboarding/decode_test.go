package onboarding

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// sample is the table every fixture encodes: accents, a ligature, a euro
// sign (in Windows-1252 but not Latin-1), a quoted cell holding the
// delimiter and a new line.
var sample = [][]string{
	{"Prénom", "Nom", "Courriel", "Droits"},
	{"Élodie", "Cœur", "elodie@example.org", "nextcloud, wordpress:éditeur"},
	{"Jürgen", "Weiß €", "jurgen@example.org", "nextcloud:admin\nwordpress"},
}

// encodeCSV writes sample with a delimiter, quoting cells that need it, and
// CRLF line ends like Excel, with a stray blank line and a line of lone
// separators.
func encodeCSV(sep string, withSepLine bool) string {
	var b strings.Builder
	if withSepLine {
		b.WriteString("sep=" + sep + "\r\n")
	}
	for i, rec := range sample {
		for j, f := range rec {
			if j > 0 {
				b.WriteString(sep)
			}
			if strings.ContainsAny(f, sep+"\n\",;|\t") {
				f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
			}
			b.WriteString(f)
		}
		b.WriteString("\r\n")
		if i == 1 {
			b.WriteString("\r\n" + strings.Repeat(sep, 3) + "\r\n")
		}
	}
	return b.String()
}

func encodeWith(t *testing.T, enc string, s string) []byte {
	t.Helper()
	switch enc {
	case "utf-8":
		return []byte(s)
	case "utf-8-bom":
		return append([]byte{0xEF, 0xBB, 0xBF}, s...)
	case "utf-16le":
		b, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	case "utf-16be":
		b, err := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	case "windows-1252":
		b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("unknown encoding %s", enc)
	return nil
}

func TestDecodeCSVFixtures(t *testing.T) {
	for _, enc := range []string{"utf-8", "utf-8-bom", "utf-16le", "utf-16be", "windows-1252"} {
		for _, sep := range []string{";", ",", "\t", "|"} {
			for _, sepLine := range []bool{false, true} {
				name := enc + "/" + map[string]string{";": "semicolon", ",": "comma", "\t": "tab", "|": "pipe"}[sep]
				if sepLine {
					name += "/sep-line"
				}
				t.Run(name, func(t *testing.T) {
					data := encodeWith(t, enc, encodeCSV(sep, sepLine))
					tb, err := DecodeCSV(data)
					if err != nil {
						t.Fatal(err)
					}
					if string(tb.Encoding) != enc {
						t.Errorf("encoding = %s, want %s", tb.Encoding, enc)
					}
					if string(tb.Delimiter) != sep {
						t.Errorf("delimiter = %q, want %q", tb.Delimiter, sep)
					}
					var got [][]string
					var rows []int
					for _, r := range tb.Records {
						got = append(got, r.Fields)
						rows = append(rows, r.Row)
					}
					if !reflect.DeepEqual(got, sample) {
						t.Errorf("records = %q, want %q", got, sample)
					}
					// Header on row 1, Élodie on 2, two blank rows, Jürgen on 5.
					if want := []int{1, 2, 5}; !reflect.DeepEqual(rows, want) {
						t.Errorf("rows = %v, want %v", rows, want)
					}
				})
			}
		}
	}
}

func TestDecodeCSVSniffIgnoresQuotedDelimiters(t *testing.T) {
	tb, err := DecodeCSV([]byte("\"a;b;c\",d,e\n1,2,3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tb.Delimiter != ',' {
		t.Errorf("delimiter = %q, want ','", tb.Delimiter)
	}
}

func TestDecodeCSVOldMacLineEnds(t *testing.T) {
	tb, err := DecodeCSV([]byte("email;nom\ra@example.org;A\rb@example.org;B\r"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Records) != 3 || tb.Records[2].Row != 3 {
		t.Errorf("records = %+v", tb.Records)
	}
}

func TestDecodeTextWindows1252(t *testing.T) {
	s, enc, err := DecodeText([]byte{'C', 0x9C, 'u', 'r', ' ', 0x80, ' ', 0xE9})
	if err != nil {
		t.Fatal(err)
	}
	if enc != EncWindows1252 || s != "Cœur € é" {
		t.Errorf("got %q %s", s, enc)
	}
}

func TestDecodeTextOddUTF16(t *testing.T) {
	// A UTF-16 file cut in the middle of a code unit, or holding an
	// unpaired surrogate, still decodes: the bytes that cannot be read
	// become U+FFFD (and Parse refuses the rows holding one).
	for _, tc := range []struct {
		name string
		in   []byte
		want string
		enc  Encoding
	}{
		{"odd length", []byte{0xFF, 0xFE, 'a', 0, 'b'}, "a\uFFFD", EncUTF16LE},
		{"unpaired surrogate", []byte{0xFE, 0xFF, 0, 'a', 0xD8, 0x00, 0, 'b'}, "a\uFFFDb", EncUTF16BE},
		{"bom only", []byte{0xFF, 0xFE}, "", EncUTF16LE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, enc, err := DecodeText(tc.in)
			if err != nil || s != tc.want || enc != tc.enc {
				t.Errorf("DecodeText = %q, %s, %v; want %q, %s", s, enc, err, tc.want, tc.enc)
			}
		})
	}
}

// TestDecodeTextEncodingRule is the CSV contract's rule: UTF-8 unless no
// valid multi-byte UTF-8 sequence appears or invalid bytes outnumber valid
// sequences, in which case Windows-1252.
func TestDecodeTextEncodingRule(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		enc     Encoding
		want    string
		invalid int
	}{
		{"ascii", "email\na@example.org\n", EncUTF8, "email\na@example.org\n", 0},
		{"utf-8", "Élodie;Lefèvre\n", EncUTF8, "Élodie;Lefèvre\n", 0},
		{"utf-8 with one bad byte", "Élodie;Lefèvre\nZo\xe9;X\n", EncUTF8, "Élodie;Lefèvre\nZo\uFFFD;X\n", 1},
		{"utf-8 with as many bad bytes as good sequences", "É\xe9;è\xe8\n", EncUTF8, "É\uFFFD;è\uFFFD\n", 2},
		{"bad bytes outnumber good sequences", "É\xe9\xe8\n", EncWindows1252, "Ã‰éè\n", 0},
		{"windows-1252", "\xc9lodie;Lef\xe8vre\n", EncWindows1252, "Élodie;Lefèvre\n", 0},
		{"windows-1252 that looks like one UTF-8 sequence", "\xc3\xa9t\xe9 \xe0 \xc9vian\n", EncWindows1252, "Ã©té à Évian\n", 0},
		{"bom, bad byte", "\xef\xbb\xbfZo\xe9\n", EncUTF8BOM, "Zo\uFFFD\n", 1},
		{"bom, windows-1252 content stays UTF-8", "\xef\xbb\xbf\xc9\xe9\xe8\n", EncUTF8BOM, "\uFFFD\n", 3},
		{"crlf and cr", "a\r\nb\rc", EncUTF8, "a\nb\nc", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, enc, invalid, err := decodeText([]byte(tc.in))
			if err != nil || s != tc.want || enc != tc.enc || invalid != tc.invalid {
				t.Errorf("decodeText = %q, %s, %d, %v; want %q, %s, %d", s, enc, invalid, err, tc.want, tc.enc, tc.invalid)
			}
		})
	}
}

// TestParseInvalidBytesAreRowErrors: a UTF-8 file with one bad byte keeps
// its accents (no "Ã‰lodie", whose username would be permanent), and the
// row holding the byte is an error naming its row and column.
func TestParseInvalidBytesAreRowErrors(t *testing.T) {
	data := "Prénom;Nom;Courriel;Notes\n" +
		"Élodie;Lefèvre;elodie@example.org;\n" +
		"Zo\xe9;Martin;zoe@example.org;\n" +
		"Jean;Dupont;jean@example.org;caf\xe9\n"
	sh := Parse([]byte(data), testServices(), Options{})
	if sh.Encoding != EncUTF8 || sh.InvalidBytes != 2 {
		t.Errorf("encoding %s, %d invalid bytes", sh.Encoding, sh.InvalidBytes)
	}
	if r := sh.Rows[0]; r.GivenName != "Élodie" || r.FamilyName != "Lefèvre" || len(r.Errors) != 0 {
		t.Errorf("row 2 = %+v", r)
	}
	want := []string{"warn:1/Notes/file.unknown_column", "3/Prénom/field.invalid_bytes", "4/Notes/field.invalid_bytes"}
	if got := problems(sh); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("problems = %v, want %v", got, want)
	}
	if m := sh.Rows[1].Errors[0].Msg; !strings.Contains(m.Text("fr"), "UTF-8") || !strings.Contains(m.Text("en"), "not valid UTF-8") {
		t.Errorf("message = %q / %q", m.Text("fr"), m.Text("en"))
	}
	// A bad byte in the header stops the file: a column would be lost.
	sh = Parse([]byte("Pr\xe9nom;Courriel;Nom\nÉlodie;e@example.org;Lefèvre\n"), testServices(), Options{})
	if got := problems(sh); len(got) != 1 || got[0] != "file:1/Pr\uFFFDnom/field.invalid_bytes" {
		t.Errorf("header problems = %v", got)
	}
}
