package i18n

// Keys of the administration pages, the portal and the sign-in page that
// Go code names; the pages' other keys are named by the templates only.
var (
	SignInTitle = key("signin.title")

	PortalTitle         = key("portal.title")
	PortalWrongPassword = key("portal.wrong_password")
	PortalDonePassword  = key("portal.done.password")
	PortalDoneLanguage  = key("portal.done.language")
	PortalDoneSignedOut = key("portal.done.signedout")

	AdminStructuresTitle      = key("admin.structures.title")
	AdminBoardTitle           = key("admin.board.title")
	AdminPersonTitle          = key("admin.person.title")
	AdminServicesTitle        = key("admin.services.title")
	AdminJobsTitle            = key("admin.jobs.title")
	AdminImportsTitle         = key("admin.imports.title")
	AdminSlugTaken            = key("admin.error.slug_taken")
	AdminBadSlug              = key("admin.error.bad_slug")
	AdminBadEmail             = key("admin.error.bad_email")
	AdminEmailTaken           = key("admin.error.email_taken")
	AdminDeleteNotDisabled    = key("admin.error.not_disabled")
	AdminRemoveStructureTitle = key("admin.remove_structure.t")
	AdminRemoveStructureQ     = key("admin.remove_structure.q")
	AdminRemoveStructureWarn  = key("admin.remove_structure.warn")
	AdminDisablePersonTitle   = key("admin.disable_person.t")
	AdminDisablePersonQ       = key("admin.disable_person.q")
	AdminDisablePersonWarn    = key("admin.disable_person.warn")
	AdminDeletePersonTitle    = key("admin.delete_person.t")
	AdminDeletePersonQ        = key("admin.delete_person.q")
	AdminDeletePersonWarn     = key("admin.delete_person.warn")
	AdminRemoveServiceTitle   = key("admin.remove_service.t")
	AdminRemoveServiceQ       = key("admin.remove_service.q")
	AdminRemoveServiceWarn    = key("admin.remove_service.warn")
	AdminDoneCreated          = key("admin.done.created")
	AdminDoneUpdated          = key("admin.done.updated")
	AdminDoneResent           = key("admin.done.resent")
	AdminDoneDisabled         = key("admin.done.disabled")
	AdminDoneEnabled          = key("admin.done.enabled")
	AdminDoneDeleted          = key("admin.done.deleted")
	AdminDoneRemoved          = key("admin.done.removed")
	AdminDoneRetried          = key("admin.done.retried")

	AdminServiceCreatedTitle = key("admin.service_created.t")
	AdminAuditTitle          = key("admin.audit.t")
	AdminBadService          = key("admin.error.bad_service")
	AdminBadURL              = key("admin.error.bad_url")
	AdminBadRole             = key("admin.error.bad_role")
	AdminRightsNone          = key("admin.rights.none")
	AdminDoneRights          = key("admin.done.rights")
	AdminHosterOnlyAdmin     = key("admin.person.hoster_only.admin")
	AdminHosterOnlyShared    = key("admin.person.hoster_only.shared")
	AdminSelf                = key("admin.person.self")

	AdminInternalURL      = key("admin.error.internal_url")
	AdminImportApplied    = key("admin.imports.status.applied")
	AdminImportDryRun     = key("admin.imports.status.dry-run")
	AdminImportRejected   = key("admin.imports.status.rejected")
	AdminJobLDAPPerson    = key("admin.job.kind.ldap_person")
	AdminJobLDAPStructure = key("admin.job.kind.ldap_structure")
	AdminJobProvision     = key("admin.job.kind.provision")
	AdminJobMailActivate  = key("admin.job.kind.mail_activate")
	AdminJobMailReset     = key("admin.job.kind.mail_reset")
	AdminJobMail          = key("admin.job.kind.mail")
	AdminJobMailDigest    = key("admin.job.kind.mail_digest")
	AdminJobLogout        = key("admin.job.kind.logout")

	AdminStateInvited  = key("admin.state.invited")
	AdminStateExpired  = key("admin.state.expired")
	AdminStateActive   = key("admin.state.active")
	AdminStateDisabled = key("admin.state.disabled")
	AdminProvPending   = key("admin.prov.pending")
	AdminProvDone      = key("admin.prov.done")
	AdminProvFailed    = key("admin.prov.failed")
	AdminProvManual    = key("admin.prov.manual")
)

// adminTexts are the sentences of the sign-in page, the portal and the
// administration pages.
var adminTexts = map[Key]Text{
	SignInTitle: {FR: "Connexion à sesame", EN: "Log in to sesame"},
	{"signin.intro"}: {
		FR: "Connectez-vous avec votre identifiant sesame pour gérer votre compte ou vos structures.",
		EN: "Log in with your sesame account to manage your account or your structures."},

	PortalTitle:         {FR: "Mon compte", EN: "My account"},
	{"portal.hello"}:    {FR: "Bonjour %s.", EN: "Hello %s."},
	{"portal.services"}: {FR: "Mes services", EN: "My services"},
	{"portal.noservice"}: {
		FR: "Vous n’avez encore accès à aucun service.",
		EN: "You do not have access to any service yet."},
	{"portal.admin"}:    {FR: "Administrer mes structures", EN: "Manage my structures"},
	{"portal.contact"}:  {FR: "Une question sur %s ? Écrivez à", EN: "A question about %s? Write to"},
	{"portal.password"}: {FR: "Changer de mot de passe", EN: "Change my password"},
	{"portal.current"}:  {FR: "Mot de passe actuel", EN: "Current password"},
	{"portal.current.forgot"}: {
		FR: "Vous ne connaissez plus votre mot de passe actuel ? Recevez un lien pour en choisir un nouveau",
		EN: "You no longer know your current password? Get a link to choose a new one"},
	{"portal.password.others"}: {
		FR: "Vos autres sessions (autres navigateurs, autres appareils) seront fermées.",
		EN: "Your other sessions (other browsers, other devices) will be ended."},
	{"portal.password.submit"}: {FR: "Changer le mot de passe", EN: "Change the password"},
	{"portal.language"}:        {FR: "Langue", EN: "Language"},
	{"portal.language.legend"}: {
		FR: "Langue des pages et des e-mails",
		EN: "Language of the pages and emails"},
	{"portal.signout"}:            {FR: "Me déconnecter", EN: "Log out"},
	{"portal.signout.everywhere"}: {FR: "Me déconnecter partout", EN: "Log out everywhere"},
	{"portal.signin"}:             {FR: "Se connecter", EN: "Log in"},
	PortalWrongPassword: {
		FR: "Ce n’est pas votre mot de passe actuel.",
		EN: "This is not your current password."},
	PortalDonePassword: {
		FR: "Votre mot de passe a été changé ; vos autres sessions sont fermées.",
		EN: "Your password was changed; your other sessions are ended."},
	PortalDoneLanguage:  {FR: "Votre langue est enregistrée.", EN: "Your language is saved."},
	PortalDoneSignedOut: {FR: "Vous êtes déconnecté·e.", EN: "You are logged out."},

	AdminStructuresTitle: {FR: "Structures", EN: "Structures"},
	{"admin.structures.none"}: {
		FR: "Aucune structure pour l’instant.",
		EN: "No structure yet."},
	{"admin.structures.create"}: {FR: "Créer une structure", EN: "Create a structure"},
	{"admin.field.slug"}:        {FR: "Identifiant court", EN: "Short name"},
	{"admin.field.slug.hint"}: {
		FR: "Lettres minuscules, chiffres et tirets, par exemple « le-beta ». Il ne change plus ensuite.",
		EN: "Lowercase letters, digits and dashes, for example “le-beta”. It cannot change later."},
	{"admin.field.name"}:    {FR: "Nom", EN: "Name"},
	{"admin.field.contact"}: {FR: "Adresse de contact", EN: "Contact address"},
	{"admin.field.given"}:   {FR: "Prénom", EN: "First name"},
	{"admin.field.family"}:  {FR: "Nom de famille", EN: "Last name"},
	{"admin.field.display"}: {FR: "Nom affiché", EN: "Display name"},
	{"admin.portal"}:        {FR: "Retour à mon compte", EN: "Back to my account"},
	{"admin.save"}:          {FR: "Enregistrer", EN: "Save"},
	{"admin.cancel"}:        {FR: "Annuler", EN: "Cancel"},
	{"admin.none"}:          {FR: "aucun", EN: "none"},
	{"admin.never"}:         {FR: "jamais", EN: "never"},

	{"admin.nav"}:            {FR: "Pages de la structure", EN: "Pages of the structure"},
	{"admin.nav.structures"}: {FR: "Toutes les structures", EN: "All structures"},
	{"admin.nav.board"}:      {FR: "Personnes", EN: "People"},
	{"admin.nav.services"}:   {FR: "Services", EN: "Services"},
	{"admin.nav.jobs"}:       {FR: "Échecs", EN: "Failures"},
	{"admin.nav.import"}:     {FR: "Importer un tableur", EN: "Import a spreadsheet"},
	{"admin.nav.imports"}:    {FR: "Imports passés", EN: "Past imports"},

	AdminBoardTitle: {FR: "Personnes de %s", EN: "People of %s"},
	{"admin.board.counts"}: {
		FR: "%d personnes, dont %d en attente d’activation.",
		EN: "%d people, %d of them waiting for activation."},
	{"admin.board.resend_all"}: {
		FR: "Renvoyer le lien aux personnes en attente (%d)",
		EN: "Send the link again to the people waiting (%d)"},
	{"admin.board.export"}: {
		FR: "Exporter la liste (tableur CSV)",
		EN: "Export the list (CSV spreadsheet)"},
	{"admin.board.search"}:   {FR: "Rechercher (nom, adresse)", EN: "Search (name, address)"},
	{"admin.board.state"}:    {FR: "État", EN: "State"},
	{"admin.board.filter"}:   {FR: "Filtrer", EN: "Filter"},
	{"admin.board.people"}:   {FR: "Les personnes et leurs accès", EN: "People and their access"},
	{"admin.board.empty"}:    {FR: "Personne ne correspond.", EN: "Nobody matches."},
	{"admin.board.settings"}: {FR: "La structure", EN: "The structure"},
	{"admin.structure.remove"}: {
		FR: "Supprimer cette structure…",
		EN: "Remove this structure…"},
	{"admin.col.person"}:   {FR: "Personne", EN: "Person"},
	{"admin.col.state"}:    {FR: "État", EN: "State"},
	{"admin.col.lastmail"}: {FR: "Dernier e-mail", EN: "Last email"},
	{"admin.col.services"}: {FR: "Services et rôles", EN: "Services and roles"},
	{"admin.col.actions"}:  {FR: "Actions", EN: "Actions"},
	{"admin.state.all"}:    {FR: "Tous", EN: "All"},
	AdminStateInvited:      {FR: "Invitée", EN: "Invited"},
	AdminStateExpired:      {FR: "Lien expiré", EN: "Link expired"},
	AdminStateActive:       {FR: "Active", EN: "Active"},
	AdminStateDisabled:     {FR: "Désactivée", EN: "Disabled"},
	AdminProvPending:       {FR: "compte en cours", EN: "account pending"},
	AdminProvDone:          {FR: "compte à jour", EN: "account up to date"},
	AdminProvFailed:        {FR: "compte en échec", EN: "account failed"},
	AdminProvManual:        {FR: "action manuelle", EN: "manual step"},
	{"admin.resend"}:       {FR: "Renvoyer le lien", EN: "Send the link again"},
	{"admin.enable"}:       {FR: "Réactiver", EN: "Enable again"},
	{"admin.disable"}:      {FR: "Désactiver…", EN: "Disable…"},
	{"admin.delete"}:       {FR: "Supprimer…", EN: "Delete…"},

	AdminPersonTitle:         {FR: "%s", EN: "%s"},
	{"admin.person.facts"}:   {FR: "Compte", EN: "Account"},
	{"admin.person.edit"}:    {FR: "Nom et adresse", EN: "Name and address"},
	{"admin.person.account"}: {FR: "Accès", EN: "Access"},
	{"admin.rights"}:         {FR: "Droits sur les services", EN: "Rights on the services"},
	{"admin.rights.intro"}: {
		FR: "Choisissez le rôle de la personne dans chaque service, ou « pas d’accès ». Ses comptes dans les applications suivent.",
		EN: "Choose the person’s role in each service, or “no access”. Their accounts in the applications follow."},
	{"admin.rights.save"}:  {FR: "Enregistrer les droits", EN: "Save the rights"},
	{"admin.rights.empty"}: {FR: "La structure n’a encore aucun service.", EN: "The structure has no service yet."},
	AdminRightsNone:        {FR: "pas d’accès", EN: "no access"},
	AdminBadRole:           {FR: "Ce rôle n’existe pas pour ce service.", EN: "This role does not exist for this service."},
	AdminDoneRights:        {FR: "Les droits sont enregistrés ; les comptes suivent.", EN: "The rights are saved; the accounts follow."},
	AdminHosterOnlyAdmin: {
		FR: "Cette personne administre l’hébergeur : seul·e un·e administrateur·rice de l’hébergeur peut modifier son compte, ses droits et ses accès.",
		EN: "This person is a hoster admin: only a hoster admin can change their account, rights and access."},
	AdminHosterOnlyShared: {
		FR: "Cette personne est aussi membre d’une autre structure : seul·e un·e administrateur·rice de l’hébergeur peut modifier son compte, ses droits et ses accès.",
		EN: "This person is also a member of another organisation: only a hoster admin can change their account, rights and access."},
	AdminSelf: {
		FR: "C’est votre propre compte : changez votre adresse, votre mot de passe et vos seconds facteurs depuis votre espace personnel (lien « Mon compte »). Vos droits sont modifiés par un·e autre référent·e ou par l’hébergeur.",
		EN: "This is your own account: change your email address, password and second factors from your personal space (the “My account” link). Your rights are changed by another referent or by the hoster."},

	AdminServicesTitle:       {FR: "Services de %s", EN: "Services of %s"},
	{"admin.services.none"}:  {FR: "Aucun service.", EN: "No service."},
	{"admin.service.kind"}:   {FR: "Type", EN: "Kind"},
	{"admin.service.url"}:    {FR: "Adresse", EN: "Address"},
	{"admin.service.client"}: {FR: "Identifiant du client", EN: "Client id"},
	{"admin.service.remove"}: {FR: "Supprimer ce service…", EN: "Remove this service…"},
	AdminServiceCreatedTitle: {FR: "Service %s ajouté", EN: "Service %s added"},
	AdminBadService: {
		FR: "Choisissez un type, donnez un nom et une adresse en http(s)://… (pour Paheko, au moins une catégorie ; l’adresse de retour, sur le même site).",
		EN: "Choose a kind, give a name and an http(s)://… address (for Paheko, at least one category; the redirect address on the same site)."},
	AdminBadURL:                   {FR: "Donnez une adresse en http(s)://…", EN: "Give an http(s)://… address."},
	{"admin.service.add"}:         {FR: "Ajouter un service", EN: "Add a service"},
	{"admin.service.kind.choose"}: {FR: "Type d’application", EN: "Kind of application"},
	{"admin.service.name"}:        {FR: "Nom affiché", EN: "Display name"},
	{"admin.service.categories"}: {
		FR: "Catégories Paheko (séparées par des virgules)",
		EN: "Paheko categories (separated by commas)"},
	{"admin.service.redirect"}: {FR: "Adresse de retour (facultative)", EN: "Redirect address (optional)"},
	{"admin.service.redirect.hint"}: {
		FR: "Pour une application OpenID Connect générique : l’adresse où elle reçoit la connexion, sur le même site. Les autres types ont la leur.",
		EN: "For a generic OpenID Connect application: the address where it receives the login, on the same site. The other kinds have their own."},
	{"admin.service.change_url"}: {FR: "Changer l’adresse", EN: "Change the address"},
	{"admin.service.secret"}:     {FR: "Secret du client", EN: "Client secret"},
	{"admin.service.secret.once"}: {
		FR: "Copiez-le maintenant : il ne sera plus jamais affiché (la commande « sesame service show --new-secret » en crée un autre).",
		EN: "Copy it now: it will never be shown again (\"sesame service show --new-secret\" makes a new one)."},
	{"admin.service.setup"}:   {FR: "À coller dans l’application", EN: "To paste into the application"},
	{"admin.service.back"}:    {FR: "Retour aux services", EN: "Back to the services"},
	AdminAuditTitle:           {FR: "Journal de %s", EN: "Audit log of %s"},
	{"admin.nav.audit"}:       {FR: "Journal", EN: "Audit log"},
	{"admin.audit.person"}:    {FR: "Personne (adresse ou identifiant)", EN: "Person (address or username)"},
	{"admin.audit.caption"}:   {FR: "Qui a fait quoi, du plus récent au plus ancien", EN: "Who did what, newest first"},
	{"admin.audit.when"}:      {FR: "Quand", EN: "When"},
	{"admin.audit.who"}:       {FR: "Qui", EN: "Who"},
	{"admin.audit.from"}:      {FR: "D’où", EN: "From"},
	{"admin.audit.what"}:      {FR: "Quoi", EN: "What"},
	{"admin.audit.about"}:     {FR: "Concerne", EN: "About"},
	{"admin.audit.none"}:      {FR: "Rien dans le journal.", EN: "Nothing in the log."},
	AdminJobsTitle:            {FR: "Échecs de %s", EN: "Failures of %s"},
	{"admin.jobs.none"}:       {FR: "Aucun échec : tout est à jour.", EN: "No failure: everything is up to date."},
	{"admin.job.reason"}:      {FR: "Raison", EN: "Reason"},
	{"admin.job.when"}:        {FR: "Dernier essai", EN: "Last attempt"},
	{"admin.job.retry"}:       {FR: "Réessayer", EN: "Try again"},
	AdminImportsTitle:         {FR: "Imports de %s", EN: "Imports of %s"},
	{"admin.imports.none"}:    {FR: "Aucun import.", EN: "No import."},
	{"admin.imports.caption"}: {FR: "Les imports, du plus récent au plus ancien", EN: "Imports, newest first"},
	{"admin.imports.when"}:    {FR: "Date", EN: "Date"},
	{"admin.imports.file"}:    {FR: "Fichier", EN: "File"},
	{"admin.imports.who"}:     {FR: "Par", EN: "By"},
	{"admin.imports.status"}:  {FR: "Résultat", EN: "Result"},

	AdminSlugTaken: {FR: "Cet identifiant est déjà pris.", EN: "This short name is taken."},
	AdminBadSlug: {
		FR: "Utilisez des lettres minuscules, des chiffres et des tirets, et donnez un nom.",
		EN: "Use lowercase letters, digits and dashes, and give a name."},
	AdminBadEmail:   {FR: "Ce n’est pas une adresse e-mail.", EN: "This is not an email address."},
	AdminEmailTaken: {FR: "Une autre personne a déjà cette adresse.", EN: "Someone else already has this address."},
	AdminDeleteNotDisabled: {
		FR: "Seule une personne désactivée peut être supprimée : désactivez-la d’abord.",
		EN: "Only a disabled person can be deleted: disable them first."},
	AdminRemoveStructureTitle: {FR: "Supprimer la structure", EN: "Remove the structure"},
	AdminRemoveStructureQ:     {FR: "Supprimer la structure %s ?", EN: "Remove the structure %s?"},
	AdminRemoveStructureWarn: {
		FR: "Ses services cesseront aussitôt d’accepter les connexions, et ses membres la quitteront. Les comptes des personnes restent.",
		EN: "Its services will stop accepting logins at once, and its members will leave it. The people’s accounts stay."},
	AdminDisablePersonTitle: {FR: "Désactiver la personne", EN: "Disable the person"},
	AdminDisablePersonQ:     {FR: "Désactiver %s (%s) ?", EN: "Disable %s (%s)?"},
	AdminDisablePersonWarn: {
		FR: "%s ne pourra plus se connecter à aucun service : ses sessions en cours sont fermées, les liens déjà envoyés cessent de fonctionner et ses comptes dans les applications sont désactivés. Vous pourrez réactiver le compte plus tard.",
		EN: "%s will no longer be able to sign in to any service: their open sessions are ended, the links already sent stop working and their accounts in the applications are disabled. You can enable the account again later."},
	AdminDeletePersonTitle: {FR: "Supprimer la personne", EN: "Delete the person"},
	AdminDeletePersonQ:     {FR: "Supprimer définitivement %s (%s) ?", EN: "Delete %s (%s) for good?"},
	AdminDeletePersonWarn: {
		FR: "Cela ne peut pas être annulé. Le journal garde son identifiant et son adresse.",
		EN: "This cannot be undone. The audit log keeps their username and address."},
	AdminRemoveServiceTitle: {FR: "Supprimer le service", EN: "Remove the service"},
	AdminRemoveServiceQ:     {FR: "Supprimer le service %s ?", EN: "Remove the service %s?"},
	AdminRemoveServiceWarn: {
		FR: "Personne ne pourra plus s’y connecter avec sesame, et les droits sur ce service disparaissent. Les comptes dans l’application restent.",
		EN: "Nobody will be able to log in to it with sesame any more, and the rights on it go. The accounts inside the application stay."},
	AdminDoneCreated:  {FR: "La structure est créée.", EN: "The structure is created."},
	AdminDoneUpdated:  {FR: "C’est enregistré.", EN: "Saved."},
	AdminDoneResent:   {FR: "Le lien part par e-mail.", EN: "The link is on its way by email."},
	AdminDoneDisabled: {FR: "La personne est désactivée.", EN: "The person is disabled."},
	AdminDoneEnabled:  {FR: "La personne est réactivée.", EN: "The person is enabled again."},
	AdminDoneDeleted:  {FR: "La personne est supprimée.", EN: "The person is deleted."},
	AdminDoneRemoved:  {FR: "C’est supprimé.", EN: "Removed."},
	AdminDoneRetried:  {FR: "La tâche va être réessayée.", EN: "The task will be tried again."},

	// A referent's service address on this machine or a private network.
	AdminInternalURL: {
		FR: "Cette adresse désigne ce serveur ou un réseau privé (par exemple localhost, 192.168.…, 10.…) : seul·e un·e administrateur·rice de l’hébergeur peut l’utiliser. Donnez l’adresse publique du service, ou demandez à l’hébergeur de l’enregistrer.",
		EN: "This address names this server or a private network (for example localhost, 192.168.…, 10.…): only a hoster admin can use it. Give the service’s public address, or ask the hoster to save it."},
	// A service whose address a referent gave (store.Service.ReferentAddress).
	{"admin.service.referent_address"}: {
		FR: "Adresse donnée par un·e référent·e : sesame ne s’y connecte jamais sur ce serveur ni sur un réseau privé. Un·e administrateur·rice de l’hébergeur la confirme en l’enregistrant.",
		EN: "Address given by a referent: sesame never connects to it on this server or a private network. A hoster admin confirms it by saving it."},
	// The failures page: what failed, in plain words, and what to do with
	// the technical reason.
	{"admin.job.reason.hint"}: {
		FR: "Détail technique (en anglais) : si « Réessayer » échoue encore, transmettez-le à l’hébergeur.",
		EN: "Technical detail: if “Try again” fails again, send it to the hoster."},
	AdminJobLDAPPerson:    {FR: "Mise à jour du compte dans l’annuaire", EN: "Updating the account in the directory"},
	AdminJobLDAPStructure: {FR: "Mise à jour de la structure dans l’annuaire", EN: "Updating the structure in the directory"},
	AdminJobProvision:     {FR: "Mise à jour du compte dans une application", EN: "Updating the account in an application"},
	AdminJobMailActivate:  {FR: "Envoi du lien d’activation", EN: "Sending the activation link"},
	AdminJobMailReset:     {FR: "Envoi du lien de nouveau mot de passe", EN: "Sending the new password link"},
	AdminJobMail:          {FR: "Envoi d’un e-mail à la personne", EN: "Sending an email to the person"},
	AdminJobMailDigest:    {FR: "Envoi du récapitulatif aux référent·es", EN: "Sending the summary to the referents"},
	AdminJobLogout:        {FR: "Déconnexion dans les applications", EN: "Logging out of the applications"},
	// The past imports page's results (store.Import.Status).
	AdminImportApplied:  {FR: "Appliqué", EN: "Applied"},
	AdminImportDryRun:   {FR: "Essai, rien n’a changé", EN: "Trial, nothing changed"},
	AdminImportRejected: {FR: "Refusé, rien n’a changé", EN: "Refused, nothing changed"},
}
