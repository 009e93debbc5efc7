package onboarding

import "bytes"

// workbooks are the signatures of the spreadsheet files people send in
// place of a CSV export, with the name the message gives them.
var workbooks = []struct {
	magic []byte
	name  string
}{
	{[]byte("PK\x03\x04"), "Excel (.xlsx) ou LibreOffice (.ods)"},
	{[]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), "Excel 97-2003 (.xls)"},
}

// notText recognises a file that cannot be a CSV table at all, so that the
// report says what to do instead of listing a header it cannot read: a
// workbook (zip or OLE container), or bytes of which NUL makes up more than
// an eighth (a binary file, or UTF-16 without its byte order mark; a stray
// NUL in a cell is that row's error, not the file's).
func notText(data []byte) (Problem, bool) {
	for _, w := range workbooks {
		if bytes.HasPrefix(data, w.magic) {
			return Problem{Msg: msg(MsgNotCSV, w.name)}, true
		}
	}
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return Problem{}, false // UTF-16 with its BOM: NUL bytes are expected
	}
	head := data[:min(len(data), 4096)]
	if n := bytes.Count(head, []byte{0}); n > 0 && n > len(head)/8 {
		return Problem{Msg: msg(MsgBinary)}, true
	}
	return Problem{}, false
}
