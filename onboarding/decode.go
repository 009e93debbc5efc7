package onboarding

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
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

// DecodeText turns the bytes of a file into text: UTF-8 with or without a
// BOM, UTF-16 with a BOM (little or big endian), otherwise Windows-1252
// (Excel's "CSV" on a French Windows). Line endings come back as "\n".
func DecodeText(b []byte) (string, Encoding, error) {
	var (
		s   string
		enc Encoding
	)
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		s, enc = string(b[3:]), EncUTF8BOM
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		endian, e := unicode.LittleEndian, EncUTF16LE
		if b[0] == 0xFE {
			endian, e = unicode.BigEndian, EncUTF16BE
		}
		out, err := unicode.UTF16(endian, unicode.ExpectBOM).NewDecoder().Bytes(b)
		if err != nil {
			return "", e, fmt.Errorf("onboarding: decode %s: %w", e, err)
		}
		s, enc = string(out), e
	case utf8.Valid(b):
		s, enc = string(b), EncUTF8
	default:
		out, err := charmap.Windows1252.NewDecoder().Bytes(b)
		if err != nil {
			return "", EncWindows1252, fmt.Errorf("onboarding: decode windows-1252: %w", err)
		}
		s, enc = string(out), EncWindows1252
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return s, enc, nil
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
// blank lines, a row of lone separators) are skipped.
func DecodeCSV(b []byte) (*Table, error) {
	text, enc, err := DecodeText(b)
	if err != nil {
		return nil, err
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
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = t.Delimiter
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &LineError{Row: pe.StartLine, Err: pe.Err}
			}
			return nil, fmt.Errorf("onboarding: read csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		blank := true
		for _, f := range fields {
			if Clean(f) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		t.Records = append(t.Records, Record{Row: line, Fields: fields})
	}
	return t, nil
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
	counts := map[rune]int{}
	quoted := false
	for _, r := range line {
		if r == '"' {
			quoted = !quoted
			continue
		}
		if !quoted {
			counts[r]++
		}
	}
	best, n := ',', 0
	for _, c := range candidates {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return best
}
