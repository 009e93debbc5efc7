package onboarding

// Messages of the address choice and the column mapping.
const (
	MsgNoPersonalAddress MsgID = "email.no_personal_address"
	MsgNoWorkAddress     MsgID = "email.no_work_address"
	MsgNoPersonalColumn  MsgID = "file.no_personal_column"
	MsgMappedColumn      MsgID = "file.mapped_column"
	MsgExportRecognised  MsgID = "file.export_recognised"
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
		MsgExportRecognised: {"Export d'utilisateurs %s reconnu : les colonnes sans usage pour sesame sont ignorées.",
			"%s user export recognised: the columns sesame has no use for are ignored."},
	} {
		catalogue[id] = t
	}
}
