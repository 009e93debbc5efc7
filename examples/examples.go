// Package examples holds the example spreadsheets of the documentation,
// embedded so that the web import offers the same file to download.
package examples

import _ "embed"

// Personnes is examples/personnes.csv: the example spreadsheet with French
// headers, the one the import page offers.
//
//go:embed personnes.csv
var Personnes []byte

// People is examples/people.csv: the same example with English headers.
//
//go:embed people.csv
var People []byte

// Spreadsheet returns the example in lang: English headers for "en",
// French otherwise.
func Spreadsheet(lang string) []byte {
	if lang == "en" {
		return People
	}
	return Personnes
}
