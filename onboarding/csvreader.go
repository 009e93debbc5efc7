package onboarding

import (
	"strings"
	"unicode/utf8"
)

// csvReader reads records from decoded text with the rules of encoding/csv
// (LazyQuotes, any number of fields per record, "\n" line ends, empty lines
// skipped), but without ever holding more than a bounded part of a record:
// a file whose one line has millions of cells costs no more memory than the
// cells kept. Unquoted fields are slices of the text; quoted ones are
// copied (their quotes doubled inside are undone).
type csvReader struct {
	text  string
	pos   int    // next byte to read
	line  int    // lines started so far
	comma string // the delimiter, UTF-8 encoded
	buf   []byte // a quoted field being read
}

func newCSVReader(text string, comma rune) *csvReader {
	return &csvReader{text: text, comma: string(comma)}
}

// csvRecord is what next returns.
type csvRecord struct {
	row    int      // the line the record starts on (1-based)
	fields []string // at most max fields (all when max < 0)
	// count is the number of fields in the record, kept or not; extra is
	// the number of fields past max that are not blank, and lastFilled the
	// index of the last field that is not blank (-1: the record is blank).
	count, extra, lastFilled int
	// stray is the index of the first field in which a lone quote (kept
	// as it is, LazyQuotes) was followed by a line end and more lines:
	// the field ran over the following rows of the file; -1 when none.
	stray int
}

// readLine returns the next line with its "\n" (none at the end of the
// text), and false at the end of the text.
func (r *csvReader) readLine() (string, bool) {
	if r.pos >= len(r.text) {
		return "", false
	}
	r.line++
	end := strings.IndexByte(r.text[r.pos:], '\n')
	var l string
	if end < 0 {
		l = r.text[r.pos:]
	} else {
		l = r.text[r.pos : r.pos+end+1]
	}
	r.pos += len(l)
	return l, true
}

// linesLeft counts the lines left to read, up to max: the most records
// there can be.
func (r *csvReader) linesLeft(max int) int {
	n, rest := 0, r.text[r.pos:]
	for n < max && rest != "" {
		n++
		i := strings.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	return n
}

// next returns the next record that is not blank (every field only white
// space), keeping at most max fields (all when max < 0), and false at the end
// of the text.
func (r *csvReader) next(max int) (csvRecord, bool) {
	for {
		rec, ok := r.read(max)
		if !ok {
			return rec, false
		}
		if rec.lastFilled >= 0 {
			return rec, true
		}
	}
}

// read returns the next record, blank or not.
func (r *csvReader) read(max int) (csvRecord, bool) {
	var line string
	for {
		l, ok := r.readLine()
		if !ok {
			return csvRecord{}, false
		}
		if l != "\n" {
			line = l
			break
		}
	}
	rec := csvRecord{row: r.line, lastFilled: -1, stray: -1}
	for {
		if line == "" || line[0] != '"' {
			// Unquoted field: up to the next delimiter or the line's end.
			if i := strings.Index(line, r.comma); i >= 0 {
				f := line[:i]
				rec.add(f, isBlank(f), max)
				line = line[i+len(r.comma):]
				continue
			}
			f := strings.TrimSuffix(line, "\n")
			rec.add(f, isBlank(f), max)
			return rec, true
		}
		// Quoted field: up to a quote followed by the delimiter or the
		// line's end, over as many lines as it takes; "" is a quote, and a
		// lone quote elsewhere is kept as it is.
		line = line[1:]
		r.buf = r.buf[:0]
		lone := false // a lone quote was kept in this field
	quoted:
		for {
			i := strings.IndexByte(line, '"')
			if i < 0 {
				r.buf = append(r.buf, line...)
				next, ok := r.readLine()
				if !ok {
					// The text ends inside the quotes: so does the field.
					r.addQuoted(&rec, max)
					return rec, true
				}
				if lone && rec.stray < 0 {
					rec.stray = rec.count
				}
				line = next
				continue
			}
			r.buf = append(r.buf, line[:i]...)
			line = line[i+1:]
			switch {
			case strings.HasPrefix(line, `"`):
				r.buf = append(r.buf, '"')
				line = line[1:]
			case strings.HasPrefix(line, r.comma):
				r.addQuoted(&rec, max)
				line = line[len(r.comma):]
				break quoted
			case line == "" || line == "\n":
				r.addQuoted(&rec, max)
				return rec, true
			default:
				r.buf = append(r.buf, '"')
				lone = true
			}
		}
	}
}

// add counts a field, and keeps it while the record has fewer than max.
func (rec *csvRecord) add(f string, blank bool, max int) {
	if !blank {
		rec.lastFilled = rec.count
		if max >= 0 && rec.count >= max {
			rec.extra++
		}
	}
	if max < 0 || rec.count < max {
		rec.fields = append(rec.fields, f)
	}
	rec.count++
}

// addQuoted adds the quoted field in r.buf, copied only when kept.
func (r *csvReader) addQuoted(rec *csvRecord, max int) {
	if max >= 0 && rec.count >= max {
		rec.add("", isBlankBytes(r.buf), max)
		return
	}
	f := string(r.buf)
	rec.add(f, isBlank(f), max)
}

// isBlank reports whether s holds only white space (as Clean sees it).
func isBlank(s string) bool {
	for _, c := range s {
		if !isTrimmable(c) {
			return false
		}
	}
	return true
}

func isBlankBytes(b []byte) bool {
	for len(b) > 0 {
		c, size := utf8.DecodeRune(b)
		if !isTrimmable(c) {
			return false
		}
		b = b[size:]
	}
	return true
}
