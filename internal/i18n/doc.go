// Package i18n is sesame's one catalogue of the sentences people read on its
// pages and in the messages its packages hand to pages: every entry is a key
// with its French and English text (French is the reference), formatted with
// fmt verbs.
//
// Go code names a key by one of the typed constants declared beside its text
// (a Key), and passes a Message (a key and its arguments) when the sentence
// is rendered later, in the reader's language. Templates name keys by
// literal strings ({{t .Lang "forgot.title"}}). A test checks that every key
// has both languages with the same verbs, that every key a template or Go
// code uses exists, and that no key is unused.
//
// The catalogue is split by area (pages.go for the account pages, login.go
// for the OpenID Connect provider's pages, password.go for the password
// policy); a new area adds one file. Emails are not here: each email is a
// French and an English template pair in notify.
package i18n
