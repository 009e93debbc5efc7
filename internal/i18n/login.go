package i18n

// Keys of the OpenID Connect provider's pages (package idp) that Go code
// names; the pages' other keys are named by the templates only.
var (
	LoginTitle        = key("login.title")
	LoginTitleService = key("login.title.service")
	LoginWrong        = key("login.wrong")
	LoginTooMany      = key("login.too_many")
	LoginBusy         = key("login.busy")

	NoAccessTitle  = key("noaccess.title")
	LogoutTitle    = key("logout.title")
	LoggedOutTitle = key("loggedout.title")

	LoginUnknownClientTitle = key("login.unknown_client.t")
	LoginUnknownClient      = key("login.unknown_client")
	LoginBadRedirectTitle   = key("login.bad_redirect.t")
	LoginBadRedirect        = key("login.bad_redirect")
	LoginTooManyTitle       = key("login.too_many_requests.t")
	LoginTooManyRequests    = key("login.too_many_requests")
	LoginUnavailableTitle   = key("login.unavailable.t")
	LoginUnavailable        = key("login.unavailable")
	LoginUsedTitle          = key("login.used.t")
	LoginUsed               = key("login.used")
	LoginExpiredTitle       = key("login.expired.t")
	LoginExpired            = key("login.expired")
	LoginCrossOriginTitle   = key("login.cross_origin.t")
	LoginCrossOrigin        = key("login.cross_origin")
	LoginMalformedTitle     = key("login.malformed.t")
	LoginMalformedRequest   = key("login.malformed_request")
	LoginMalformedForm      = key("login.malformed_form")
	LogoutMalformed         = key("logout.malformed")
	LogoutRefusedTitle      = key("logout.refused.t")
	LogoutForeignToken      = key("logout.foreign_token")
	LogoutOtherClient       = key("logout.other_client")
	LogoutBadRedirect       = key("logout.bad_redirect")
)

// loginTexts are the sentences of the login, no-access, logout and
// logged-out pages, and of the provider's error pages.
var loginTexts = map[Key]Text{
	LoginTitle: {
		FR: "Connexion",
		EN: "Log in"},
	LoginTitleService: {
		FR: "Connexion à %s",
		EN: "Log in to %s"},
	{"login.intro"}: {
		FR: "Avec votre compte sesame de %s : le même identifiant et le même mot de passe pour tous ses services.",
		EN: "With your sesame account of %s: the same username and password for all its services."},
	{"login.username"}: {
		FR: "Identifiant ou adresse e-mail",
		EN: "Username or email address"},
	{"login.password"}: {
		FR: "Mot de passe",
		EN: "Password"},
	{"login.submit"}: {
		FR: "Se connecter",
		EN: "Log in"},
	{"login.forgot"}: {
		FR: "Mot de passe oublié ou lien d'activation perdu ?",
		EN: "Forgot your password, or lost your activation link?"},
	LoginWrong: {
		FR: "Identifiant ou mot de passe incorrect.",
		EN: "Wrong username or password."},
	LoginTooMany: {
		FR: "Trop de tentatives, réessayez dans quelques minutes.",
		EN: "Too many attempts, try again in a few minutes."},
	LoginBusy: {
		FR: "Trop de connexions en cours, réessayez dans un instant.",
		EN: "Too many logins right now, try again in a moment."},

	NoAccessTitle: {
		FR: "Pas d'accès à ce service",
		EN: "No access to this service"},
	{"noaccess.body"}: {
		FR: "Vous n'avez pas accès au service %s de %s.",
		EN: "You have no access to the %s service of %s."},
	{"noaccess.who"}: {
		FR: "Vous êtes connecté·e avec le compte %s.",
		EN: "You are logged in with the account %s."},
	{"noaccess.ask"}: {
		FR: "Pour l'obtenir, demandez-le à la personne référente de votre structure :",
		EN: "To get it, ask your organisation's referent:"},
	{"noaccess.ask.nocontact"}: {
		FR: "Pour l'obtenir, adressez-vous à votre structure.",
		EN: "To get it, ask your organisation."},

	LogoutTitle: {
		FR: "Se déconnecter de sesame ?",
		EN: "Log out of sesame?"},
	{"logout.body"}: {
		FR: "Vous serez déconnecté·e de tous les services de votre structure ouverts avec sesame.",
		EN: "You will be logged out of every service you opened with sesame."},
	{"logout.submit"}: {
		FR: "Se déconnecter",
		EN: "Log out"},
	{"logout.stay"}: {
		FR: "Rester connecté·e et revenir à %s",
		EN: "Stay logged in and go back to %s"},
	LoggedOutTitle: {
		FR: "Vous êtes déconnecté·e",
		EN: "You are logged out"},
	{"loggedout.body"}: {
		FR: "Vous êtes maintenant déconnecté·e de sesame : pour revenir sur un service de votre structure, il faudra saisir à nouveau votre mot de passe.",
		EN: "You are now logged out of sesame: to come back to one of your organisation's services, you will type your password again."},

	LoginUnknownClientTitle: {
		FR: "Service inconnu",
		EN: "Unknown service"},
	LoginUnknownClient: {
		FR: "Ce service n'est pas enregistré auprès de sesame. Revenez sur le site d'où vous venez et réessayez.",
		EN: "This service is not registered with sesame. Go back to the site you came from and try again."},
	LoginBadRedirectTitle: {
		FR: "Adresse de retour refusée",
		EN: "Return address refused"},
	LoginBadRedirect: {
		FR: "L'adresse de retour demandée n'est pas enregistrée pour ce service.",
		EN: "The return address asked for is not registered for this service."},
	LoginTooManyTitle: {
		FR: "Trop de demandes",
		EN: "Too many requests"},
	LoginTooManyRequests: {
		FR: "Trop de demandes de connexion depuis votre adresse. Réessayez dans %s.",
		EN: "Too many login requests from your address. Try again in %s."},
	LoginUnavailableTitle: {
		FR: "Service indisponible",
		EN: "Service unavailable"},
	LoginUnavailable: {
		FR: "Sesame ne peut pas traiter votre demande pour l'instant. Réessayez dans un instant.",
		EN: "Sesame cannot handle your request right now. Try again in a moment."},
	LoginUsedTitle: {
		FR: "Demande déjà traitée",
		EN: "Request already handled"},
	LoginUsed: {
		FR: "Cette demande de connexion a déjà été utilisée. Retournez sur le service et reconnectez-vous.",
		EN: "This login request was already used. Go back to the service and log in again."},
	LoginExpiredTitle: {
		FR: "Demande expirée",
		EN: "Request expired"},
	LoginExpired: {
		FR: "Cette demande de connexion n'est plus valable. Retournez sur le service et reconnectez-vous.",
		EN: "This login request is no longer valid. Go back to the service and log in again."},
	LoginCrossOriginTitle: {
		FR: "Requête refusée",
		EN: "Request refused"},
	LoginCrossOrigin: {
		FR: "Ce formulaire de connexion a été envoyé depuis un autre site. Revenez au service et réessayez.",
		EN: "This login form was sent from another site. Go back to the service and try again."},
	LoginMalformedTitle: {
		FR: "Requête invalide",
		EN: "Invalid request"},
	LoginMalformedRequest: {
		FR: "La demande de connexion est mal formée.",
		EN: "The login request is malformed."},
	LoginMalformedForm: {
		FR: "Le formulaire de connexion est mal formé.",
		EN: "The login form is malformed."},
	LogoutMalformed: {
		FR: "La demande de déconnexion est mal formée.",
		EN: "The logout request is malformed."},
	LogoutRefusedTitle: {
		FR: "Déconnexion refusée",
		EN: "Logout refused"},
	LogoutForeignToken: {
		FR: "Sesame n'a pas reconnu cette demande de déconnexion (elle n'a pas été émise par sesame) : vous n'avez pas été déconnecté·e. Pour vous déconnecter, ouvrez l'accueil de sesame et choisissez « Me déconnecter ».",
		EN: "Sesame did not recognise this logout request (it was not issued by sesame): you have not been logged out. To log out, open the sesame home page and choose “Log out”."},
	LogoutOtherClient: {
		FR: "Cette demande de déconnexion vient d'un autre service que celui indiqué : vous n'avez pas été déconnecté·e. Pour vous déconnecter, ouvrez l'accueil de sesame et choisissez « Me déconnecter ».",
		EN: "This logout request comes from another service than the one named: you have not been logged out. To log out, open the sesame home page and choose “Log out”."},
	LogoutBadRedirect: {
		FR: "L'adresse de retour après déconnexion n'est pas enregistrée pour ce service.",
		EN: "The address to return to after logging out is not registered for this service."},
}
