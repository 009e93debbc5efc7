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
	// A UTF-16 file cut in the middle of a code unit still decodes (with a
	// replacement character) rather than failing.
	if _, _, err := DecodeText([]byte{0xFF, 0xFE, 'a', 0, 'b'}); err != nil {
		t.Logf("odd-length UTF-16: %v", err)
	}
}
