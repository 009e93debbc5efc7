package i18n

// Keys of the account pages (package web) that Go code names; the pages'
// other keys are named by the templates only.
var (
	ActivateTitle      = key("activate.title")
	ResetTitle         = key("reset.title")
	ActivateDone       = key("activate.done")
	ResetDone          = key("reset.done")
	InvalidTitle       = key("invalid.title")
	InvalidExpired     = key("invalid.expired")
	InvalidUsed        = key("invalid.used")
	InvalidUnknown     = key("invalid.unknown")
	ForgotTitle        = key("forgot.title")
	ForgotIntro        = key("forgot.intro")
	ForgotSubmit       = key("forgot.submit")
	ResendTitle        = key("resend.title")
	ResendIntro        = key("resend.intro")
	ResendSubmit       = key("resend.submit")
	SentTitle          = key("sent.title")
	HomeTitle          = key("home.title")
	ErrorTitle         = key("error.title")
	ErrorTooManyTitle  = key("error.too_many.t")
	ErrorNotFoundTitle = key("error.not_found.t")
	ErrorInvalid       = key("error.invalid")
	ErrorNotFound      = key("error.not_found")
	ErrorConflict      = key("error.conflict")
	ErrorForbidden     = key("error.forbidden")
	ErrorTooLarge      = key("error.too_large")
	ErrorTooMany       = key("error.too_many")
	ErrorUnavailable   = key("error.unavailable")
	ErrorInternal      = key("error.internal")
	ErrorRequired      = key("error.required")
	ErrorMismatch      = key("error.mismatch")
	UnitMinute         = key("unit.minute")
	UnitMinutes        = key("unit.minutes")
	ErrorURITooLong    = key("error.uri_too_long")
	ErrorTooLargeTitle = key("error.too_large.t")
	LangName           = key("lang.name")
)

// pageTexts are the sentences of the layout, the account pages and the
// error page.
var pageTexts = map[Key]Text{
	LangName: {
		FR: "Français",
		EN: "English"},
	{"lang.nav"}: {
		FR: "Langue de la page",
		EN: "Page language"},
	{"onward.back"}: {
		FR: "Retour à %s",
		EN: "Back to %s"},
	{"onward.switch"}: {
		FR: "Se connecter avec un autre compte",
		EN: "Log in with another account"},
	{"onward.contact"}: {
		FR: "Une question ? Écrivez à la personne référente de votre structure :",
		EN: "A question? Write to your organisation's referent:"},
	{"onward.nav"}: {
		FR: "Et maintenant ?",
		EN: "What next?"},
	ErrorURITooLong: {
		FR: "L'adresse demandée est trop longue : la demande n'a pas été traitée. Revenez à la page précédente et réessayez.",
		EN: "The address asked for is too long: the request was not processed. Go back to the previous page and try again."},
	ErrorTooLargeTitle: {
		FR: "Requête trop volumineuse",
		EN: "Request too large"},
	{"site.name"}: {
		FR: "Sesame",
		EN: "Sesame"},
	{"skip"}: {
		FR: "Aller au contenu",
		EN: "Skip to content"},
	{"footer"}: {
		FR: "Sesame ne vous demandera jamais votre mot de passe par e-mail.",
		EN: "Sesame will never ask for your password by email."},
	UnitMinute: {
		FR: "une minute",
		EN: "one minute"},
	UnitMinutes: {
		FR: "%d minutes",
		EN: "%d minutes"},
	{"field.password"}: {
		FR: "Nouveau mot de passe",
		EN: "New password"},
	{"field.confirm"}: {
		FR: "Confirmez le mot de passe",
		EN: "Confirm the password"},
	{"field.identifier"}: {
		FR: "Adresse e-mail ou identifiant",
		EN: "Email address or username"},
	{"rules.title"}: {
		FR: "Choisir un bon mot de passe",
		EN: "Choosing a good password"},
	{"rules.length"}: {
		FR: "Au moins %d caractères. Il n'y a pas de maximum utile : plus c'est long, mieux c'est.",
		EN: "At least %d characters. There is no useful maximum: longer is better."},
	{"rules.phrase"}: {
		FR: "Le plus simple : une petite phrase de quelques mots que vous seul·e connaissez, par exemple « trois girafes mangent du gratin ».",
		EN: "The easiest: a short sentence of a few words that only you know, for example “three giraffes eat gratin”."},
	{"rules.personal"}: {
		FR: "Évitez votre nom, votre identifiant, votre adresse e-mail, le nom de votre structure et les mots de passe très courants.",
		EN: "Avoid your name, username, email address, your organisation's name, and very common passwords."},
	{"rules.symbols"}: {
		FR: "Pas besoin de chiffres ou de symboles obligatoires, et les espaces et accents sont permis.",
		EN: "No digits or symbols are required, and spaces and accents are allowed."},
	{"rules.unique"}: {
		FR: "N'utilisez pas un mot de passe qui vous sert déjà ailleurs.",
		EN: "Do not reuse a password you already use elsewhere."},
	ErrorMismatch: {
		FR: "Les deux mots de passe ne sont pas identiques. Retapez-les.",
		EN: "The two passwords are not the same. Type them again."},
	ErrorRequired: {
		FR: "Ce champ est obligatoire.",
		EN: "This field is required."},
	{"error.form"}: {
		FR: "Le formulaire contient une erreur, voir ci-dessous.",
		EN: "The form has an error, see below."},
	ActivateTitle: {
		FR: "Activer votre compte",
		EN: "Activate your account"},
	{"activate.intro"}: {
		FR: "Bonjour %s, votre compte a été créé. Il ne reste qu'à choisir votre mot de passe.",
		EN: "Hello %s, your account has been created. All that is left is to choose your password."},
	{"activate.who"}: {
		FR: "Votre compte",
		EN: "Your account"},
	{"who.name"}: {
		FR: "Nom",
		EN: "Name"},
	{"who.username"}: {
		FR: "Identifiant",
		EN: "Username"},
	{"who.email"}: {
		FR: "Adresse e-mail",
		EN: "Email address"},
	{"who.structures"}: {
		FR: "Structure",
		EN: "Organisation"},
	{"activate.services"}: {
		FR: "Ce compte vous donne accès à",
		EN: "This account gives you access to"},
	{"activate.noservice"}: {
		FR: "Aucun service ne vous est encore ouvert ; votre structure pourra vous en donner l'accès plus tard.",
		EN: "No service is open to you yet; your organisation can give you access later."},
	{"role"}: {
		FR: "rôle : %s",
		EN: "role: %s"},
	{"activate.submit"}: {
		FR: "Activer mon compte",
		EN: "Activate my account"},
	ActivateDone: {
		FR: "Votre compte est activé",
		EN: "Your account is active"},
	{"done.intro"}: {
		FR: "Votre mot de passe est enregistré. Connectez-vous à vos services avec votre identifiant %s et ce mot de passe.",
		EN: "Your password is saved. Log in to your services with your username %s and this password."},
	{"done.services"}: {
		FR: "Vos services",
		EN: "Your services"},
	{"done.noservice"}: {
		FR: "Aucun service ne vous est encore ouvert. Votre structure vous préviendra par e-mail quand ce sera le cas.",
		EN: "No service is open to you yet. Your organisation will tell you by email when one is."},
	{"done.mail"}: {
		FR: "Un e-mail de confirmation vous a été envoyé.",
		EN: "A confirmation email has been sent to you."},
	ResetTitle: {
		FR: "Choisir un nouveau mot de passe",
		EN: "Choose a new password"},
	{"reset.intro"}: {
		FR: "Bonjour %s, choisissez votre nouveau mot de passe. Vous serez ensuite déconnecté·e de vos autres appareils.",
		EN: "Hello %s, choose your new password. You will then be logged out of your other devices."},
	{"reset.submit"}: {
		FR: "Enregistrer le mot de passe",
		EN: "Save the password"},
	ResetDone: {
		FR: "Votre mot de passe a été changé",
		EN: "Your password has been changed"},
	{"reset.done.intro"}: {
		FR: "Votre nouveau mot de passe est enregistré, et vos autres sessions ont été fermées. Connectez-vous avec votre identifiant %s.",
		EN: "Your new password is saved, and your other sessions have been closed. Log in with your username %s."},
	InvalidTitle: {
		FR: "Ce lien ne fonctionne plus",
		EN: "This link no longer works"},
	InvalidExpired: {
		FR: "Ce lien a expiré : pour votre sécurité, les liens envoyés par e-mail ne sont valables qu'un temps limité.",
		EN: "This link has expired: for your safety, links sent by email are only valid for a limited time."},
	InvalidUsed: {
		FR: "Ce lien a déjà été utilisé : chaque lien ne sert qu'une seule fois.",
		EN: "This link has already been used: each link works only once."},
	InvalidUnknown: {
		FR: "Ce lien n'est pas valide. Il a peut-être été remplacé par un lien plus récent, ou mal copié.",
		EN: "This link is not valid. It may have been replaced by a newer link, or copied incompletely."},
	{"invalid.next"}: {
		FR: "Pas d'inquiétude : indiquez votre adresse e-mail et nous vous enverrons un nouveau lien.",
		EN: "Don't worry: enter your email address and we will send you a new link."},
	{"invalid.active"}: {
		FR: "Si votre compte est déjà activé, vous pouvez vous connecter directement à vos services.",
		EN: "If your account is already active, you can log in to your services directly."},
	{"invalid.portal"}: {
		FR: "Voir mes services",
		EN: "See my services"},
	ResendTitle: {
		FR: "Recevoir un nouveau lien",
		EN: "Get a new link"},
	ResendIntro: {
		FR: "Indiquez l'adresse e-mail ou l'identifiant de votre compte. Nous enverrons un nouveau lien à l'adresse enregistrée.",
		EN: "Enter your account's email address or username. We will send a new link to the address on file."},
	ResendSubmit: {
		FR: "Envoyer un nouveau lien",
		EN: "Send a new link"},
	ForgotTitle: {
		FR: "Mot de passe oublié",
		EN: "Forgotten password"},
	ForgotIntro: {
		FR: "Indiquez l'adresse e-mail ou l'identifiant de votre compte. Nous vous enverrons un lien pour choisir un nouveau mot de passe.",
		EN: "Enter your account's email address or username. We will send you a link to choose a new password."},
	ForgotSubmit: {
		FR: "Envoyer le lien",
		EN: "Send the link"},
	{"forgot.link"}: {
		FR: "Mot de passe oublié ?",
		EN: "Forgot your password?"},
	SentTitle: {
		FR: "Vérifiez votre messagerie",
		EN: "Check your inbox"},
	{"sent.body"}: {
		FR: "Si un compte correspond à ce que vous avez indiqué, un e-mail contenant un lien vient d'être envoyé à l'adresse enregistrée pour ce compte.",
		EN: "If an account matches what you entered, an email with a link has just been sent to the address on file for that account."},
	{"sent.spam"}: {
		FR: "Il peut mettre quelques minutes à arriver. Pensez à regarder dans les courriers indésirables.",
		EN: "It may take a few minutes to arrive. Remember to look in your spam folder."},
	{"sent.none"}: {
		FR: "Rien reçu ? Vérifiez l'adresse, réessayez dans quelques minutes, ou contactez la personne référente de votre structure.",
		EN: "Nothing arrived? Check the address, try again in a few minutes, or contact your organisation's referent."},
	{"sent.again"}: {
		FR: "Faire une nouvelle demande",
		EN: "Make a new request"},
	ErrorTitle: {
		FR: "Une erreur est survenue",
		EN: "Something went wrong"},
	ErrorInvalid: {
		FR: "La demande n'est pas valide. Revenez à la page précédente et réessayez.",
		EN: "The request is not valid. Go back to the previous page and try again."},
	ErrorNotFound: {
		FR: "Cette page n'existe pas.",
		EN: "This page does not exist."},
	ErrorConflict: {
		FR: "Cette action entre en conflit avec une autre. Réessayez.",
		EN: "This action conflicts with another one. Try again."},
	ErrorForbidden: {
		FR: "Cette demande a été refusée. Si vous avez utilisé un formulaire d'un autre site, revenez sur cette page et réessayez.",
		EN: "This request was refused. If you used a form from another site, come back to this page and try again."},
	ErrorTooLarge: {
		FR: "Le formulaire envoyé est trop volumineux. Revenez à la page précédente et réessayez.",
		EN: "The form sent is too large. Go back to the previous page and try again."},
	ErrorTooMany: {
		FR: "Trop de tentatives. Réessayez dans %s.",
		EN: "Too many attempts. Try again in %s."},
	ErrorTooManyTitle: {
		FR: "Trop de tentatives",
		EN: "Too many attempts"},
	ErrorNotFoundTitle: {
		FR: "Page introuvable",
		EN: "Page not found"},
	ErrorUnavailable: {
		FR: "Le service est momentanément surchargé. Réessayez dans quelques instants.",
		EN: "The service is busy right now. Try again in a moment."},
	ErrorInternal: {
		FR: "Un problème est survenu de notre côté. Réessayez dans quelques instants ; si cela continue, contactez votre hébergeur.",
		EN: "Something went wrong on our side. Try again in a moment; if it keeps happening, contact your hoster."},
	{"nav.forgot"}: {
		FR: "Mot de passe oublié",
		EN: "Forgotten password"},
	{"nav.home"}: {
		FR: "Accueil de sesame",
		EN: "Sesame home"},
	HomeTitle: {
		FR: "Vos accès",
		EN: "Your access"},
	{"home.intro"}: {
		FR: "Sesame est le compte unique qui vous ouvre les services de votre structure : fichiers et agenda (Nextcloud), site web (WordPress), adhésions (Paheko)…",
		EN: "Sesame is the one account that opens your organisation's services: files and calendar (Nextcloud), website (WordPress), membership (Paheko)…"},
	{"home.how"}: {
		FR: "Pour vous connecter, ouvrez le service que vous voulez utiliser et choisissez la connexion par sesame : vous arriverez ici pour saisir votre identifiant et votre mot de passe, puis vous repartirez vers le service.",
		EN: "To log in, open the service you want to use and choose to log in with sesame: you will come here to enter your username and password, then go back to the service."},
	{"home.forgot"}: {
		FR: "Vous avez oublié votre mot de passe ?",
		EN: "Forgot your password?"},
	{"home.resend"}: {
		FR: "Votre lien d'invitation a expiré, ou vous ne le retrouvez plus ?",
		EN: "Has your invitation link expired, or can you not find it?"},
	{"home.resend.link"}: {
		FR: "Recevoir un nouveau lien d'activation",
		EN: "Get a new activation link"},
	{"home.help"}: {
		FR: "Une question ? La personne référente de votre structure, ou votre hébergeur, peut vous aider.",
		EN: "Any question? Your organisation's referent, or your hoster, can help."},
}
