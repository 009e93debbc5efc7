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
	MsgNotCSV            MsgID = "file.not_csv"
	MsgBinary            MsgID = "file.binary"
	MsgTooManyColumns    MsgID = "file.too_many_columns"
	MsgNoEmailColumn     MsgID = "file.no_email_column"
	MsgDuplicateColumn   MsgID = "file.duplicate_column"
	MsgUnknownColumn     MsgID = "file.unknown_column"
	MsgEmailMissing      MsgID = "email.missing"
	MsgEmailInvalid      MsgID = "email.invalid"
	MsgEmailDuplicate    MsgID = "email.duplicate"
	MsgEmailNonASCII     MsgID = "email.non_ascii"
	MsgEmailIDN          MsgID = "email.idn_domain"
	MsgUnknownService    MsgID = "rights.unknown_service"
	MsgAmbiguousService  MsgID = "rights.ambiguous_service"
	MsgUnknownRole       MsgID = "rights.unknown_role"
	MsgNoDefaultRole     MsgID = "rights.no_default_role"
	MsgConflictingRoles  MsgID = "rights.conflicting_roles"
	MsgEmptyRight        MsgID = "rights.empty_item"
	MsgNoRights          MsgID = "rights.none"
	MsgTooManyFields     MsgID = "row.too_many_fields"
	MsgMoreProblems      MsgID = "row.more_problems"
	MsgTooLong           MsgID = "field.too_long"
	MsgControlChar       MsgID = "field.control_char"
	MsgInvalidBytes      MsgID = "field.invalid_bytes"
	MsgMixedScripts      MsgID = "field.mixed_scripts"
	MsgInvalidLanguage   MsgID = "field.invalid_language"
	MsgInvalidQuota      MsgID = "field.invalid_quota"
	MsgInvalidUsername   MsgID = "username.invalid"
	MsgUsernameTaken     MsgID = "username.taken"
	MsgUsernameImmutable MsgID = "username.immutable"
	MsgLinked            MsgID = "person.linked"
	MsgStaysDisabled     MsgID = "person.stays_disabled"
	MsgUnattached        MsgID = "person.unattached"
	MsgRejoins           MsgID = "person.rejoins"
	MsgUsernameKept      MsgID = "username.kept"
	MsgSelf              MsgID = "person.self"
	MsgSelfStays         MsgID = "person.self-stays"
)

// catalogue holds each message in French and English, as fmt formats.
var catalogue = map[MsgID][2]string{
	MsgFileTooLarge:      {"Le fichier dépasse la taille maximale de %d octets.", "The file is larger than the limit of %d bytes."},
	MsgTooManyRows:       {"Le fichier dépasse le nombre maximal de %d lignes.", "The file has more than the limit of %d rows."},
	MsgFileEmpty:         {"Le fichier ne contient aucune ligne d'en-tête.", "The file has no header row."},
	MsgFileBroken:        {"Le fichier n'a pas pu être lu comme un tableau (CSV) : %s.", "The file could not be read as a table (CSV): %s."},
	MsgNotCSV:            {"Ce fichier est un classeur %s, pas un tableau CSV : ouvrez-le dans votre tableur et enregistrez-le au format « CSV UTF-8 (délimité par des virgules) », puis envoyez ce nouveau fichier.", "This file is a %s workbook, not a CSV table: open it in your spreadsheet program and save it as \"CSV UTF-8 (comma delimited)\", then send that new file."},
	MsgBinary:            {"Ce fichier n'est pas du texte lisible (il contient des octets nuls) : ce n'est pas un tableau CSV, ou son encodage n'est pas reconnu. Enregistrez-le au format « CSV UTF-8 » depuis votre tableur.", "This file is not readable text (it contains null bytes): it is not a CSV table, or its encoding is not recognised. Save it as \"CSV UTF-8\" from your spreadsheet program."},
	MsgTooManyColumns:    {"L'en-tête compte %d colonnes, au-delà de la limite de %d : supprimez les colonnes inutiles.", "The header has %d columns, more than the limit of %d: remove the columns that are not needed."},
	MsgNoEmailColumn:     {"Aucune colonne d'adresse e-mail (par exemple « Courriel » ou « Email ») n'a été trouvée.", "No email column (for example \"Email\" or \"Courriel\") was found."},
	MsgDuplicateColumn:   {"La colonne « %s » désigne la même information qu'une colonne précédente.", "The column \"%s\" means the same thing as an earlier column."},
	MsgUnknownColumn:     {"La colonne « %s » n'est pas reconnue et sera ignorée.", "The column \"%s\" is not recognised and will be ignored."},
	MsgEmailMissing:      {"L'adresse e-mail est manquante.", "The email address is missing."},
	MsgEmailInvalid:      {"L'adresse e-mail « %s » n'est pas valide.", "The email address \"%s\" is not valid."},
	MsgEmailDuplicate:    {"L'adresse e-mail « %s » apparaît plusieurs fois dans le fichier (lignes %s).", "The email address \"%s\" appears more than once in the file (rows %s)."},
	MsgEmailNonASCII:     {"L'adresse e-mail « %s » contient des lettres accentuées ou d'un autre alphabet avant le « @ » : l'annuaire des comptes et beaucoup de messageries ne les acceptent pas, et elle pourrait imiter une autre adresse. Indiquez une adresse écrite en lettres simples, sans accent.", "The email address \"%s\" contains accented letters or letters of another alphabet before the \"@\": the accounts directory and many mail services do not accept them, and it could imitate another address. Give an address written in plain letters, without accents."},
	MsgEmailIDN:          {"Le domaine « %s » de l'adresse e-mail est enregistré sous sa forme ASCII « %s ».", "The email address's domain \"%s\" is recorded in its ASCII form \"%s\"."},
	MsgUnknownService:    {"Le service « %s » n'existe pas pour cette structure (services : %s).", "The service \"%s\" does not exist for this structure (services: %s)."},
	MsgAmbiguousService:  {"« %s » désigne plusieurs services de cette structure ; utilisez le nom exact du service.", "\"%s\" names several services of this structure; use the service's exact name."},
	MsgUnknownRole:       {"Le rôle « %s » n'existe pas pour le service « %s » (rôles possibles : %s).", "The role \"%s\" does not exist for the service \"%s\" (possible roles: %s)."},
	MsgNoDefaultRole:     {"Aucun rôle n'est indiqué pour le service « %s », et il n'a pas de rôle par défaut.", "No role is given for the service \"%s\", and it has no default role."},
	MsgConflictingRoles:  {"Deux rôles différents sont demandés pour le service « %s » (« %s » et « %s »).", "Two different roles are asked for the service \"%s\" (\"%s\" and \"%s\")."},
	MsgEmptyRight:        {"Un droit « %s » ne nomme aucun service.", "A right \"%s\" names no service."},
	MsgNoRights:          {"Aucun droit n'est indiqué : cette personne aura un compte, mais n'aura accès à aucun service de la structure.", "No rights are given: this person will have an account, but access to none of the structure's services."},
	MsgMoreProblems:      {"Cette ligne a d'autres problèmes, qui ne sont pas détaillés (seuls les %d premiers le sont).", "This row has more problems, which are not detailed (only the first %d are)."},
	MsgTooManyFields:     {"La ligne a %d cellules remplies au-delà des %d colonnes de l'en-tête.", "The row has %d filled cells beyond the header's %d columns."},
	MsgTooLong:           {"La valeur dépasse %d caractères.", "The value is longer than %d characters."},
	MsgControlChar:       {"La valeur contient un caractère invisible ou de contrôle (%U) : on ne le voit pas, mais il rendrait la valeur différente de ce qu'on lit. Retapez-la sans copier-coller.", "The value contains an invisible or control character (%U): it cannot be seen, but it would make the value differ from what one reads. Type it again instead of pasting it."},
	MsgInvalidBytes:      {"La valeur contient des octets qui ne sont pas valides en %s (affichés « \uFFFD ») : corrigez cette cellule, ou enregistrez le fichier au format « CSV UTF-8 ».", "The value contains bytes that are not valid %s (shown as \"\uFFFD\"): fix this cell, or save the file as \"CSV UTF-8\"."},
	MsgMixedScripts:      {"« %s » mêle dans un même mot des lettres latines, cyrilliques ou grecques, qui se ressemblent : vérifiez qu'il ne s'agit pas d'une imitation (par exemple un « а » cyrillique à la place d'un « a »).", "\"%s\" mixes Latin, Cyrillic or Greek letters, which look alike, in one word: check that it is not an imitation (for example a Cyrillic \"а\" in place of an \"a\")."},
	MsgInvalidLanguage:   {"La langue « %s » n'est pas reconnue (fr ou en).", "The language \"%s\" is not recognised (fr or en)."},
	MsgInvalidQuota:      {"Le quota « %s » n'est pas valide (par exemple « 5 Go »).", "The quota \"%s\" is not valid (for example \"5 GB\")."},
	MsgInvalidUsername:   {"L'identifiant « %s » n'est pas valide (lettres minuscules sans accent, chiffres, « . » et « - »).", "The username \"%s\" is not valid (lowercase letters without accents, digits, \".\" and \"-\")."},
	MsgUsernameTaken:     {"L'identifiant « %s » est déjà pris : choisissez-en un autre, ou laissez la cellule vide pour qu'un identifiant soit créé à partir du nom.", "The username \"%s\" is already taken: choose another one, or leave the cell empty for one to be made from the name."},
	MsgUsernameImmutable: {"Cette personne a déjà l'identifiant « %s », qui ne peut pas changer ; « %s » est ignoré.", "This person already has the username \"%s\", which cannot change; \"%s\" is ignored."},
	MsgLinked:            {"Cette personne a déjà un compte : il est rattaché à la structure, sans nouvel e-mail d'activation.", "This person already has an account: it is linked to the structure, with no new activation email."},
	MsgStaysDisabled:     {"Ce compte est désactivé et l'import ne le réactive pas : l'hébergeur peut le réactiver depuis sa fiche.", "This account is disabled and the import does not enable it: the hoster can enable it from its page."},
	MsgUnattached:        {"Cette adresse a déjà un compte, qui n'appartient à aucune structure : seul l'hébergeur peut le rattacher. Demandez-le-lui, ou retirez cette ligne.", "This address already has an account, which belongs to no organisation: only the hoster can link it. Ask them, or remove this row."},
	MsgRejoins:           {"Cette personne était membre de la structure, qui l'en a retirée, et n'appartient depuis à aucune autre : l'import la rattache de nouveau et réactive son compte tel qu'il était (identifiant, mot de passe), sans nouvel e-mail d'activation.", "This person was a member of the organisation, which removed them, and has belonged to no other since: the import links them again and enables their account as it was (username, password), with no new activation email."},
	MsgSelfStays:         {"Vous n'êtes pas dans le fichier, mais l'import ne vous retire pas de la structure (un autre référent ou l'hébergeur le peut).", "You are not in the file, but the import does not take you out of the organisation (another referent or the hoster can)."},
	MsgSelf:              {"C'est votre propre compte : l'import ne change ni vos informations ni vos droits (un autre référent ou l'hébergeur le peut).", "This is your own account: the import changes neither your details nor your rights (another referent or the hoster can)."},
	MsgUsernameKept:      {"Cette personne a déjà un compte, dont l'identifiant ne change pas ; « %s » est ignoré.", "This person already has an account, whose username does not change; \"%s\" is ignored."},
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
