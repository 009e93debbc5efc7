package onboarding

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// MappableFields are the fields a column may be mapped to, FieldIgnore
// included.
var MappableFields = []Field{FieldEmail, FieldPersonalEmail, FieldGiven, FieldFamily, FieldFullName,
	FieldUsername, FieldRights, FieldLanguage, FieldQuota, FieldIgnore}

// MapField reads a field name as a referent may write it: a field's name
// ("email", "given_name", "ignore"), or any header alias ("Courriel",
// "Prénom"), or "ignorer".
func MapField(name string) (Field, bool) {
	f := Field(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_"))
	if slices.Contains(MappableFields, f) {
		return f, true
	}
	switch fold(name) {
	case "ignorer", "ignore", "ignored", "aucun", "none":
		return FieldIgnore, true
	}
	if f, ok := headerAliases[fold(name)]; ok {
		return f, true
	}
	return "", false
}

// ParseMapping reads mapping specs "Header=field" (the CLI's --map). The
// header is kept as written (it is matched without case or accents).
func ParseMapping(specs []string) (map[string]Field, error) {
	m := map[string]Field{}
	for _, s := range specs {
		h, f, ok := strings.Cut(s, "=")
		h = Clean(h)
		if !ok || h == "" {
			return nil, fmt.Errorf("%w: mapping %q is not HEADER=FIELD", ErrBadRequest, s)
		}
		field, ok := MapField(f)
		if !ok {
			return nil, fmt.Errorf("%w: mapping %q: unknown field %q (fields: %s)", ErrBadRequest, s, strings.TrimSpace(f), fieldList())
		}
		m[h] = field
	}
	return m, nil
}

func fieldList() string {
	names := make([]string, len(MappableFields))
	for i, f := range MappableFields {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// mergeMapping returns the stored mapping with the request's on top,
// headers compared as Parse compares them. The stored one holds strings
// from the store; unknown fields there are dropped.
func mergeMapping(stored map[string]string, asked map[string]Field) map[string]Field {
	out := map[string]Field{}
	byFold := map[string]string{}
	for _, h := range slices.Sorted(maps.Keys(stored)) {
		if f, ok := MapField(stored[h]); ok {
			out[h], byFold[fold(h)] = f, h
		}
	}
	for h, f := range asked {
		if old, ok := byFold[fold(h)]; ok {
			delete(out, old)
		}
		out[h], byFold[fold(h)] = f, h
	}
	return out
}

func mappingStrings(m map[string]Field) map[string]string {
	out := make(map[string]string, len(m))
	for h, f := range m {
		out[h] = string(f)
	}
	return out
}
