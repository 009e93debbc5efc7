package i18n

// Keys of the second factor's pages (the login's second step in idp, the
// portal's section in web) that Go code names; the pages' other keys are
// named by the templates only.
var (
	SecondTitle        = key("second.title")
	SecondEnrolTitle   = key("second.enrol.title")
	SecondCodesTitle   = key("second.codes.title")
	SecondWrong        = key("second.wrong")
	SecondReplayed     = key("second.replayed")
	SecondExpired      = key("second.expired")
	SecondEnrolExpired = key("second.enrol.expired")
	SecondQRLabel      = key("second.qr")

	MFATitle           = key("mfa.title")
	MFAAdded           = key("mfa.added")
	MFARemoved         = key("mfa.removed")
	MFACodesRenewed    = key("mfa.codes.renewed")
	MFANotOffered      = key("mfa.not_offered")
	MFALastFactor      = key("mfa.last_factor")
	MFAGone            = key("mfa.gone")
	MFAReset           = key("mfa.reset.done")
	SignInAgain        = key("signin.again")
	PasskeyRefused     = key("passkey.refused")
	PasskeyTitle       = key("passkey.title")
	MFAKindTOTP        = key("mfa.kind.totp")
	MFAKindPasskey     = key("mfa.kind.passkey")
	PasskeyOr          = key("passkey.or")
	PasskeyLoginLabel  = key("passkey.login")
	PasskeyUseLabel    = key("passkey.use")
	PasskeyCreateLabel = key("passkey.create")
)

// mfaTexts are the sentences of the second step of the login and of the
// portal's second-factor pages.
var mfaTexts = map[Key]Text{
	SecondTitle: {
		FR: "Deuxième étape de connexion",
		EN: "Second login step"},
	{"second.intro"}: {
		FR: "Ouvrez l'application d'authentification de votre téléphone et tapez le code à 6 chiffres affiché pour %s.",
		EN: "Open the authenticator app on your phone and type the 6-digit code it shows for %s."},
	{"second.intro.passkey"}: {
		FR: "Confirmez que c'est bien vous (%s) avec votre clé d'accès.",
		EN: "Confirm it is you (%s) with your passkey."},
	{"second.recovery.label"}: {
		FR: "Ou un code de secours (12 caractères)",
		EN: "Or a recovery code (12 characters)"},
	{"second.code"}: {
		FR: "Code à 6 chiffres",
		EN: "6-digit code"},
	{"second.submit"}: {
		FR: "Valider",
		EN: "Confirm"},
	{"second.recovery"}: {
		FR: "Plus accès à votre téléphone ? Tapez à la place l'un de vos codes de secours (12 caractères).",
		EN: "No access to your phone? Type one of your recovery codes (12 characters) instead."},
	{"second.lost"}: {
		FR: "Ni téléphone ni code de secours ? La personne référente de votre structure peut réinitialiser cette étape ; vous en choisirez une nouvelle à la connexion suivante.",
		EN: "Neither phone nor recovery code? Your organisation's referent can reset this step; you will set up a new one at your next login."},
	SecondWrong: {
		FR: "Ce code n'est pas le bon. Vérifiez que l'heure de votre téléphone est juste, puis tapez le code affiché maintenant.",
		EN: "That code is not right. Check that your phone's clock is right, then type the code shown now."},
	SecondReplayed: {
		FR: "Ce code a déjà servi. Attendez le suivant (il change toutes les 30 secondes) et tapez-le.",
		EN: "That code was already used. Wait for the next one (it changes every 30 seconds) and type it."},
	SecondExpired: {
		FR: "Cette étape de connexion a expiré ou a déjà été terminée. Reconnectez-vous depuis le service que vous vouliez ouvrir.",
		EN: "This login step has expired or was already completed. Log in again from the service you wanted to open."},
	SecondEnrolExpired: {
		FR: "Ce code QR a expiré. Scannez le nouveau code ci-dessous, puis tapez le code affiché par l'application.",
		EN: "That QR code has expired. Scan the new code below, then type the code the app shows."},
	SecondQRLabel: {
		FR: "Code QR à scanner avec l'application d'authentification",
		EN: "QR code to scan with the authenticator app"},
	SecondEnrolTitle: {
		FR: "Protégez votre compte",
		EN: "Protect your account"},
	{"second.enrol.intro"}: {
		FR: "Pour ce compte, la connexion demande une deuxième étape : en plus du mot de passe, un code donné par une application de votre téléphone. Cela prend deux minutes, une seule fois.",
		EN: "This account needs a second login step: besides the password, a code given by an app on your phone. It takes two minutes, once."},
	{"second.enrol.app"}: {
		FR: "Installez une application d'authentification si vous n'en avez pas (par exemple Aegis, FreeOTP ou Google Authenticator).",
		EN: "Install an authenticator app if you have none (for example Aegis, FreeOTP or Google Authenticator)."},
	{"second.enrol.scan"}: {
		FR: "Dans l'application, ajoutez un compte en scannant ce code QR.",
		EN: "In the app, add an account by scanning this QR code."},
	{"second.enrol.manual"}: {
		FR: "Impossible de scanner ? Tapez cette clé dans l'application :",
		EN: "Cannot scan? Type this key in the app:"},
	{"second.enrol.type"}: {
		FR: "Tapez le code à 6 chiffres que l'application affiche.",
		EN: "Type the 6-digit code the app shows."},
	{"second.enrol.name"}: {
		FR: "Nom de cet appareil (facultatif, par exemple « Mon téléphone »)",
		EN: "Name of this device (optional, for example \"My phone\")"},
	{"second.enrol.submit"}: {
		FR: "Activer",
		EN: "Turn on"},
	{"second.enrol.later"}: {
		FR: "Vous pouvez le faire plus tard, jusqu'au %s.",
		EN: "You may do it later, until %s."},
	{"second.enrol.later.button"}: {
		FR: "Plus tard",
		EN: "Later"},
	SecondCodesTitle: {
		FR: "Vos codes de secours",
		EN: "Your recovery codes"},
	{"second.codes.intro"}: {
		FR: "Si vous perdez votre téléphone, chacun de ces codes remplace une fois le code de l'application. Notez-les sur papier ou imprimez-les, et gardez-les en lieu sûr : ils ne seront plus affichés.",
		EN: "If you lose your phone, each of these codes replaces the app's code once. Write them down or print them, and keep them safe: they will not be shown again."},
	{"second.codes.continue"}: {
		FR: "J'ai noté mes codes, continuer",
		EN: "I have noted my codes, continue"},
	{"second.done"}: {
		FR: "La deuxième étape est activée.",
		EN: "The second step is on."},

	PasskeyRefused: {
		FR: "Cette clé d'accès n'a pas été acceptée (elle n'est pas enregistrée ici, ou la demande a expiré). Réessayez, ou utilisez une autre méthode.",
		EN: "That passkey was not accepted (it is not registered here, or the request expired). Try again, or use another way."},
	{"passkey.failed"}: {
		FR: "La clé d'accès n'a pas répondu. Réessayez, ou utilisez une autre méthode.",
		EN: "The passkey did not answer. Try again, or use another way."},
	{"passkey.name"}: {
		FR: "Nom de cette clé (facultatif, par exemple « Ordinateur du bureau »)",
		EN: "Name of this key (optional, for example \"Office computer\")"},
	{"passkey.login"}: {
		FR: "Se connecter avec une clé d'accès",
		EN: "Log in with a passkey"},
	{"passkey.use"}: {
		FR: "Utiliser ma clé d'accès",
		EN: "Use my passkey"},
	{"passkey.create"}: {
		FR: "Créer une clé d'accès",
		EN: "Create a passkey"},
	{"passkey.or"}: {
		FR: "Ou, si votre téléphone ou votre ordinateur le permet, une clé d'accès (empreinte, visage ou code de l'appareil) :",
		EN: "Or, if your phone or computer can, a passkey (fingerprint, face or device PIN):"},
	{"mfa.add.passkey"}: {
		FR: "Ajouter une clé d'accès",
		EN: "Add a passkey"},
	{"mfa.kind.passkey"}: {
		FR: "clé d'accès",
		EN: "passkey"},
	{"mfa.kind.totp"}: {
		FR: "application d'authentification",
		EN: "authenticator app"},
	PasskeyTitle: {
		FR: "Ajouter une clé d'accès",
		EN: "Add a passkey"},
	{"passkey.noscript"}: {
		FR: "Les clés d'accès demandent JavaScript dans le navigateur. Sans lui, ajoutez plutôt une application d'authentification.",
		EN: "Passkeys need JavaScript in the browser. Without it, add an authenticator app instead."},
	{"passkey.intro"}: {
		FR: "Une clé d'accès remplace le code de l'application : votre téléphone ou votre ordinateur vous reconnaît (empreinte, visage ou code de l'appareil). Elle ne marche que sur ce site.",
		EN: "A passkey replaces the app's code: your phone or computer recognises you (fingerprint, face or device PIN). It only works on this site."},
	SignInAgain: {
		FR: "Pour modifier votre deuxième étape de connexion, confirmez d'abord que c'est bien vous : mot de passe, puis code ou clé d'accès.",
		EN: "To change your second login step, first confirm it is you: password, then code or passkey."},
	MFATitle: {
		FR: "Deuxième étape de connexion",
		EN: "Second login step"},
	{"mfa.intro.on"}: {
		FR: "À chaque connexion, après le mot de passe, un code de votre application d'authentification est demandé.",
		EN: "At every login, after the password, a code from your authenticator app is asked."},
	{"mfa.intro.off"}: {
		FR: "Protégez votre compte : en plus du mot de passe, un code donné par une application de votre téléphone.",
		EN: "Protect your account: besides the password, a code given by an app on your phone."},
	{"mfa.required"}: {
		FR: "Votre structure demande cette deuxième étape pour votre compte.",
		EN: "Your organisation requires this second step for your account."},
	{"mfa.factor.added"}: {
		FR: "ajoutée le %s",
		EN: "added on %s"},
	{"mfa.factor.used"}: {
		FR: "dernière utilisation le %s",
		EN: "last used on %s"},
	{"mfa.remove"}: {
		FR: "Retirer « %s »",
		EN: "Remove \"%s\""},
	{"mfa.add"}: {
		FR: "Ajouter une application d'authentification",
		EN: "Add an authenticator app"},
	{"mfa.codes.left"}: {
		FR: "Codes de secours encore utilisables : %d sur 10.",
		EN: "Recovery codes still usable: %d of 10."},
	{"mfa.codes.renew"}: {
		FR: "Créer de nouveaux codes de secours (les anciens ne marcheront plus)",
		EN: "Make new recovery codes (the old ones will stop working)"},
	{"mfa.back"}: {
		FR: "Revenir à mon compte sans rien changer",
		EN: "Back to my account without changing anything"},
	MFAAdded: {
		FR: "L'application d'authentification est ajoutée.",
		EN: "The authenticator app was added."},
	MFARemoved: {
		FR: "L'application d'authentification est retirée.",
		EN: "The authenticator app was removed."},
	MFACodesRenewed: {
		FR: "Voici vos nouveaux codes de secours. Les anciens ne marchent plus.",
		EN: "Here are your new recovery codes. The old ones no longer work."},
	MFANotOffered: {
		FR: "La deuxième étape de connexion n'est pas proposée pour votre compte.",
		EN: "The second login step is not offered for your account."},
	MFAReset: {
		FR: "La deuxième étape de connexion est réinitialisée ; la personne a été prévenue par email.",
		EN: "The second login step was reset; the person was told by email."},
	{"admin.mfa.policy"}: {
		FR: "Deuxième étape de connexion",
		EN: "Second login step"},
	{"admin.mfa.policy.default"}: {
		FR: "Par défaut : proposée aux membres, obligatoire pour les référents",
		EN: "Default: offered to members, required of referents"},
	{"admin.mfa.policy.off"}: {
		FR: "Non proposée",
		EN: "Not offered"},
	{"admin.mfa.policy.offered"}: {
		FR: "Proposée à tous",
		EN: "Offered to everyone"},
	{"admin.mfa.policy.required"}: {
		FR: "Obligatoire pour tous",
		EN: "Required of everyone"},
	{"admin.mfa.policy.hint"}: {
		FR: "Une personne qui doit l'activer y est guidée à sa connexion, avec un délai pour le faire plus tard.",
		EN: "Someone who must turn it on is walked through it at login, with some time to do it later."},
	{"admin.mfa.count"}: {
		FR: "Deuxième étape de connexion : %d moyen(s) enregistré(s) (application ou clé d'accès).",
		EN: "Second login step: %d way(s) set up (app or passkey)."},
	{"admin.mfa.none"}: {
		FR: "Pas de deuxième étape de connexion enregistrée.",
		EN: "No second login step set up."},
	{"admin.service.require_mfa"}: {
		FR: "Exiger la deuxième étape de connexion pour ce service",
		EN: "Require the second login step for this service"},
	{"admin.service.require_mfa.hint"}: {
		FR: "Le mot de passe seul ne suffira plus pour ce service ; une personne sans deuxième étape sera guidée pour en créer une.",
		EN: "A password alone will no longer do for this service; someone without a second step will be walked through setting one up."},
	{"admin.mfa.reset"}: {
		FR: "Réinitialiser la deuxième étape de connexion",
		EN: "Reset the second login step"},
	{"admin.mfa.reset.hint"}: {
		FR: "Si la personne a perdu son téléphone et ses codes de secours : son application d'authentification est retirée, ses sessions sont fermées, et elle est prévenue par email.",
		EN: "When the person lost their phone and recovery codes: their authenticator app is removed, their sessions are closed, and they are told by email."},
	MFAGone: {
		FR: "Ce moyen de connexion n'est plus enregistré pour votre compte : il a sans doute déjà été retiré. Revenez à votre compte pour voir ceux qui restent.",
		EN: "This way of logging in is no longer registered for your account: it was probably removed already. Go back to your account to see the ones left."},
	MFALastFactor: {
		FR: "Votre structure demande une deuxième étape : ajoutez d'abord une autre application avant de retirer la dernière.",
		EN: "Your organisation requires a second step: add another app before you remove the last one."},
}
