package onboarding

// Messages of the address choice and the column mapping.
const (
	MsgNoPersonalAddress MsgID = "email.no_personal_address"
	MsgNoWorkAddress     MsgID = "email.no_work_address"
	MsgNoPersonalColumn  MsgID = "file.no_personal_column"
	MsgMappedColumn      MsgID = "file.mapped_column"
	MsgExportRecognised  MsgID = "file.export_recognised"
	MsgStrayQuote        MsgID = "file.stray_quote"
	MsgSamePerson        MsgID = "email.same_person"
)

func init() {
	for id, t := range map[MsgID][2]string{
		MsgNoPersonalAddress: {"Cette ligne n'a pas d'adresse personnelle : le lien sera envoyé à l'adresse professionnelle, « %s ».",
			"This row has no personal address: the link will be sent to the work address, \"%s\"."},
		MsgNoWorkAddress: {"Cette ligne n'a pas d'adresse professionnelle : le lien sera envoyé à l'adresse personnelle, « %s ».",
			"This row has no work address: the link will be sent to the personal address, \"%s\"."},
		MsgNoPersonalColumn: {"Le fichier n'a pas de colonne d'adresse personnelle (par exemple « Recovery Email » ou « Email personnel ») : les liens seront envoyés aux adresses de la colonne « %s ».",
			"The file has no personal address column (for example \"Recovery Email\" or \"Personal email\"): links will be sent to the addresses of the column \"%s\"."},
		MsgMappedColumn: {"La colonne « %s » est lue comme « %s », selon la correspondance choisie pour cette structure.",
			"The column \"%s\" is read as \"%s\", as the mapping chosen for this structure says."},
		MsgStrayQuote: {"Un guillemet de la ligne %d ouvre un texte qui se poursuit jusqu'à la ligne %d : ces lignes seraient lues comme une seule cellule. Doublez le guillemet (\"\") ou retirez-le.",
			"A quote on row %d opens text that runs on to row %d: those rows would be read as one cell. Double the quote (\"\") or remove it."},
		MsgSamePerson: {"Les lignes %s désignent la même personne (adresse « %s ») : gardez une seule ligne par personne.",
			"Rows %s designate the same person (address \"%s\"): keep one row per person."},
		MsgExportRecognised: {"Export d'utilisateurs %s reconnu : les colonnes sans usage pour sesame sont ignorées.",
			"%s user export recognised: the columns sesame has no use for are ignored."},
	} {
		catalogue[id] = t
	}
}
