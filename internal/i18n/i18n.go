package i18n

import (
	"fmt"
	"slices"
	"strings"
)

// Languages are the languages of the catalogue; the first is the default.
var Languages = []string{"fr", "en"}

// Default is the language used when nothing says otherwise.
const Default = "fr"

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool { return slices.Contains(Languages, lang) }

// Key names one entry of the catalogue. Go code cannot make a key from a
// string: it uses the variables this package declares beside their texts
// (ActivateTitle, LoginWrong, ...), so a key named in Go always has its
// entry (the catalogue test checks every declaration). Templates name keys
// by their text, through TemplateT.
type Key struct{ name string }

// key declares a key; it is called only in this package's declarations.
func key(name string) Key { return Key{name: name} }

// String returns the key's text ("forgot.title").
func (k Key) String() string { return k.name }

// IsZero reports whether k names nothing.
func (k Key) IsZero() bool { return k.name == "" }

// MarshalText writes the key's text, so a key can travel in JSON.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.name), nil }

// Text is one entry: the same sentence in French and in English, as fmt
// formats (both with the same verbs, in the same order).
type Text struct {
	FR string
	EN string
}

// In returns the text in lang: English for "en", French for anything else.
func (t Text) In(lang string) string {
	if lang == "en" {
		return t.EN
	}
	return t.FR
}

// Message is a key and its arguments, rendered later in the reader's
// language. An argument that is itself a Message is rendered in the same
// language first (a wait of "une minute" / "one minute" inside a sentence).
type Message struct {
	Key  Key
	Args []any
}

// M returns the Message of key with args.
func M(key Key, args ...any) Message { return Message{Key: key, Args: args} }

// IsZero reports whether m names no key.
func (m Message) IsZero() bool { return m.Key.IsZero() }

// In renders m in lang.
func (m Message) In(lang string) string { return T(lang, m.Key, m.Args...) }

// T returns key in lang, formatted with args when there are any.
func T(lang string, key Key, args ...any) string {
	t, ok := catalogue[key]
	if !ok {
		return missing(key.name)
	}
	return format(lang, t.In(lang), args)
}

// TemplateT is the templates' t function: key is the text of a key (a
// literal in the template) or a Key (a page's title, given by Go code). A
// key missing from the catalogue gives a visible "[key]" (and the catalogue
// test fails), never an empty string or a broken page.
func TemplateT(lang string, key any, args ...any) string {
	var k Key
	switch v := key.(type) {
	case Key:
		k = v
	case string:
		k = Key{name: v}
	case Message:
		return v.In(lang)
	default:
		return missing(fmt.Sprint(key))
	}
	return T(lang, k, args...)
}

func missing(name string) string { return "[" + name + "]" }

func format(lang, s string, args []any) string {
	if len(args) == 0 {
		return s
	}
	local := make([]any, len(args))
	for i, a := range args {
		if m, ok := a.(Message); ok {
			a = m.In(lang)
		}
		local[i] = a
	}
	return fmt.Sprintf(s, local...)
}

// Minutes is a wait in whole minutes (at least one), as a Message:
// "une minute", "10 minutes".
func Minutes(n int) Message {
	if n <= 1 {
		return M(UnitMinute)
	}
	return M(UnitMinutes, n)
}

// catalogue is every area's entries; a key in two areas stops the program
// at start-up (and fails every test).
var catalogue = merge(pageTexts, loginTexts, passwordTexts, importTexts, adminTexts, mfaTexts, auditTexts)

func merge(areas ...map[Key]Text) map[Key]Text {
	out := map[Key]Text{}
	for _, a := range areas {
		for k, t := range a {
			if _, dup := out[k]; dup {
				panic(fmt.Sprintf("i18n: key %q is in two areas of the catalogue", k.name))
			}
			if strings.TrimSpace(k.name) == "" {
				panic("i18n: an entry of the catalogue has no key")
			}
			out[k] = t
		}
	}
	return out
}
