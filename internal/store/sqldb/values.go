package sqldb

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// textTime is how SQLite keeps times: fixed width, so text order is time
// order.
const textTime = "2006-01-02T15:04:05.000000Z"

// norm puts t in UTC at microsecond precision; the zero time stays zero.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func uuidString() string { return uuid.NewString() }

// timeScan scans a time kept natively, as text, or NULL (the zero time).
type timeScan struct{ p *time.Time }

func ts(p *time.Time) sql.Scanner { return timeScan{p} }

func (s timeScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.p = time.Time{}
	case time.Time:
		*s.p = norm(v)
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	default:
		return fmt.Errorf("sqldb: cannot scan %T as a time", src)
	}
	return nil
}

func (s timeScan) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("sqldb: bad time %q: %w", v, err)
	}
	*s.p = norm(t)
	return nil
}

// jsonScan decodes JSON text into p; NULL or empty text leave it zero.
type jsonScan struct{ p any }

func js(p any) sql.Scanner { return jsonScan{p} }

func (s jsonScan) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("sqldb: cannot scan %T as JSON", src)
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, s.p); err != nil {
		return fmt.Errorf("sqldb: bad JSON column: %w", err)
	}
	return nil
}

// jv encodes v as JSON text; nil slices and maps are kept as "null".
func jv(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqldb: encode JSON: %w", err)
	}
	return string(b), nil
}

// bytesScan scans a BLOB/BYTEA, keeping NULL as nil and copying the bytes.
type bytesScan struct{ p *[]byte }

func bs(p *[]byte) sql.Scanner { return bytesScan{p} }

func (s bytesScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.p = nil
	case []byte:
		*s.p = append([]byte(nil), v...)
	case string:
		*s.p = []byte(v)
	default:
		return fmt.Errorf("sqldb: cannot scan %T as bytes", src)
	}
	return nil
}

// scanner is what *sql.Row and *sql.Rows share.
type scanner interface{ Scan(dest ...any) error }

// all returns a function that scans every row of a query with one, as in
// all(scanX)(e.query(...)).
func all[T any](one func(scanner) (T, error)) func(*sql.Rows, error) ([]T, error) {
	return func(rows *sql.Rows, err error) ([]T, error) { return collect(rows, err, one) }
}

func collect[T any](rows *sql.Rows, err error, one func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := one(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// mustAffect gives ErrNotFound when a statement touched no row.
func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	return nil
}

// errNoRows is database/sql's "no rows" error.
var errNoRows = sql.ErrNoRows
