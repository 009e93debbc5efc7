package onboarding

import "strings"

// Headers of the user exports of Google Workspace and Microsoft 365, for
// structures leaving those suites: their files are imported as they come
// out of the admin console.
//
// Google Workspace (Admin console, Users, Download users): "First Name
// [Required]", "Last Name [Required]", "Email Address [Required]" (the
// account, the address that goes away), "Recovery Email" (a personal
// address), and many columns sesame has no use for ("Password [Required]",
// "Org Unit Path [Required]", "Last Sign In [READ ONLY]"...).
//
// Microsoft 365 (admin center, Active users, Export users): "First name",
// "Last name", "Display name", "User principal name" (the account),
// "Alternate email address" when present, and columns such as "Licenses",
// "Object Id" or "When created".

// FieldPersonalEmail is a personal address (Google's "Recovery Email",
// Microsoft's "Alternate email address", "Email personnel"): the address a
// link may be sent to instead of the account's (see Address).
const FieldPersonalEmail Field = "personal_email"

// Address says which address of a row receives the activation link, and
// becomes the person's email, when the file has both a work and a personal
// column.
type Address string

// The address choices.
const (
	// AddressWork is the account's address (the email column, Google's
	// "Email Address [Required]", Microsoft's "User principal name"): the
	// default.
	AddressWork Address = "work"
	// AddressPersonal is the personal address (Google's "Recovery Email"):
	// for people whose work address goes away with the old suite.
	AddressPersonal Address = "personal"
)

// Valid reports whether a is empty (work) or a known choice.
func (a Address) Valid() bool { return a == "" || a == AddressWork || a == AddressPersonal }

// Sources of a file, as recognised from its header (Sheet.Source).
const (
	SourceGoogle    = "google-workspace"
	SourceMicrosoft = "microsoft-365"
)

// exportIgnored holds the folded headers of the suites' exports that sesame
// has no use for: in a file recognised as such an export, they are ignored
// without a warning each.
var exportIgnored = map[string]bool{}

// exportSource maps a folded header to the export it identifies.
var exportSource = map[string]string{}

func init() {
	for f, names := range map[Field][]string{
		FieldEmail:  {"Email Address [Required]", "User principal name"},
		FieldGiven:  {"First Name [Required]"},
		FieldFamily: {"Last Name [Required]"},
		FieldPersonalEmail: {"Recovery Email", "Alternate email address", "Alternate email addresses",
			"personal email", "email personnel", "e-mail personnel", "courriel personnel", "mail personnel",
			"adresse personnelle", "adresse mail personnelle", "adresse e-mail personnelle", "email perso",
			"mail perso"},
	} {
		for _, n := range names {
			headerAliases[fold(n)] = f
		}
	}
	for _, h := range []string{"Email Address [Required]", "First Name [Required]", "Last Name [Required]",
		"Org Unit Path [Required]", "Password [Required]"} {
		exportSource[fold(h)] = SourceGoogle
	}
	for _, h := range []string{"User principal name", "Object Id", "Licenses", "Block credential"} {
		exportSource[fold(h)] = SourceMicrosoft
	}
	for _, h := range []string{
		// Google Workspace
		"Password [Required]", "Password Hash Function [UPLOAD ONLY]", "Org Unit Path [Required]",
		"New Primary Email [UPLOAD ONLY]", "Home Secondary Email", "Work Secondary Email",
		"Recovery Phone [MUST BE IN THE E.164 FORMAT]", "Work Phone", "Home Phone", "Mobile Phone",
		"Work Address", "Home Address", "Employee ID", "Employee Type", "Employee Title", "Manager Email",
		"Department", "Cost Center", "Building ID", "Floor Name", "Floor Section",
		"Change Password at Next Sign-In", "New Status [UPLOAD ONLY]", "Status [READ ONLY]",
		"Last Sign In [READ ONLY]", "Email Usage [READ ONLY]", "Advanced Protection Program enrollment",
		"2sv Enrolled [READ ONLY]", "2sv Enforced [READ ONLY]",
		// Microsoft 365
		"Object Id", "Licenses", "License assignment details", "Block credential", "City",
		"Country/Region", "DirSyncEnabled", "Fax", "Last dirsync time", "Last password change time stamp",
		"Mobile Phone", "Oath token metadata", "Office", "Password never expires", "Phone number",
		"Postal code", "Preferred data location", "Preferred language", "Proxy addresses", "Release track",
		"Soft deletion time stamp", "State", "Street address", "Strong password required", "Title",
		"Usage location", "When created", "Hide from GAL", "Has mailbox",
	} {
		if _, known := headerAliases[fold(h)]; !known {
			exportIgnored[fold(h)] = true
		}
	}
}

// pickAddress returns the cell a row's email comes from, given the file's
// columns and the choice: the chosen column when filled, else the other
// one (fellBack true). work and personal are the cells' raw values; hasWork
// and hasPersonal say whether the file has each column.
func pickAddress(choice Address, work, personal string, hasWork, hasPersonal bool) (raw string, isPersonal, fellBack bool) {
	filled := func(s string) bool { return strings.TrimFunc(s, isTrimmable) != "" }
	wantPersonal := choice == AddressPersonal
	switch {
	case wantPersonal && hasPersonal && filled(personal):
		return personal, true, false
	case wantPersonal && hasWork && filled(work):
		return work, false, hasPersonal
	case !wantPersonal && hasWork && filled(work):
		return work, false, false
	case !wantPersonal && hasPersonal && filled(personal):
		return personal, true, hasWork
	case hasWork:
		return work, false, false
	default:
		return personal, true, false
	}
}
