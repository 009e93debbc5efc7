package onboarding

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// Encoding names what DecodeText recognised.
type Encoding string

// The encodings a CSV file may come in.
const (
	EncUTF8        Encoding = "utf-8"
	EncUTF8BOM     Encoding = "utf-8-bom"
	EncUTF16LE     Encoding = "utf-16le"
	EncUTF16BE     Encoding = "utf-16be"
	EncWindows1252 Encoding = "windows-1252"
)

// label is the encoding's name as people know it, for messages.
func (e Encoding) label() string {
	switch e {
	case EncUTF16LE, EncUTF16BE:
		return "UTF-16"
	case EncWindows1252:
		return "Windows-1252"
	}
	return "UTF-8"
}

// utf8Census counts, in b, the valid multi-byte UTF-8 sequences and the
// bytes that start no valid sequence.
func utf8Census(b []byte) (valid, invalid int) {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			invalid++
		} else {
			valid++
		}
		i += size
	}
	return valid, invalid
}

// DecodeText turns the bytes of a file into text. The rule (the CSV contract
// in DESIGN.md):
//   - a UTF-8 BOM: UTF-8;
//   - a UTF-16 BOM (little or big endian): UTF-16;
//   - otherwise UTF-8 when the bytes are UTF-8, or when they would be but for
//     a few invalid bytes: at least one valid multi-byte sequence appears and
//     the invalid bytes do not outnumber the valid sequences;
//   - otherwise Windows-1252 (Excel's "CSV" on a French Windows).
//
// Bytes that are invalid in the chosen encoding (an odd byte in UTF-8, an
// unpaired surrogate or a lone last byte in UTF-16) become U+FFFD, and Parse
// refuses the rows that hold one: a file that is UTF-8 but for one bad byte
// is never read as Windows-1252, which would turn every "É" into "Ã‰" for
// good (usernames never change). invalid counts those bytes. Line endings
// come back as "\n".
func DecodeText(b []byte) (text string, enc Encoding, err error) {
	text, enc, _, err = decodeText(b)
	return text, enc, err
}

func decodeText(b []byte) (string, Encoding, int, error) {
	var (
		s       string
		enc     Encoding
		invalid int
	)
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		s, enc = string(b[3:]), EncUTF8BOM
		if !utf8.ValidString(s) {
			_, invalid = utf8Census(b[3:])
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		endian, e := unicode.LittleEndian, EncUTF16LE
		if b[0] == 0xFE {
			endian, e = unicode.BigEndian, EncUTF16BE
		}
		out, err := unicode.UTF16(endian, unicode.ExpectBOM).NewDecoder().Bytes(b)
		if err != nil {
			return "", e, 0, fmt.Errorf("onboarding: decode %s: %w", e, err)
		}
		s, enc = string(out), e
		invalid = strings.Count(s, "\uFFFD") - countUTF16Replacement(b[2:], endian == unicode.BigEndian)
	default:
		valid, bad := utf8Census(b)
		switch {
		case bad == 0:
			s, enc = string(b), EncUTF8
		case valid == 0 || bad > valid:
			out, err := charmap.Windows1252.NewDecoder().Bytes(b)
			if err != nil {
				return "", EncWindows1252, 0, fmt.Errorf("onboarding: decode windows-1252: %w", err)
			}
			s, enc = string(out), EncWindows1252
		default:
			s, enc, invalid = strings.ToValidUTF8(string(b), "\uFFFD"), EncUTF8, bad
		}
	}
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s, enc, invalid, nil
}

// countUTF16Replacement counts the U+FFFD characters written as such in
// UTF-16 text (not produced by decoding), so that they are not counted as
// invalid bytes.
func countUTF16Replacement(b []byte, bigEndian bool) int {
	n := 0
	for i := 0; i+1 < len(b); i += 2 {
		if (bigEndian && b[i] == 0xFF && b[i+1] == 0xFD) || (!bigEndian && b[i] == 0xFD && b[i+1] == 0xFF) {
			n++
		}
	}
	return n
}

// Record is one line of the table with the spreadsheet row number it
// starts on (1 is the first row a spreadsheet shows; an Excel "sep=" line is
// not a row).
type Record struct {
	Row    int
	Fields []string
}

// Table is a decoded CSV file.
type Table struct {
	Encoding  Encoding
	Delimiter rune
	Records   []Record // blank records (every field empty) are left out
}

// candidates are the delimiters DecodeCSV sniffs, in order of preference on
// a tie.
var candidates = []rune{';', '\t', ',', '|'}

// DecodeCSV decodes a whole CSV file: encoding, an optional first line
// "sep=X", delimiter sniffing among ";" tab "," "|" on the first line that
// is not blank, then the records. Lines whose fields are all blank (stray
// blank lines, a row of lone separators) are skipped. It keeps every field
// of every record; Parse reads files through the same reader with bounds.
func DecodeCSV(b []byte) (*Table, error) {
	r, t, _, err := openCSV(b)
	if err != nil {
		return nil, err
	}
	for {
		rec, ok := r.next(-1)
		if !ok {
			break
		}
		t.Records = append(t.Records, Record{Row: rec.row, Fields: rec.fields})
	}
	return t, nil
}

// openCSV decodes the text, honours a "sep=" line, sniffs the delimiter and
// returns a reader positioned on the first record.
func openCSV(b []byte) (*csvReader, *Table, int, error) {
	text, enc, invalid, err := decodeText(b)
	if err != nil {
		return nil, nil, 0, err
	}
	t := &Table{Encoding: enc}
	if first, rest, _ := strings.Cut(text, "\n"); true {
		f := strings.Trim(strings.Trim(first, " \r\ufeff"), "\"")
		if len(f) >= 5 && strings.EqualFold(f[:4], "sep=") {
			r, size := utf8.DecodeRuneInString(f[4:])
			if 4+size == len(f) && validDelimiter(r) {
				t.Delimiter = r
				text = rest
			}
		}
	}
	if t.Delimiter == 0 {
		t.Delimiter = sniff(text)
	}
	return newCSVReader(text, t.Delimiter), t, invalid, nil
}

// LineError is a CSV syntax error at a spreadsheet row.
type LineError struct {
	Row int
	Err error
}

func (e *LineError) Error() string { return fmt.Sprintf("onboarding: csv row %d: %v", e.Row, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

func validDelimiter(r rune) bool {
	return r != utf8.RuneError && r != '"' && r != '\n' && r != '\r' && r != 0 && r != '\ufeff' && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && !(r >= '0' && r <= '9')
}

// sniff picks the delimiter: the candidate appearing most often, outside
// quotes, on the first non-blank line (the header).
func sniff(text string) rune {
	line := ""
	for l := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(l) != "" {
			line = l
			break
		}
	}
	var counts [4]int
	quoted := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		for k, d := range candidates {
			if rune(c) == d {
				counts[k]++
			}
		}
	}
	best, n := ',', 0
	for k, c := range candidates {
		if counts[k] > n {
			best, n = c, counts[k]
		}
	}
	return best
}
