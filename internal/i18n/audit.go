package i18n

// The audit page's texts: a label for each action code the program writes
// (web.auditActions maps the codes to these keys; its test fails for a
// code written anywhere without one) and for the keys of the entries' details.
var (
	AuditAdminAdd                    = key("audit.action.admin.add")
	AuditAdminRemove                 = key("audit.action.admin.remove")
	AuditReferentAdd                 = key("audit.action.referent.add")
	AuditReferentRemove              = key("audit.action.referent.remove")
	AuditPersonUpdate                = key("audit.action.person.update")
	AuditPersonDisable               = key("audit.action.person.disable")
	AuditPersonEnable                = key("audit.action.person.enable")
	AuditPersonDelete                = key("audit.action.person.delete")
	AuditPersonLink                  = key("audit.action.person.link")
	AuditPersonLinkActivate          = key("audit.action.person.link.activate")
	AuditPersonLinkReset             = key("audit.action.person.link.reset")
	AuditPersonActivate              = key("audit.action.person.activate")
	AuditPersonPasswordReset         = key("audit.action.person.password.reset")
	AuditPersonPasswordChange        = key("audit.action.person.password.change")
	AuditPersonGrants                = key("audit.action.person.grants")
	AuditPersonMfaReset              = key("audit.action.person.mfa.reset")
	AuditPersonMfaEnrol              = key("audit.action.person.mfa.enrol")
	AuditPersonMfaRemove             = key("audit.action.person.mfa.remove")
	AuditPersonMfaCodes              = key("audit.action.person.mfa.codes")
	AuditPersonMfaPasskeyCloned      = key("audit.action.person.mfa.passkey-cloned")
	AuditStructureCreate             = key("audit.action.structure.create")
	AuditStructureUpdate             = key("audit.action.structure.update")
	AuditStructureRemove             = key("audit.action.structure.remove")
	AuditStructureExport             = key("audit.action.structure.export")
	AuditStructureReminders          = key("audit.action.structure.reminders")
	AuditServiceCreate               = key("audit.action.service.create")
	AuditServiceUpdate               = key("audit.action.service.update")
	AuditServiceRemove               = key("audit.action.service.remove")
	AuditServiceSecretRotate         = key("audit.action.service.secret.rotate")
	AuditServiceCredentialsSet       = key("audit.action.service.credentials.set")
	AuditServiceCredentialsRemove    = key("audit.action.service.credentials.remove")
	AuditKeysRotate                  = key("audit.action.keys.rotate")
	AuditJobRetry                    = key("audit.action.job.retry")
	AuditMailSent                    = key("audit.action.mail.sent")
	AuditReminderQueued              = key("audit.action.reminder.queued")
	AuditDigestQueued                = key("audit.action.digest.queued")
	AuditImportPreview               = key("audit.action.import.preview")
	AuditImportApply                 = key("audit.action.import.apply")
	AuditImportDryRun                = key("audit.action.import.dry-run")
	AuditImportRejected              = key("audit.action.import.rejected")
	AuditProvisionCreated            = key("audit.action.provision.created")
	AuditProvisionUpdated            = key("audit.action.provision.updated")
	AuditProvisionUnchanged          = key("audit.action.provision.unchanged")
	AuditProvisionLinkedUnmanaged    = key("audit.action.provision.linked-unmanaged")
	AuditProvisionDisabled           = key("audit.action.provision.disabled")
	AuditProvisionRolesRemoved       = key("audit.action.provision.roles-removed")
	AuditProvisionAbsent             = key("audit.action.provision.absent")
	AuditProvisionManualActionNeeded = key("audit.action.provision.manual-action-needed")
	AuditProvisionFailed             = key("audit.action.provision.failed")

	AuditKeyFrom               = key("audit.key.from")
	AuditKeyTo                 = key("audit.key.to")
	AuditKeyName               = key("audit.key.name")
	AuditKeyNameFrom           = key("audit.key.name_from")
	AuditKeyContact            = key("audit.key.contact")
	AuditKeyMfaPolicy          = key("audit.key.mfa_policy")
	AuditKeyEmail              = key("audit.key.email")
	AuditKeyGivenName          = key("audit.key.given_name")
	AuditKeyFamilyName         = key("audit.key.family_name")
	AuditKeyDisplayName        = key("audit.key.display_name")
	AuditKeyUsername           = key("audit.key.username")
	AuditKeyFactors            = key("audit.key.factors")
	AuditKeyGrants             = key("audit.key.grants")
	AuditKeyService            = key("audit.key.service")
	AuditKeyKind               = key("audit.key.kind")
	AuditKeyUrl                = key("audit.key.url")
	AuditKeyClientId           = key("audit.key.client_id")
	AuditKeyRequireMfa         = key("audit.key.require_mfa")
	AuditKeyCredentialsDropped = key("audit.key.credentials_dropped")
	AuditKeyAddressConfirmed   = key("audit.key.address_confirmed")
	AuditKeyTakeOver           = key("audit.key.take_over")
	AuditKeyAccounts           = key("audit.key.accounts")
	AuditKeyMembers            = key("audit.key.members")
	AuditKeyCreated            = key("audit.key.created")
	AuditKeyLink               = key("audit.key.link")
	AuditKeyPersonId           = key("audit.key.person_id")
	AuditKeyJobId              = key("audit.key.job_id")
	AuditKeyLang               = key("audit.key.lang")
	AuditKeyStructure          = key("audit.key.structure")
	AuditKeyExpiresAt          = key("audit.key.expires_at")
	AuditKeyPeriod             = key("audit.key.period")
	AuditKeyRecipients         = key("audit.key.recipients")
	AuditKeyPending            = key("audit.key.pending")
	AuditKeyImportId           = key("audit.key.import_id")
	AuditKeyFile               = key("audit.key.file")
	AuditKeyDigest             = key("audit.key.digest")
	AuditKeyMode               = key("audit.key.mode")
	AuditKeyDryRun             = key("audit.key.dry_run")
	AuditKeySkipInvalid        = key("audit.key.skip_invalid")
	AuditKeyAddress            = key("audit.key.address")
	AuditKeyStatus             = key("audit.key.status")
	AuditKeyCounts             = key("audit.key.counts")
	AuditKeyLinked             = key("audit.key.linked")
	AuditKeyRemoteId           = key("audit.key.remote_id")
	AuditKeyChanged            = key("audit.key.changed")
	AuditKeyManual             = key("audit.key.manual")
	AuditKeyError              = key("audit.key.error")
	AuditKeyVia                = key("audit.key.via")
	AuditKeyFactorId           = key("audit.key.factor_id")
	AuditKeyCounter            = key("audit.key.counter")
	AuditKeyStoredCounter      = key("audit.key.stored_counter")
	AuditKeyRows               = key("audit.key.rows")
	AuditKeyOn                 = key("audit.key.on")
	AuditKeyCreate             = key("audit.key.create")
	AuditKeyUpdate             = key("audit.key.update")
	AuditKeyUnchanged          = key("audit.key.unchanged")
	AuditKeyDisable            = key("audit.key.disable")
	AuditKeyWarning            = key("audit.key.warning")
	AuditKeyRole               = key("audit.key.role")

	AdminAuditDetail = key("admin.audit.detail")

	AuditYes = key("audit.yes")
	AuditNo  = key("audit.no")
)

var auditTexts = map[Key]Text{
	AuditAdminAdd:                    {FR: "Devient administrateur·rice de l’hébergeur", EN: "Made a hoster admin"},
	AuditAdminRemove:                 {FR: "N’est plus administrateur·rice de l’hébergeur", EN: "No longer a hoster admin"},
	AuditReferentAdd:                 {FR: "Référent·e ajouté·e", EN: "Referent added"},
	AuditReferentRemove:              {FR: "Référent·e retiré·e", EN: "Referent removed"},
	AuditPersonUpdate:                {FR: "Nom ou adresse modifiés", EN: "Name or address changed"},
	AuditPersonDisable:               {FR: "Compte désactivé", EN: "Account disabled"},
	AuditPersonEnable:                {FR: "Compte réactivé", EN: "Account enabled again"},
	AuditPersonDelete:                {FR: "Personne supprimée", EN: "Person deleted"},
	AuditPersonLink:                  {FR: "Rattachée à la structure par un import", EN: "Linked to the structure by an import"},
	AuditPersonLinkActivate:          {FR: "Lien d’activation envoyé", EN: "Activation link sent"},
	AuditPersonLinkReset:             {FR: "Lien pour un nouveau mot de passe envoyé", EN: "Password reset link sent"},
	AuditPersonActivate:              {FR: "Compte activé (mot de passe choisi)", EN: "Account activated (password chosen)"},
	AuditPersonPasswordReset:         {FR: "Nouveau mot de passe choisi (lien reçu par e-mail)", EN: "New password set (link received by email)"},
	AuditPersonPasswordChange:        {FR: "Mot de passe changé (espace personnel)", EN: "Password changed (personal space)"},
	AuditPersonGrants:                {FR: "Droits sur les services modifiés", EN: "Rights on the services changed"},
	AuditPersonMfaReset:              {FR: "Seconds facteurs retirés par l’administration", EN: "Second factors removed by the administration"},
	AuditPersonMfaEnrol:              {FR: "Second facteur ajouté", EN: "Second factor added"},
	AuditPersonMfaRemove:             {FR: "Second facteur retiré", EN: "Second factor removed"},
	AuditPersonMfaCodes:              {FR: "Nouveaux codes de secours", EN: "New backup codes"},
	AuditPersonMfaPasskeyCloned:      {FR: "Clé d’accès peut-être copiée (compteur anormal)", EN: "Passkey possibly copied (counter went back)"},
	AuditStructureCreate:             {FR: "Structure créée", EN: "Structure created"},
	AuditStructureUpdate:             {FR: "Structure modifiée", EN: "Structure changed"},
	AuditStructureRemove:             {FR: "Structure supprimée", EN: "Structure removed"},
	AuditStructureExport:             {FR: "Liste des membres exportée", EN: "Member list exported"},
	AuditStructureReminders:          {FR: "Relances automatiques activées ou désactivées", EN: "Automatic reminders turned on or off"},
	AuditServiceCreate:               {FR: "Service ajouté", EN: "Service added"},
	AuditServiceUpdate:               {FR: "Service modifié", EN: "Service changed"},
	AuditServiceRemove:               {FR: "Service supprimé", EN: "Service removed"},
	AuditServiceSecretRotate:         {FR: "Nouveau secret du client", EN: "New client secret"},
	AuditServiceCredentialsSet:       {FR: "Identifiants de provisionnement donnés", EN: "Provisioning credentials given"},
	AuditServiceCredentialsRemove:    {FR: "Identifiants de provisionnement oubliés", EN: "Provisioning credentials removed"},
	AuditKeysRotate:                  {FR: "Nouvelles clés de signature", EN: "New signing keys"},
	AuditJobRetry:                    {FR: "Tâche relancée", EN: "Task tried again"},
	AuditMailSent:                    {FR: "E-mail envoyé", EN: "Email sent"},
	AuditReminderQueued:              {FR: "Relance programmée", EN: "Reminder queued"},
	AuditDigestQueued:                {FR: "Récapitulatif programmé", EN: "Summary queued"},
	AuditImportPreview:               {FR: "Import vérifié (aperçu)", EN: "Import checked (preview)"},
	AuditImportApply:                 {FR: "Import appliqué", EN: "Import applied"},
	AuditImportDryRun:                {FR: "Import à blanc (rien n’a changé)", EN: "Dry-run import (nothing changed)"},
	AuditImportRejected:              {FR: "Import refusé", EN: "Import rejected"},
	AuditProvisionCreated:            {FR: "Compte créé dans l’application", EN: "Account created in the application"},
	AuditProvisionUpdated:            {FR: "Compte mis à jour dans l’application", EN: "Account updated in the application"},
	AuditProvisionUnchanged:          {FR: "Compte inchangé dans l’application", EN: "Account unchanged in the application"},
	AuditProvisionLinkedUnmanaged:    {FR: "Compte existant de l’application rattaché (non géré)", EN: "Existing account in the application linked (not managed)"},
	AuditProvisionDisabled:           {FR: "Compte désactivé dans l’application", EN: "Account disabled in the application"},
	AuditProvisionRolesRemoved:       {FR: "Rôles retirés dans l’application", EN: "Roles removed in the application"},
	AuditProvisionAbsent:             {FR: "Aucun compte dans l’application", EN: "No account in the application"},
	AuditProvisionManualActionNeeded: {FR: "Action à faire à la main dans l’application", EN: "Step to do by hand in the application"},
	AuditProvisionFailed:             {FR: "Échec dans l’application", EN: "Failed in the application"},

	AuditKeyFrom:               {FR: "Avant", EN: "Before"},
	AuditKeyTo:                 {FR: "Après", EN: "After"},
	AuditKeyName:               {FR: "Nom", EN: "Name"},
	AuditKeyNameFrom:           {FR: "Ancien nom", EN: "Former name"},
	AuditKeyContact:            {FR: "Contact", EN: "Contact"},
	AuditKeyMfaPolicy:          {FR: "Second facteur", EN: "Second factor policy"},
	AuditKeyEmail:              {FR: "Adresse e-mail", EN: "Email address"},
	AuditKeyGivenName:          {FR: "Prénom", EN: "Given name"},
	AuditKeyFamilyName:         {FR: "Nom de famille", EN: "Family name"},
	AuditKeyDisplayName:        {FR: "Nom affiché", EN: "Display name"},
	AuditKeyUsername:           {FR: "Identifiant", EN: "Username"},
	AuditKeyFactors:            {FR: "Seconds facteurs", EN: "Second factors"},
	AuditKeyGrants:             {FR: "Droits", EN: "Rights"},
	AuditKeyService:            {FR: "Service", EN: "Service"},
	AuditKeyKind:               {FR: "Type", EN: "Kind"},
	AuditKeyUrl:                {FR: "Adresse", EN: "Address"},
	AuditKeyClientId:           {FR: "Identifiant du client", EN: "Client id"},
	AuditKeyRequireMfa:         {FR: "Second facteur exigé", EN: "Second factor required"},
	AuditKeyCredentialsDropped: {FR: "Identifiants de l’application effacés", EN: "Application credentials dropped"},
	AuditKeyAddressConfirmed:   {FR: "Adresse confirmée par l’hébergeur", EN: "Address confirmed by the hoster"},
	AuditKeyTakeOver:           {FR: "Reprise des comptes existants", EN: "Existing accounts taken over"},
	AuditKeyAccounts:           {FR: "Comptes à provisionner", EN: "Accounts to provision"},
	AuditKeyMembers:            {FR: "Membres", EN: "Members"},
	AuditKeyCreated:            {FR: "Compte créé", EN: "Account created"},
	AuditKeyLink:               {FR: "Lien envoyé", EN: "Link sent"},
	AuditKeyPersonId:           {FR: "Personne", EN: "Person"},
	AuditKeyJobId:              {FR: "Tâche", EN: "Task"},
	AuditKeyLang:               {FR: "Langue", EN: "Language"},
	AuditKeyStructure:          {FR: "Structure", EN: "Structure"},
	AuditKeyExpiresAt:          {FR: "Expire le", EN: "Expires"},
	AuditKeyPeriod:             {FR: "Période", EN: "Period"},
	AuditKeyRecipients:         {FR: "Destinataires", EN: "Recipients"},
	AuditKeyPending:            {FR: "En attente", EN: "Pending"},
	AuditKeyImportId:           {FR: "Import", EN: "Import"},
	AuditKeyFile:               {FR: "Fichier", EN: "File"},
	AuditKeyDigest:             {FR: "Empreinte du fichier", EN: "File fingerprint"},
	AuditKeyMode:               {FR: "Mode", EN: "Mode"},
	AuditKeyDryRun:             {FR: "À blanc", EN: "Dry run"},
	AuditKeySkipInvalid:        {FR: "Lignes invalides ignorées", EN: "Invalid rows skipped"},
	AuditKeyAddress:            {FR: "Adresse comparée", EN: "Address compared"},
	AuditKeyStatus:             {FR: "Résultat", EN: "Result"},
	AuditKeyCounts:             {FR: "Lignes", EN: "Rows"},
	AuditKeyLinked:             {FR: "Rattachées", EN: "Linked"},
	AuditKeyRemoteId:           {FR: "Compte dans l’application", EN: "Account in the application"},
	AuditKeyChanged:            {FR: "Modifié", EN: "Changed"},
	AuditKeyManual:             {FR: "À faire", EN: "To do"},
	AuditKeyError:              {FR: "Erreurs", EN: "Errors"},
	AuditKeyVia:                {FR: "Par", EN: "Via"},
	AuditKeyFactorId:           {FR: "Facteur", EN: "Factor"},
	AuditKeyCounter:            {FR: "Compteur", EN: "Counter"},
	AuditKeyStoredCounter:      {FR: "Compteur connu", EN: "Known counter"},
	AuditKeyRows:               {FR: "Lignes", EN: "Rows"},
	AuditKeyOn:                 {FR: "Activées", EN: "On"},
	AuditKeyCreate:             {FR: "Créations", EN: "Created"},
	AuditKeyUpdate:             {FR: "Mises à jour", EN: "Updated"},
	AuditKeyUnchanged:          {FR: "Inchangées", EN: "Unchanged"},
	AuditKeyDisable:            {FR: "Désactivations", EN: "Disabled"},
	AuditKeyWarning:            {FR: "Avertissements", EN: "Warnings"},
	AuditKeyRole:               {FR: "Rôle", EN: "Role"},

	// One detail of an entry: its label, then its value.
	AdminAuditDetail: {FR: "%s : %s", EN: "%s: %s"},

	AuditYes: {FR: "oui", EN: "yes"},
	AuditNo:  {FR: "non", EN: "no"},
}
