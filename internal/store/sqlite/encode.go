package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/warden-api/warden/internal/store"
)

// timeLayout writes times as fixed-width UTC text, so that comparing the
// text in SQL orders the times correctly.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// encodeTime returns t as stored text, or nil (SQL NULL) for the zero time.
func encodeTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return store.Normalize(t).Format(timeLayout)
}

// decodeTime parses a stored time; NULL becomes the zero time.
func decodeTime(v sql.NullString) (time.Time, error) {
	if !v.Valid {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, v.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing stored time %q: %w", v.String, err)
	}
	return t, nil
}

// timeDecoder parses several stored times and keeps the first error, so a
// row scan can decode all its columns and check once.
type timeDecoder struct{ err error }

func (d *timeDecoder) decode(v sql.NullString) time.Time {
	t, err := decodeTime(v)
	if err != nil && d.err == nil {
		d.err = err
	}
	return t
}

// encodeStrings stores a string list as a JSON array; nil is stored as [].
func encodeStrings(v []string) (string, error) {
	if len(v) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding list: %w", err)
	}
	return string(b), nil
}

// decodeStrings reads a JSON array; an empty array becomes nil.
func decodeStrings(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decoding stored list: %w", err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

// encodeMap stores a string map as a JSON object; nil is stored as {}.
func encodeMap(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encoding metadata: %w", err)
	}
	return string(b), nil
}

// decodeMap reads a JSON object; an empty object becomes nil.
func decodeMap(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("decoding stored metadata: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}
