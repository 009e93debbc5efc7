package i18n

// Keys of the import pages (package web, admin_import*.html) that Go code
// names; the pages' other keys are named by the templates only.
var (
	ImportTitle        = key("import.title")
	ImportPreviewTitle = key("import.preview.title")
	ImportDoneTitle    = key("import.done.title")
	ImportNoFile       = key("import.no_file")
	ImportTooLarge     = key("import.too_large")
	ImportSizeMB       = key("import.size.mb")
	ImportGone         = key("import.gone")
	ImportChanged      = key("import.changed")
	ImportSkipNeeded   = key("import.skip_needed")
	ImportCancelled    = key("import.cancelled")
	ImportFull         = key("import.full")
	ImportActCreate    = key("import.act.create")
	ImportActUpdate    = key("import.act.update")
	ImportActUnchanged = key("import.act.unchanged")
	ImportActDisable   = key("import.act.disable")
	ImportActError     = key("import.act.error")
	ImportWarnings     = key("import.count.warnings")

	// The choices of the preview's options form: the address that
	// receives the link, and what an unrecognised column holds.
	ImportSourceGoogle    = key("import.source.google")
	ImportSourceMicrosoft = key("import.source.microsoft")
	ImportFieldNone       = key("import.field.none")
	ImportFieldIgnore     = key("import.field.ignore")
	ImportFieldGiven      = key("import.field.given_name")
	ImportFieldFamily     = key("import.field.family_name")
	ImportFieldFullName   = key("import.field.display_name")
	ImportFieldEmail      = key("import.field.email")
	ImportFieldPersonal   = key("import.field.personal_email")
	ImportFieldUsername   = key("import.field.username")
	ImportFieldRights     = key("import.field.rights")
	ImportFieldLanguage   = key("import.field.language")
	ImportFieldQuota      = key("import.field.quota")
)

// importTexts are the sentences of the import pages: upload, preview,
// result.
var importTexts = map[Key]Text{
	ImportTitle: {
		FR: "Importer des personnes",
		EN: "Import people"},
	ImportPreviewTitle: {
		FR: "Vérifier l'import avant de le confirmer",
		EN: "Check the import before confirming it"},
	ImportDoneTitle: {
		FR: "Import appliqué",
		EN: "Import applied"},
	ImportNoFile: {
		FR: "Choisissez un fichier CSV à envoyer.",
		EN: "Choose a CSV file to send."},
	ImportTooLarge: {
		FR: "Le fichier dépasse la taille maximale de %s : enlevez les colonnes inutiles ou découpez-le en plusieurs fichiers.",
		EN: "The file is larger than the limit of %s: remove the columns that are not needed or split it into several files."},
	ImportSizeMB: {
		FR: "%s Mo",
		EN: "%s MB"},
	ImportGone: {
		FR: "Cet aperçu n'est plus disponible : il a déjà été confirmé ou annulé, ou il a expiré (au bout de 30 minutes). Rien n'a été appliqué depuis cette page ; envoyez le fichier à nouveau.",
		EN: "This preview is no longer available: it was already confirmed or cancelled, or it expired (after 30 minutes). Nothing was applied from this page; send the file again."},
	ImportChanged: {
		FR: "Les comptes ont changé depuis l'aperçu (quelqu'un a importé ou modifié des personnes entre-temps) : rien n'a été appliqué. Voici l'aperçu à jour ; vérifiez-le, puis confirmez à nouveau.",
		EN: "The accounts changed since the preview (someone imported or edited people meanwhile): nothing was applied. Here is the up-to-date preview; check it, then confirm again."},
	ImportSkipNeeded: {
		FR: "Des lignes ont des erreurs : cochez la case pour importer quand même les autres lignes, ou corrigez le fichier et envoyez-le à nouveau.",
		EN: "Some rows have errors: tick the box to import the other rows anyway, or fix the file and send it again."},
	ImportCancelled: {
		FR: "L'import a été annulé : rien n'a changé.",
		EN: "The import was cancelled: nothing changed."},
	ImportFull: {
		FR: "Trop d'imports attendent une confirmation en ce moment. Confirmez ou annulez les vôtres, ou réessayez dans quelques minutes.",
		EN: "Too many imports are waiting for a confirmation right now. Confirm or cancel yours, or try again in a few minutes."},
	ImportActCreate: {
		FR: "Création",
		EN: "Create"},
	ImportActUpdate: {
		FR: "Mise à jour",
		EN: "Update"},
	ImportActUnchanged: {
		FR: "Inchangé",
		EN: "Unchanged"},
	ImportActDisable: {
		FR: "Départ",
		EN: "Leaves"},
	ImportActError: {
		FR: "Erreur",
		EN: "Error"},
	ImportWarnings: {
		FR: "Avertissements",
		EN: "Warnings"},
	ImportSourceGoogle: {
		FR: "Ce fichier est un export des utilisateurs de Google Workspace : ses colonnes sont reconnues telles quelles.",
		EN: "This file is a Google Workspace user export: its columns are recognised as they are."},
	ImportSourceMicrosoft: {
		FR: "Ce fichier est un export des utilisateurs de Microsoft 365 : ses colonnes sont reconnues telles quelles.",
		EN: "This file is a Microsoft 365 user export: its columns are recognised as they are."},
	ImportFieldNone: {
		FR: "— non reconnue (pas lue) —",
		EN: "— not recognised (not read) —"},
	ImportFieldIgnore: {
		FR: "ignorer cette colonne",
		EN: "ignore this column"},
	ImportFieldGiven: {
		FR: "prénom",
		EN: "first name"},
	ImportFieldFamily: {
		FR: "nom",
		EN: "last name"},
	ImportFieldFullName: {
		FR: "nom complet",
		EN: "full name"},
	ImportFieldEmail: {
		FR: "courriel (adresse e-mail)",
		EN: "email address"},
	ImportFieldPersonal: {
		FR: "adresse personnelle",
		EN: "personal address"},
	ImportFieldUsername: {
		FR: "identifiant",
		EN: "username"},
	ImportFieldRights: {
		FR: "droits",
		EN: "rights"},
	ImportFieldLanguage: {
		FR: "langue",
		EN: "language"},
	ImportFieldQuota: {
		FR: "quota",
		EN: "quota"},
	{"import.options"}: {
		FR: "Choix pour cet import",
		EN: "Choices for this import"},
	{"import.address"}: {
		FR: "Quelle adresse reçoit le lien pour choisir le mot de passe ?",
		EN: "Which address receives the link to choose the password?"},
	{"import.address.work"}: {
		FR: "l'adresse professionnelle, qui va disparaître",
		EN: "the work address, which is going away"},
	{"import.address.personal"}: {
		FR: "l'adresse personnelle",
		EN: "the personal address"},
	{"import.address.hint"}: {
		FR: "Cette adresse devient celle du compte. Quand elle est vide sur une ligne, l'autre est utilisée.",
		EN: "That address becomes the account's. When it is empty on a row, the other one is used."},
	{"import.columns"}: {
		FR: "Colonnes non reconnues",
		EN: "Columns not recognised"},
	{"import.columns.hint"}: {
		FR: "Dites ce que contient chaque colonne. Le choix est retenu pour les prochains imports de la structure, une fois cet import confirmé.",
		EN: "Say what each column holds. The choice is remembered for the structure's next imports once this import is confirmed."},
	{"import.column"}: {
		FR: "Colonne « %s »",
		EN: "Column \"%s\""},
	{"import.options.apply"}: {
		FR: "Mettre à jour l'aperçu",
		EN: "Update the preview"},
	{"import.intro"}: {
		FR: "Envoyez le tableau des personnes de la structure (un fichier CSV, exporté depuis votre tableur). Rien ne change avant que vous ayez vérifié l'aperçu et confirmé.",
		EN: "Send the table of the structure's people (a CSV file, exported from your spreadsheet program). Nothing changes until you have checked the preview and confirmed."},
	{"import.example"}: {
		FR: "Télécharger un exemple de tableau",
		EN: "Download an example table"},
	{"import.example.hint"}: {
		FR: "Une ligne par personne : prénom, nom, adresse e-mail et droits (les services auxquels elle accède, et son rôle).",
		EN: "One row per person: first name, last name, email address and rights (the services they open, and their role)."},
	{"import.services"}: {
		FR: "Les services de la structure, à nommer dans la colonne « Droits »",
		EN: "The structure's services, to name in the \"Rights\" column"},
	{"import.roles"}: {
		FR: "rôles : %s ; par défaut : %s",
		EN: "roles: %s; default: %s"},
	{"import.services.none"}: {
		FR: "Cette structure n'a encore aucun service : les personnes importées auront un compte, sans accès à aucun service.",
		EN: "This structure has no service yet: the people imported will have an account, with access to no service."},
	{"import.file"}: {
		FR: "Fichier CSV",
		EN: "CSV file"},
	{"import.file.hint"}: {
		FR: "Au plus %s. Colonnes séparées par « ; », « , » ou des tabulations ; en-têtes en français ou en anglais.",
		EN: "At most %s. Columns separated by \";\", \",\" or tabs; headers in French or English."},
	{"import.mode"}: {
		FR: "Que faire des personnes absentes du fichier ?",
		EN: "What about the people missing from the file?"},
	{"import.mode.add"}: {
		FR: "Les garder (ajout et mise à jour seulement)",
		EN: "Keep them (add and update only)"},
	{"import.mode.sync"}: {
		FR: "Les retirer de la structure (synchronisation)",
		EN: "Remove them from the structure (synchronisation)"},
	{"import.mode.sync.hint"}: {
		FR: "Leurs accès aux services de la structure sont retirés, et celles qui n'appartiennent à aucune autre structure sont désactivées. L'aperçu les liste avant toute confirmation.",
		EN: "Their access to the structure's services is removed, and those who belong to no other structure are disabled. The preview lists them before anything is confirmed."},
	{"import.send"}: {
		FR: "Envoyer et voir l'aperçu",
		EN: "Send and see the preview"},
	{"import.summary"}: {
		FR: "Résumé",
		EN: "Summary"},
	{"import.file.name"}: {
		FR: "Fichier : %s",
		EN: "File: %s"},
	{"import.file.errors"}: {
		FR: "Ce fichier ne peut pas être importé",
		EN: "This file cannot be imported"},
	{"import.header.warnings"}: {
		FR: "Remarques sur les colonnes",
		EN: "Notes on the columns"},
	{"import.row"}: {
		FR: "Ligne %d",
		EN: "Row %d"},
	{"import.sync.title"}: {
		FR: "Attention : départs de la structure (%d)",
		EN: "Warning: people leaving the structure (%d)"},
	{"import.sync.warning"}: {
		FR: "Mode synchronisation : ces personnes ne figurent pas dans le fichier. Leurs accès aux services de la structure seront retirés, et celles qui n'appartiennent à aucune autre structure seront désactivées.",
		EN: "Synchronisation mode: these people are missing from the file. Their access to the structure's services will be removed, and those who belong to no other structure will be disabled."},
	{"import.sync.disabled"}: {
		FR: "compte désactivé (aucune autre structure)",
		EN: "account disabled (no other structure)"},
	{"import.sync.none"}: {
		FR: "Mode synchronisation : toutes les personnes de la structure figurent dans le fichier, personne ne la quittera.",
		EN: "Synchronisation mode: everyone in the structure is in the file, nobody will leave it."},
	{"import.table"}: {
		FR: "Ce que l'import fera, ligne par ligne",
		EN: "What the import will do, row by row"},
	{"import.table.scroll"}: {
		FR: "Tableau de l'aperçu (défilement horizontal possible)",
		EN: "Preview table (may scroll sideways)"},
	{"import.col.row"}: {
		FR: "Ligne",
		EN: "Row"},
	{"import.col.action"}: {
		FR: "Action",
		EN: "Action"},
	{"import.col.email"}: {
		FR: "Adresse e-mail",
		EN: "Email address"},
	{"import.col.username"}: {
		FR: "Identifiant",
		EN: "Username"},
	{"import.col.rights"}: {
		FR: "Droits",
		EN: "Rights"},
	{"import.col.details"}: {
		FR: "Détails",
		EN: "Details"},
	{"import.missing"}: {
		FR: "absente du fichier",
		EN: "missing from the file"},
	{"import.omitted"}: {
		FR: "… et %d autres erreurs ou avertissements, non détaillés : corrigez d'abord ceux-ci.",
		EN: "… and %d more errors or warnings, not detailed: fix these first."},
	{"import.warning.prefix"}: {
		FR: "Attention :",
		EN: "Note:"},
	{"import.skip"}: {
		FR: "Ignorer les lignes en erreur (%d) et importer les autres",
		EN: "Skip the rows with errors (%d) and import the others"},
	{"import.confirm"}: {
		FR: "Confirmer l'import",
		EN: "Confirm the import"},
	{"import.cancel"}: {
		FR: "Annuler",
		EN: "Cancel"},
	{"import.again"}: {
		FR: "Envoyer un autre fichier",
		EN: "Send another file"},
	{"import.expires"}: {
		FR: "Cet aperçu reste disponible 30 minutes.",
		EN: "This preview stays available for 30 minutes."},
	{"import.done.lead"}: {
		FR: "Les comptes de la structure sont à jour. Les nouvelles personnes reçoivent un e-mail avec un lien pour choisir leur mot de passe.",
		EN: "The structure's accounts are up to date. New people receive an email with a link to choose their password."},
	{"import.done.links"}: {
		FR: "Chaque lien est valable %d jours. Passé ce délai, renvoyez-le depuis le tableau de bord (« Renvoyer le lien ») : la personne en reçoit un nouveau.",
		EN: "Each link is valid for %d days. After that, send it again from the board (\"Send the link again\"): the person gets a new one."},
	{"import.done.board"}: {
		FR: "Voir le tableau de bord de la structure",
		EN: "See the structure's board"},
}
