package onboarding

import (
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"sesame/internal/store"
)

// Default limits of an import; Options overrides them.
const (
	DefaultMaxBytes = 10 << 20
	DefaultMaxRows  = 10000
	// MaxFieldLen bounds a name, a username, a language or a quota cell.
	MaxFieldLen = 200
	// MaxEmailLen is RFC 5321's limit on a path.
	MaxEmailLen = 254
	// MaxRightsLen bounds a rights cell.
	MaxRightsLen = 2000
	// MaxColumns bounds the header's columns (up to the last one not
	// blank): a file may have the known fields, a column per service and
	// what else the structure keeps, not millions of cells.
	MaxColumns = 200
	// MaxRowProblems bounds the errors kept for one row; one last message
	// says when there were more.
	MaxRowProblems = 10
)

// Options are the limits of an import, from the configuration keys
// import.max_bytes and import.max_rows (zero values take the defaults),
// and how to read its columns.
type Options struct {
	MaxBytes int64
	MaxRows  int
	// Address chooses the address that receives the link when the file
	// has both a work and a personal column; empty means AddressWork.
	Address Address
	// Mapping gives a field to headers that no alias recognises, by
	// header as written (matched without case or accents): the columns a
	// structure's referent mapped once (see MapField and FieldIgnore).
	Mapping map[string]Field
}

func (o Options) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

func (o Options) maxRows() int {
	if o.MaxRows > 0 {
		return o.MaxRows
	}
	return DefaultMaxRows
}

// Field is a column's meaning.
type Field string

// The fields a column may hold.
const (
	FieldEmail    Field = "email"
	FieldGiven    Field = "given_name"
	FieldFamily   Field = "family_name"
	FieldFullName Field = "display_name"
	FieldUsername Field = "username"
	FieldRights   Field = "rights"
	FieldLanguage Field = "language"
	FieldQuota    Field = "quota"
	// FieldIgnore, in a mapping, silences an unknown column.
	FieldIgnore Field = "ignore"
)

// headerAliases maps folded header spellings, French and English, to fields.
var headerAliases = map[string]Field{}

func init() {
	for f, names := range map[Field][]string{
		FieldEmail: {"email", "e-mail", "mail", "courriel", "adresse mail", "adresse e-mail", "adresse email",
			"adresse courriel", "adresse electronique", "mel", "email address", "e-mail address", "mail address"},
		FieldGiven: {"prénom", "prenom", "first name", "firstname", "given name", "givenname", "forename"},
		FieldFamily: {"nom", "nom de famille", "last name", "lastname", "surname", "family name", "familyname",
			"nom d'usage"},
		FieldFullName: {"nom complet", "name", "full name", "fullname", "display name", "displayname",
			"nom affiché", "prénom nom", "prénom et nom", "nom et prénom", "nom prénom"},
		FieldUsername: {"identifiant", "login", "username", "user name", "nom d'utilisateur", "uid", "user id"},
		FieldRights: {"droits", "droit", "rights", "right", "accès", "acces", "access", "rôles", "rôle", "roles",
			"role", "services", "permissions", "autorisations"},
		FieldLanguage: {"langue", "language", "lang", "locale"},
		FieldQuota:    {"quota", "espace", "storage quota", "quota disque"},
	} {
		for _, n := range names {
			headerAliases[fold(n)] = f
		}
	}
}

// Problem is one error or warning about a cell, a row or the file.
type Problem struct {
	Row    int    // spreadsheet row; 0 for the file as a whole
	Column string // the header as written; empty for the whole row or file
	Msg    Message
}

// Grant is a right asked in the file, resolved against the structure's
// services.
type Grant struct {
	Service store.Service
	Role    string
}

// Row is one person as the file describes them, cleaned and validated.
type Row struct {
	Row         int
	Email       string // NFC, trimmed, case-folded
	GivenName   string
	FamilyName  string
	DisplayName string // as given, or given + family
	Username    string // as given (empty: derived)
	Language    string // "fr", "en" or empty (not given)
	Quota       string // normalised, or empty (not given)
	// AltEmail is the row's other address (personal when Email is the
	// work one, and the reverse), folded, when it has one: a person
	// already known under it is the same person.
	AltEmail string
	// Grants are the rights asked, one per service at most, by service ID.
	Grants   map[string]Grant
	Errors   []Problem
	Warnings []Problem

	emailKey string // the address compared for duplicates (see emailKey)
	altKey   string // the other address cell's key, even when that cell has an error
	disabled bool   // the export's state column says the person is disabled
	emailCol string // the header of the column Email comes from
}

// Sheet is a parsed file.
type Sheet struct {
	Encoding  Encoding
	Delimiter rune
	// InvalidBytes counts the bytes the encoding could not read (each
	// row holding one is an error).
	InvalidBytes int
	HeaderRow    int
	// HasRights is true when the file has a rights column or a service
	// column: only then does it say what each person's rights are.
	HasRights bool
	Rows      []Row
	// Source is the suite whose user export the header looks like
	// (SourceGoogle, SourceMicrosoft), or empty.
	Source string
	// HasWorkEmail and HasPersonalEmail say which address columns the
	// file has: with both, the import may choose (Options.Address).
	HasWorkEmail     bool
	HasPersonalEmail bool
	// Mapped lists the headers read through Options.Mapping; Unknown the
	// headers neither an alias, a service nor the mapping recognise (what
	// a preview offers to map).
	Mapped  []string
	Unknown []string
	// FileErrors stop the whole import (size, row count, broken CSV, no
	// email column); Warnings concern the header.
	FileErrors []Problem
	Warnings   []Problem
}

// HasErrors reports whether the file or any row has an error.
func (s *Sheet) HasErrors() bool {
	if len(s.FileErrors) > 0 {
		return true
	}
	for _, r := range s.Rows {
		if len(r.Errors) > 0 {
			return true
		}
	}
	return false
}

type column struct {
	header  string
	field   Field          // set for a known field
	service *store.Service // set for a service column
	state   bool           // the export's state column (see exportStateHeader)
}

// Parse decodes and validates a file against a structure's services. It
// never fails: every problem is in the Sheet, with its row and column.
//
// Its cost is bounded by the file's size whatever the file's shape: records
// are read one at a time and never beyond the header's columns, the header
// has at most MaxColumns columns, reading stops after the row limit, each row
// keeps at most MaxRowProblems problems, and an unknown column is reported
// once.
func Parse(data []byte, services []store.Service, opts Options) *Sheet {
	sh := &Sheet{}
	if int64(len(data)) > opts.maxBytes() {
		sh.FileErrors = append(sh.FileErrors, Problem{Msg: msg(MsgFileTooLarge, opts.maxBytes())})
		return sh
	}
	if p, ok := notText(data); ok {
		sh.FileErrors = append(sh.FileErrors, p)
		return sh
	}
	rd, t, invalid, err := openCSV(data)
	if err != nil {
		sh.FileErrors = append(sh.FileErrors, Problem{Msg: msg(MsgFileBroken, err.Error())})
		return sh
	}
	sh.Encoding, sh.Delimiter, sh.InvalidBytes = t.Encoding, t.Delimiter, invalid
	header, ok := rd.next(MaxColumns)
	if !ok {
		sh.FileErrors = append(sh.FileErrors, Problem{Msg: msg(MsgFileEmpty)})
		return sh
	}
	sh.HeaderRow = header.row
	if header.stray >= 0 {
		sh.FileErrors = append(sh.FileErrors, Problem{Row: header.row, Msg: msg(MsgStrayQuote, header.row, rd.line)})
		return sh
	}
	if n := header.lastFilled + 1; n > MaxColumns {
		sh.FileErrors = append(sh.FileErrors, Problem{Row: header.row, Msg: msg(MsgTooManyColumns, n, MaxColumns)})
		return sh
	}
	ix := newServiceIndex(services)
	mapping := make(map[string]Field, len(opts.Mapping))
	for h, f := range opts.Mapping {
		mapping[fold(h)] = f
	}
	for _, h := range header.fields {
		if src, ok := exportSource[fold(h)]; ok {
			sh.Source = src
			break
		}
	}
	cols := make([]column, len(header.fields))
	seenField := map[Field]bool{}
	seenService := map[string]bool{}
	seenUnknown := map[string]bool{}
	for i, h := range header.fields {
		if strings.ContainsRune(h, utf8.RuneError) {
			sh.FileErrors = append(sh.FileErrors, Problem{Row: header.row, Column: Clean(h), Msg: msg(MsgInvalidBytes, t.Encoding.label())})
			continue
		}
		h = Clean(h)
		cols[i].header = h
		if h == "" {
			continue
		}
		f, ok := headerAliases[fold(h)]
		if !ok {
			if f, ok = mapping[fold(h)]; ok {
				sh.Mapped = append(sh.Mapped, h)
				sh.Warnings = append(sh.Warnings, Problem{Row: header.row, Column: h, Msg: msg(MsgMappedColumn, h, string(f))})
				if f == FieldIgnore {
					continue
				}
			}
		}
		if ok {
			if seenField[f] {
				sh.FileErrors = append(sh.FileErrors, Problem{Row: header.row, Column: h, Msg: msg(MsgDuplicateColumn, h)})
				continue
			}
			seenField[f] = true
			cols[i].field = f
			if f == FieldRights {
				sh.HasRights = true
			}
			continue
		}
		if svc, found, _ := ix.lookup(h); found {
			if seenService[svc.ID] {
				sh.FileErrors = append(sh.FileErrors, Problem{Row: header.row, Column: h, Msg: msg(MsgDuplicateColumn, h)})
				continue
			}
			seenService[svc.ID] = true
			cols[i].service = &svc
			sh.HasRights = true
			continue
		}
		if exportStateHeader[fold(h)] {
			cols[i].state = true
			continue
		}
		if ownExportIgnored[fold(h)] || (sh.Source != "" && exportIgnored[fold(h)]) {
			continue
		}
		if !seenUnknown[h] {
			seenUnknown[h] = true
			sh.Unknown = append(sh.Unknown, h)
			sh.Warnings = append(sh.Warnings, Problem{Row: header.row, Column: h, Msg: msg(MsgUnknownColumn, h)})
		}
	}
	if !seenField[FieldEmail] && !seenField[FieldPersonalEmail] {
		sh.FileErrors = append(sh.FileErrors, Problem{Row: header.row, Msg: msg(MsgNoEmailColumn)})
	}
	if len(sh.FileErrors) > 0 {
		return sh
	}
	emailCol, personalCol := "", ""
	for _, c := range cols {
		switch c.field {
		case FieldEmail:
			emailCol = c.header
		case FieldPersonalEmail:
			personalCol = c.header
		}
	}
	sh.HasPersonalEmail = personalCol != ""
	sh.HasWorkEmail = emailCol != ""
	if opts.Address == AddressPersonal && personalCol == "" {
		sh.Warnings = append(sh.Warnings, Problem{Row: header.row, Msg: msg(MsgNoPersonalColumn, emailCol)})
	}
	if sh.Source != "" {
		name := "Google Workspace"
		if sh.Source == SourceMicrosoft {
			name = "Microsoft 365"
		}
		sh.Warnings = append(sh.Warnings, Problem{Row: header.row, Msg: msg(MsgExportRecognised, name)})
	}
	p := rowParser{cols: cols, ix: ix, enc: t.Encoding, emailCol: emailCol, personalCol: personalCol, address: opts.Address}
	sh.Rows = make([]Row, 0, min(rd.linesLeft(opts.maxRows()+1), opts.maxRows()))
	for {
		rec, ok := rd.next(len(cols))
		if !ok {
			break
		}
		if len(sh.Rows) == opts.maxRows() {
			sh.Rows = nil
			sh.FileErrors = append(sh.FileErrors, Problem{Msg: msg(MsgTooManyRows, opts.maxRows())})
			return sh
		}
		if rec.stray >= 0 {
			// The rows after it were read into one of its cells: none of
			// them may be taken for absent, nor this row for what it says.
			col := ""
			if rec.stray < len(cols) {
				col = cols[rec.stray].header
			}
			sh.Rows = nil
			sh.FileErrors = append(sh.FileErrors, Problem{Row: rec.row, Column: col, Msg: msg(MsgStrayQuote, rec.row, rd.line)})
			return sh
		}
		sh.Rows = append(sh.Rows, p.parse(rec))
	}
	// Duplicate emails: an error on every row concerned. Addresses are
	// compared as they will be stored, whatever invisible characters,
	// case or Unicode form a copy holds, and rows whose address has an
	// error are compared too: both rows of a pair are flagged.
	byEmail := map[string][]int{}
	for i, r := range sh.Rows {
		if r.emailKey != "" {
			byEmail[r.emailKey] = append(byEmail[r.emailKey], i)
		}
	}
	for email, idx := range byEmail {
		if len(idx) < 2 {
			continue
		}
		rows := make([]string, len(idx))
		for k, i := range idx {
			rows[k] = strconv.Itoa(sh.Rows[i].Row)
		}
		list := strings.Join(rows, ", ")
		for _, i := range idx {
			sh.Rows[i].Errors = append(sh.Rows[i].Errors, Problem{Row: sh.Rows[i].Row, Column: sh.Rows[i].emailCol, Msg: msg(MsgEmailDuplicate, email, list)})
		}
	}
	return sh
}

var quotaRe = regexp.MustCompile(`^(?i)(\d+(?:[.,]\d+)?)\s*(b|o|kb|ko|mb|mo|gb|go|tb|to|kib|mib|gib|tib)?$`)

var quotaUnits = map[string]string{
	"": "B", "b": "B", "o": "B", "kb": "KB", "ko": "KB", "mb": "MB", "mo": "MB", "gb": "GB", "go": "GB",
	"tb": "TB", "to": "TB", "kib": "KB", "mib": "MB", "gib": "GB", "tib": "TB",
}

// NormalizeQuota turns "5 Go", "5GB" or "1,5 To" into "5 GB", "1.5 TB"; it
// accepts "none"/"aucun"/"default"/"défaut" as no quota (empty).
func NormalizeQuota(s string) (string, bool) {
	switch fold(s) {
	case "", "none", "aucun", "default", "defaut", "par defaut":
		return "", true
	case "unlimited", "illimite":
		return "none", true
	}
	m := quotaRe.FindStringSubmatch(Clean(s))
	if m == nil {
		return "", false
	}
	return strings.ReplaceAll(m[1], ",", ".") + " " + quotaUnits[strings.ToLower(m[2])], true
}

// NormalizeLanguage turns "fr", "Français", "en", "anglais"... into "fr" or
// "en".
func NormalizeLanguage(s string) (string, bool) {
	switch fold(s) {
	case "":
		return "", true
	case "fr", "fr fr", "francais", "french", "fra", "fre":
		return "fr", true
	case "en", "en gb", "en us", "anglais", "english", "eng":
		return "en", true
	}
	return "", false
}

// yesWords and noWords are what a service column may hold besides a role.
var (
	yesWords = map[string]bool{"oui": true, "yes": true, "x": true, "1": true, "o": true, "y": true,
		"vrai": true, "true": true, "ok": true, "\u2713": true, "\u2714": true, "v": true}
	noWords = map[string]bool{"": true, "non": true, "no": true, "n": true, "0": true, "faux": true,
		"false": true, "-": true}
)

// rowParser validates the records of one file.
type rowParser struct {
	cols     []column
	ix       *serviceIndex
	enc      Encoding
	emailCol string
	// personalCol is the personal address column's header, if any;
	// address says which of the two receives the link.
	personalCol string
	address     Address
	names       string // the structure's services, for messages (computed once)
}

func (p *rowParser) serviceNames() string {
	if p.names == "" {
		p.names = p.ix.names()
	}
	return p.names
}

// parse validates one record.
func (p *rowParser) parse(rec csvRecord) Row {
	r := Row{Row: rec.row, Grants: map[string]Grant{}}
	more := false
	bad := func(col string, m Message) {
		for _, e := range r.Errors {
			if e.Column == col && sameMessage(e.Msg, m) {
				return
			}
		}
		if len(r.Errors) >= MaxRowProblems {
			more = true
			return
		}
		r.Errors = append(r.Errors, Problem{Row: rec.row, Column: col, Msg: m})
	}
	warn := func(col string, m Message) {
		r.Warnings = append(r.Warnings, Problem{Row: rec.row, Column: col, Msg: m})
	}
	if rec.extra > 0 {
		bad("", msg(MsgTooManyFields, rec.extra, len(p.cols)))
	}
	// grant records a right, checking for a second, different role.
	grant := func(col string, svc store.Service, role string) {
		canonical, ok := ResolveRole(svc, role)
		if !ok {
			if role == "" {
				bad(col, msg(MsgNoDefaultRole, svc.Name))
			} else {
				bad(col, msg(MsgUnknownRole, role, svc.Name, strings.Join(ServiceRoles(svc), ", ")))
			}
			return
		}
		if g, ok := r.Grants[svc.ID]; ok && g.Role != canonical {
			bad(col, msg(MsgConflictingRoles, svc.Name, g.Role, canonical))
			return
		}
		r.Grants[svc.ID] = Grant{Service: svc, Role: canonical}
	}
	var full, workRaw, personalRaw string
	var names []struct{ column, value string } // name cells, for the script check
	for i, c := range p.cols {
		if i >= len(rec.fields) {
			continue
		}
		raw := rec.fields[i]
		// A byte the file's encoding could not read is an error wherever
		// it is: the file may not be what it seems.
		if strings.ContainsRune(raw, utf8.RuneError) {
			bad(c.header, msg(MsgInvalidBytes, p.enc.label()))
			// The row still names its person (emailKey sets the
			// unreadable bytes aside).
			switch c.field {
			case FieldEmail:
				workRaw = raw
			case FieldPersonalEmail:
				personalRaw = raw
			}
			continue
		}
		if c.state {
			r.disabled = exportDisabledWord[fold(Clean(raw))]
			continue
		}
		if c.field == "" && c.service == nil {
			continue
		}
		isRights := c.field == FieldRights
		limit := MaxFieldLen
		switch c.field {
		case FieldEmail:
			limit = MaxEmailLen
			workRaw = raw
		case FieldPersonalEmail:
			limit = MaxEmailLen
			personalRaw = raw
		case FieldRights:
			limit = MaxRightsLen
		}
		trimmed := strings.TrimFunc(raw, isTrimmable)
		// A cell far longer than the limit is refused before it is
		// cleaned (a value cleans to at most its length, and only runs of
		// white space make it shorter).
		if len(trimmed) > 8*limit {
			bad(c.header, msg(MsgTooLong, limit))
			continue
		}
		if ch, found := badRune(trimmed, isRights); found {
			bad(c.header, msg(MsgControlChar, ch))
			continue
		}
		var v string
		if isRights {
			v = trimmed
		} else {
			v = unneutralise(Clean(raw))
		}
		if utf8.RuneCountInString(v) > limit {
			bad(c.header, msg(MsgTooLong, limit))
			continue
		}
		if c.service != nil {
			word := fold(v)
			switch {
			case noWords[word]:
			case yesWords[word]:
				grant(c.header, *c.service, "")
			default:
				grant(c.header, *c.service, v)
			}
			continue
		}
		switch c.field {
		case FieldGiven, FieldFamily, FieldFullName:
			names = append(names, struct{ column, value string }{c.header, v})
		}
		switch c.field {
		case FieldEmail, FieldPersonalEmail:
			// chosen below
		case FieldGiven:
			r.GivenName = v
		case FieldFamily:
			r.FamilyName = v
		case FieldFullName:
			full = v
		case FieldUsername:
			if v != "" {
				u := strings.ToLower(v)
				// Up to the former bound: an existing account's username
				// (ComputePlan refuses it for a new account).
				if !validUsername(u, legacyUsernameLen) {
					bad(c.header, msg(MsgInvalidUsername, v))
				} else {
					r.Username = u
				}
			}
		case FieldLanguage:
			if l, ok := NormalizeLanguage(v); ok {
				r.Language = l
			} else {
				bad(c.header, msg(MsgInvalidLanguage, v))
			}
		case FieldQuota:
			if q, ok := NormalizeQuota(v); ok {
				r.Quota = q
			} else {
				bad(c.header, msg(MsgInvalidQuota, v))
			}
		case FieldRights:
			for _, it := range ParseRights(v) {
				if len(r.Errors) >= MaxRowProblems {
					more = true
					break
				}
				if it.Service == "" {
					bad(c.header, msg(MsgEmptyRight, ":"+it.Role))
					continue
				}
				svc, found, ambiguous := p.ix.lookup(it.Service)
				switch {
				case ambiguous:
					bad(c.header, msg(MsgAmbiguousService, it.Service))
				case !found:
					bad(c.header, msg(MsgUnknownService, it.Service, p.serviceNames()))
				default:
					grant(c.header, svc, it.Role)
				}
			}
		}
	}
	emailCol, otherCol := p.emailCol, p.personalCol
	emailRaw, isPersonal, fellBack := pickAddress(p.address, workRaw, personalRaw, p.emailCol != "", p.personalCol != "")
	otherRaw := personalRaw
	if isPersonal {
		emailCol, otherCol, otherRaw = p.personalCol, p.emailCol, workRaw
	}
	emailRaw = unneutralise(strings.TrimFunc(emailRaw, isTrimmable))
	r.emailCol = emailCol
	if otherCol != "" {
		r.altKey = emailKey(otherRaw)
	}
	if otherCol != "" && !slices.ContainsFunc(r.Errors, func(e Problem) bool { return e.Column == otherCol }) {
		if k := r.altKey; k != "" && validEmail(k) {
			r.AltEmail = k
		}
	}
	r.Email = store.FoldEmail(Clean(emailRaw))
	if fellBack && r.Email != "" {
		id := MsgNoPersonalAddress
		if p.address != AddressPersonal {
			id = MsgNoWorkAddress
		}
		r.Warnings = append(r.Warnings, Problem{Row: rec.row, Column: emailCol, Msg: msg(id, r.Email)})
	}
	r.emailKey = emailKey(emailRaw)
	if !slices.ContainsFunc(r.Errors, func(e Problem) bool { return e.Column == emailCol }) {
		switch {
		case r.Email == "":
			bad(emailCol, msg(MsgEmailMissing))
		default:
			email, domain, m, ok := asciiEmail(r.Email)
			switch {
			case !ok:
				bad(emailCol, m)
			case !validEmail(email):
				bad(emailCol, msg(MsgEmailInvalid, r.Email))
			default:
				if domain != "" {
					if mixesScripts(domain) {
						warn(emailCol, msg(MsgMixedScripts, r.Email))
					}
					warn(emailCol, msg(MsgEmailIDN, domain, email[strings.IndexByte(email, '@')+1:]))
				}
				r.Email = email
			}
		}
	}
	// Names: a full name alone is split on its last space.
	if r.GivenName == "" && r.FamilyName == "" && full != "" {
		if i := strings.LastIndexByte(full, ' '); i > 0 {
			r.GivenName, r.FamilyName = full[:i], full[i+1:]
		} else {
			r.GivenName = full
		}
	}
	r.DisplayName = full
	if r.DisplayName == "" {
		r.DisplayName = strings.TrimSpace(r.GivenName + " " + r.FamilyName)
	}
	for _, n := range names {
		if mixesScripts(n.value) {
			warn(n.column, msg(MsgMixedScripts, n.value))
		}
	}
	if more {
		r.Errors = append(r.Errors, Problem{Row: rec.row, Msg: msg(MsgMoreProblems, MaxRowProblems)})
	}
	return r
}

// sameMessage reports whether a and b say the same thing.
func sameMessage(a, b Message) bool {
	if a.ID != b.ID || len(a.Args) != len(b.Args) {
		return false
	}
	for i := range a.Args {
		if a.Args[i] != b.Args[i] {
			return false
		}
	}
	return true
}

// emailKey is the address a cell designates once invisible and control
// characters, white space, case and the Unicode form are set aside, with
// its domain in ASCII when it can be: two cells with the same key name one
// mailbox, whatever else is wrong with them.
func emailKey(raw string) string {
	var b strings.Builder
	if len(raw) > 8*MaxEmailLen {
		return ""
	}
	for _, r := range raw {
		if !isBadRune(r, false) && r != utf8.RuneError {
			b.WriteRune(r)
		}
	}
	k := store.FoldEmail(Clean(b.String()))
	if k == "" {
		return ""
	}
	if e, _, _, ok := asciiEmail(k); ok {
		return e
	}
	return k
}

// idnaProfile converts a domain to its ASCII (xn--) form as a resolver does
// (UTS #46 mapping, IDNA2008 validity, bidi rules).
var idnaProfile = idna.Lookup

// asciiEmail returns e with its domain in ASCII. A local part (before the
// "@") that is not ASCII is refused: LDAP's mail attribute is an IA5String,
// most mail servers do not accept SMTPUTF8 addresses, and Unicode local
// parts are where look-alike addresses hide. A domain that is not ASCII is
// converted to its xn-- form, returned in domain; one that cannot be is
// refused.
func asciiEmail(e string) (ascii, domain string, m Message, ok bool) {
	if isASCII(e) {
		return e, "", Message{}, true
	}
	local, dom, found := strings.Cut(e, "@")
	if !found || !isASCII(local) {
		return "", "", msg(MsgEmailNonASCII, e), false
	}
	a, err := idnaProfile.ToASCII(dom)
	if err != nil || !isASCII(a) {
		return "", "", msg(MsgEmailInvalid, e), false
	}
	return local + "@" + strings.ToLower(a), dom, Message{}, true
}

// validEmail accepts a bare address "local@domain.tld" of printable ASCII
// characters, as net/mail parses it, with a dotted domain.
func validEmail(e string) bool {
	for i := 0; i < len(e); i++ {
		if e[i] <= ' ' || e[i] >= 0x7f {
			return false
		}
	}
	if len(e) > MaxEmailLen || strings.ContainsAny(e, " <>\"(),;:\\[]") {
		return false
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e {
		return false
	}
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return false
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return false
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
	}
	return true
}
