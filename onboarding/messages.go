package onboarding

import "fmt"

// MsgID names a message of the catalogue.
type MsgID string

// The messages an import report may carry.
const (
	MsgFileTooLarge      MsgID = "file.too_large"
	MsgTooManyRows       MsgID = "file.too_many_rows"
	MsgFileEmpty         MsgID = "file.empty"
	MsgFileBroken        MsgID = "file.broken"
	MsgNoEmailColumn     MsgID = "file.no_email_column"
	MsgDuplicateColumn   MsgID = "file.duplicate_column"
	MsgUnknownColumn     MsgID = "file.unknown_column"
	MsgEmailMissing      MsgID = "email.missing"
	MsgEmailInvalid      MsgID = "email.invalid"
	MsgEmailDuplicate    MsgID = "email.duplicate"
	MsgUnknownService    MsgID = "rights.unknown_service"
	MsgAmbiguousService  MsgID = "rights.ambiguous_service"
	MsgUnknownRole       MsgID = "rights.unknown_role"
	MsgNoDefaultRole     MsgID = "rights.no_default_role"
	MsgConflictingRoles  MsgID = "rights.conflicting_roles"
	MsgEmptyRight        MsgID = "rights.empty_item"
	MsgTooManyFields     MsgID = "row.too_many_fields"
	MsgTooLong           MsgID = "field.too_long"
	MsgControlChar       MsgID = "field.control_char"
	MsgInvalidLanguage   MsgID = "field.invalid_language"
	MsgInvalidQuota      MsgID = "field.invalid_quota"
	MsgInvalidUsername   MsgID = "username.invalid"
	MsgUsernameTaken     MsgID = "username.taken"
	MsgUsernameImmutable MsgID = "username.immutable"
	MsgLinked            MsgID = "person.linked"
)

// catalogue holds each message in French and English, as fmt formats.
var catalogue = map[MsgID][2]string{
	MsgFileTooLarge:      {"Le fichier dépasse la taille maximale de %d octets.", "The file is larger than the limit of %d bytes."},
	MsgTooManyRows:       {"Le fichier dépasse le nombre maximal de %d lignes.", "The file has more than the limit of %d rows."},
	MsgFileEmpty:         {"Le fichier ne contient aucune ligne d'en-tête.", "The file has no header row."},
	MsgFileBroken:        {"Le fichier n'a pas pu être lu comme un tableau (CSV) : %s.", "The file could not be read as a table (CSV): %s."},
	MsgNoEmailColumn:     {"Aucune colonne d'adresse e-mail (par exemple « Courriel » ou « Email ») n'a été trouvée.", "No email column (for example \"Email\" or \"Courriel\") was found."},
	MsgDuplicateColumn:   {"La colonne « %s » désigne la même information qu'une colonne précédente.", "The column \"%s\" means the same thing as an earlier column."},
	MsgUnknownColumn:     {"La colonne « %s » n'est pas reconnue et sera ignorée.", "The column \"%s\" is not recognised and will be ignored."},
	MsgEmailMissing:      {"L'adresse e-mail est manquante.", "The email address is missing."},
	MsgEmailInvalid:      {"L'adresse e-mail « %s » n'est pas valide.", "The email address \"%s\" is not valid."},
	MsgEmailDuplicate:    {"L'adresse e-mail « %s » apparaît plusieurs fois dans le fichier (lignes %s).", "The email address \"%s\" appears more than once in the file (rows %s)."},
	MsgUnknownService:    {"Le service « %s » n'existe pas pour cette structure (services : %s).", "The service \"%s\" does not exist for this structure (services: %s)."},
	MsgAmbiguousService:  {"« %s » désigne plusieurs services de cette structure ; utilisez le nom exact du service.", "\"%s\" names several services of this structure; use the service's exact name."},
	MsgUnknownRole:       {"Le rôle « %s » n'existe pas pour le service « %s » (rôles possibles : %s).", "The role \"%s\" does not exist for the service \"%s\" (possible roles: %s)."},
	MsgNoDefaultRole:     {"Aucun rôle n'est indiqué pour le service « %s », et il n'a pas de rôle par défaut.", "No role is given for the service \"%s\", and it has no default role."},
	MsgConflictingRoles:  {"Deux rôles différents sont demandés pour le service « %s » (« %s » et « %s »).", "Two different roles are asked for the service \"%s\" (\"%s\" and \"%s\")."},
	MsgEmptyRight:        {"Un droit « %s » ne nomme aucun service.", "A right \"%s\" names no service."},
	MsgTooManyFields:     {"La ligne a %d cellules remplies au-delà des %d colonnes de l'en-tête.", "The row has %d filled cells beyond the header's %d columns."},
	MsgTooLong:           {"La valeur dépasse %d caractères.", "The value is longer than %d characters."},
	MsgControlChar:       {"La valeur contient un caractère de contrôle invisible.", "The value contains an invisible control character."},
	MsgInvalidLanguage:   {"La langue « %s » n'est pas reconnue (fr ou en).", "The language \"%s\" is not recognised (fr or en)."},
	MsgInvalidQuota:      {"Le quota « %s » n'est pas valide (par exemple « 5 Go »).", "The quota \"%s\" is not valid (for example \"5 GB\")."},
	MsgInvalidUsername:   {"L'identifiant « %s » n'est pas valide (lettres minuscules sans accent, chiffres, « . » et « - »).", "The username \"%s\" is not valid (lowercase letters without accents, digits, \".\" and \"-\")."},
	MsgUsernameTaken:     {"L'identifiant « %s » est déjà pris.", "The username \"%s\" is already taken."},
	MsgUsernameImmutable: {"Cette personne a déjà l'identifiant « %s », qui ne peut pas changer ; « %s » est ignoré.", "This person already has the username \"%s\", which cannot change; \"%s\" is ignored."},
	MsgLinked:            {"Cette personne a déjà un compte : il est rattaché à la structure, sans nouvel e-mail d'activation.", "This person already has an account: it is linked to the structure, with no new activation email."},
}

// Message is one problem or notice, in a form that can be rendered in any
// language of the catalogue.
type Message struct {
	ID   MsgID
	Args []any
}

// Text renders m in lang ("fr", the default, or "en").
func (m Message) Text(lang string) string {
	t, ok := catalogue[m.ID]
	if !ok {
		return string(m.ID)
	}
	f := t[0]
	if lang == "en" {
		f = t[1]
	}
	if len(m.Args) == 0 {
		return f
	}
	return fmt.Sprintf(f, m.Args...)
}

func msg(id MsgID, args ...any) Message { return Message{ID: id, Args: args} }
