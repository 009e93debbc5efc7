package web

import (
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// Languages sesame's pages are written in; the first is the default.
var Languages = []string{"fr", "en"}

// DefaultLanguage is used when nothing says otherwise.
const DefaultLanguage = "fr"

// LangCookie is the cookie that remembers the language chosen with the
// switch (?lang=en).
const LangCookie = "sesame_lang"

var langMatcher = language.NewMatcher([]language.Tag{language.French, language.English})

// supported reports whether lang is one of Languages.
func supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Lang picks the language of a response: the lang query parameter, then the
// LangCookie cookie, then Accept-Language, then French.
func Lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); supported(l) {
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil && supported(c.Value) {
		return c.Value
	}
	if h := r.Header.Get("Accept-Language"); h != "" {
		tag, _, conf := langMatcher.Match(parseAccept(h)...)
		if conf != language.No {
			base, _ := tag.Base()
			if supported(base.String()) {
				return base.String()
			}
		}
	}
	return DefaultLanguage
}

func parseAccept(h string) []language.Tag {
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil {
		return nil
	}
	return tags
}

// rememberLang sets the language cookie when the request chose a language
// with ?lang=. secure says whether the cookie is limited to https.
func rememberLang(w http.ResponseWriter, r *http.Request, secure bool) {
	l := r.URL.Query().Get("lang")
	if !supported(l) {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// T returns the message key in lang, formatted with args when there are
// any. A key missing from the catalogue gives a visible "[key]" (and the
// catalogue test fails), never an empty string.
func T(lang, key string, args ...any) string {
	cat, ok := catalog[lang]
	if !ok {
		cat = catalog[DefaultLanguage]
	}
	s, ok := cat[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// minutes renders a wait in whole minutes (at least one) in lang.
func minutes(lang string, n int) string {
	if n < 1 {
		n = 1
	}
	if n == 1 {
		return T(lang, "unit.minute")
	}
	return T(lang, "unit.minutes", n)
}

// catalog holds every sentence shown on a page, per language. French is
// the reference; every key exists in both (a test checks it, and that every
// key a template uses exists).
var catalog = map[string]map[string]string{
	"fr": {
		"site.name":          "Sesame",
		"site.tagline":       "Vos accès aux services de votre structure",
		"lang.switch":        "English",
		"lang.switch.label":  "Read this page in English",
		"lang.other":         "en",
		"skip":               "Aller au contenu",
		"footer":             "Sesame ne vous demandera jamais votre mot de passe par e-mail.",
		"unit.minute":        "une minute",
		"unit.minutes":       "%d minutes",
		"field.password":     "Nouveau mot de passe",
		"field.confirm":      "Confirmez le mot de passe",
		"field.identifier":   "Adresse e-mail ou identifiant",
		"field.email":        "Adresse e-mail",
		"rules.title":        "Choisir un bon mot de passe",
		"rules.length":       "Au moins %d caractères. Il n'y a pas de maximum utile : plus c'est long, mieux c'est.",
		"rules.phrase":       "Le plus simple : une petite phrase de quelques mots que vous seul·e connaissez, par exemple « trois girafes mangent du gratin ».",
		"rules.personal":     "Évitez votre nom, votre identifiant, votre adresse e-mail, le nom de votre structure et les mots de passe très courants.",
		"rules.symbols":      "Pas besoin de chiffres ou de symboles obligatoires, et les espaces et accents sont permis.",
		"rules.unique":       "N'utilisez pas un mot de passe qui vous sert déjà ailleurs.",
		"error.mismatch":     "Les deux mots de passe ne sont pas identiques. Retapez-les.",
		"error.required":     "Ce champ est obligatoire.",
		"error.form":         "Le formulaire contient une erreur, voir ci-dessous.",
		"activate.title":     "Activer votre compte",
		"activate.intro":     "Bonjour %s, votre compte a été créé. Il ne reste qu'à choisir votre mot de passe.",
		"activate.who":       "Votre compte",
		"who.name":           "Nom",
		"who.username":       "Identifiant",
		"who.email":          "Adresse e-mail",
		"who.structures":     "Structure",
		"activate.services":  "Ce compte vous donne accès à",
		"activate.noservice": "Aucun service ne vous est encore ouvert ; votre structure pourra vous en donner l'accès plus tard.",
		"role":               "rôle : %s",
		"activate.submit":    "Activer mon compte",
		"activate.done":      "Votre compte est activé",
		"done.intro":         "Votre mot de passe est enregistré. Connectez-vous à vos services avec votre identifiant %s et ce mot de passe.",
		"done.services":      "Vos services",
		"done.noservice":     "Aucun service ne vous est encore ouvert. Votre structure vous préviendra par e-mail quand ce sera le cas.",
		"done.mail":          "Un e-mail de confirmation vous a été envoyé.",
		"reset.title":        "Choisir un nouveau mot de passe",
		"reset.intro":        "Bonjour %s, choisissez votre nouveau mot de passe. Vous serez ensuite déconnecté·e de vos autres appareils.",
		"reset.submit":       "Enregistrer le mot de passe",
		"reset.done":         "Votre mot de passe a été changé",
		"reset.done.intro":   "Votre nouveau mot de passe est enregistré, et vos autres sessions ont été fermées. Connectez-vous avec votre identifiant %s.",
		"invalid.title":      "Ce lien ne fonctionne plus",
		"invalid.expired":    "Ce lien a expiré : pour votre sécurité, les liens envoyés par e-mail ne sont valables qu'un temps limité.",
		"invalid.used":       "Ce lien a déjà été utilisé : chaque lien ne sert qu'une seule fois.",
		"invalid.unknown":    "Ce lien n'est pas valide. Il a peut-être été remplacé par un lien plus récent, ou mal copié.",
		"invalid.next":       "Pas d'inquiétude : indiquez votre adresse e-mail et nous vous enverrons un nouveau lien.",
		"invalid.active":     "Si votre compte est déjà activé, vous pouvez vous connecter directement à vos services.",
		"resend.title":       "Recevoir un nouveau lien",
		"resend.intro":       "Indiquez l'adresse e-mail ou l'identifiant de votre compte. Nous enverrons un nouveau lien à l'adresse enregistrée.",
		"resend.submit":      "Envoyer un nouveau lien",
		"forgot.title":       "Mot de passe oublié",
		"forgot.intro":       "Indiquez l'adresse e-mail ou l'identifiant de votre compte. Nous vous enverrons un lien pour choisir un nouveau mot de passe.",
		"forgot.submit":      "Envoyer le lien",
		"forgot.link":        "Mot de passe oublié ?",
		"sent.title":         "Vérifiez votre messagerie",
		"sent.body":          "Si un compte correspond à ce que vous avez indiqué, un e-mail contenant un lien vient d'être envoyé à l'adresse enregistrée pour ce compte.",
		"sent.spam":          "Il peut mettre quelques minutes à arriver. Pensez à regarder dans les courriers indésirables.",
		"sent.none":          "Rien reçu ? Vérifiez l'adresse, réessayez dans quelques minutes, ou contactez la personne référente de votre structure.",
		"sent.again":         "Faire une nouvelle demande",
		"error.title":        "Une erreur est survenue",
		"error.invalid":      "La demande n'est pas valide. Revenez à la page précédente et réessayez.",
		"error.not_found":    "Cette page n'existe pas.",
		"error.conflict":     "Cette action entre en conflit avec une autre. Réessayez.",
		"error.forbidden":    "Cette demande a été refusée. Si vous avez utilisé un formulaire d'un autre site, revenez sur cette page et réessayez.",
		"error.too_large":    "Le formulaire envoyé est trop volumineux. Revenez à la page précédente et réessayez.",
		"error.too_many":     "Trop de tentatives. Réessayez dans %s.",
		"error.too_many.t":   "Trop de tentatives",
		"error.not_found.t":  "Page introuvable",
		"error.unavailable":  "Le service est momentanément surchargé. Réessayez dans quelques instants.",
		"error.internal":     "Un problème est survenu de notre côté. Réessayez dans quelques instants ; si cela continue, contactez votre hébergeur.",
		"error.next":         "Retour à l'accueil du mot de passe oublié",
		"nav.forgot":         "Mot de passe oublié",
		"nav.home":           "Accueil de sesame",
		"home.title":         "Vos accès",
		"home.intro":         "Sesame est le compte unique qui vous ouvre les services de votre structure : fichiers et agenda (Nextcloud), site web (WordPress), adhésions (Paheko)…",
		"home.how":           "Pour vous connecter, ouvrez le service que vous voulez utiliser et choisissez la connexion par sesame : vous arriverez ici pour saisir votre identifiant et votre mot de passe, puis vous repartirez vers le service.",
		"home.forgot":        "Vous avez oublié votre mot de passe ?",
		"home.resend":        "Votre lien d'invitation a expiré, ou vous ne le retrouvez plus ?",
		"home.resend.link":   "Recevoir un nouveau lien d'activation",
		"home.help":          "Une question ? La personne référente de votre structure, ou votre hébergeur, peut vous aider.",
	},
	"en": {
		"site.name":          "Sesame",
		"site.tagline":       "Your access to your organisation's services",
		"lang.switch":        "Français",
		"lang.switch.label":  "Lire cette page en français",
		"lang.other":         "fr",
		"skip":               "Skip to content",
		"footer":             "Sesame will never ask for your password by email.",
		"unit.minute":        "one minute",
		"unit.minutes":       "%d minutes",
		"field.password":     "New password",
		"field.confirm":      "Confirm the password",
		"field.identifier":   "Email address or username",
		"field.email":        "Email address",
		"rules.title":        "Choosing a good password",
		"rules.length":       "At least %d characters. There is no useful maximum: longer is better.",
		"rules.phrase":       "The easiest: a short sentence of a few words that only you know, for example “three giraffes eat gratin”.",
		"rules.personal":     "Avoid your name, username, email address, your organisation's name, and very common passwords.",
		"rules.symbols":      "No digits or symbols are required, and spaces and accents are allowed.",
		"rules.unique":       "Do not reuse a password you already use elsewhere.",
		"error.mismatch":     "The two passwords are not the same. Type them again.",
		"error.required":     "This field is required.",
		"error.form":         "The form has an error, see below.",
		"activate.title":     "Activate your account",
		"activate.intro":     "Hello %s, your account has been created. All that is left is to choose your password.",
		"activate.who":       "Your account",
		"who.name":           "Name",
		"who.username":       "Username",
		"who.email":          "Email address",
		"who.structures":     "Organisation",
		"activate.services":  "This account gives you access to",
		"activate.noservice": "No service is open to you yet; your organisation can give you access later.",
		"role":               "role: %s",
		"activate.submit":    "Activate my account",
		"activate.done":      "Your account is active",
		"done.intro":         "Your password is saved. Log in to your services with your username %s and this password.",
		"done.services":      "Your services",
		"done.noservice":     "No service is open to you yet. Your organisation will tell you by email when one is.",
		"done.mail":          "A confirmation email has been sent to you.",
		"reset.title":        "Choose a new password",
		"reset.intro":        "Hello %s, choose your new password. You will then be logged out of your other devices.",
		"reset.submit":       "Save the password",
		"reset.done":         "Your password has been changed",
		"reset.done.intro":   "Your new password is saved, and your other sessions have been closed. Log in with your username %s.",
		"invalid.title":      "This link no longer works",
		"invalid.expired":    "This link has expired: for your safety, links sent by email are only valid for a limited time.",
		"invalid.used":       "This link has already been used: each link works only once.",
		"invalid.unknown":    "This link is not valid. It may have been replaced by a newer link, or copied incompletely.",
		"invalid.next":       "Don't worry: enter your email address and we will send you a new link.",
		"invalid.active":     "If your account is already active, you can log in to your services directly.",
		"resend.title":       "Get a new link",
		"resend.intro":       "Enter your account's email address or username. We will send a new link to the address on file.",
		"resend.submit":      "Send a new link",
		"forgot.title":       "Forgotten password",
		"forgot.intro":       "Enter your account's email address or username. We will send you a link to choose a new password.",
		"forgot.submit":      "Send the link",
		"forgot.link":        "Forgot your password?",
		"sent.title":         "Check your inbox",
		"sent.body":          "If an account matches what you entered, an email with a link has just been sent to the address on file for that account.",
		"sent.spam":          "It may take a few minutes to arrive. Remember to look in your spam folder.",
		"sent.none":          "Nothing arrived? Check the address, try again in a few minutes, or contact your organisation's referent.",
		"sent.again":         "Make a new request",
		"error.title":        "Something went wrong",
		"error.invalid":      "The request is not valid. Go back to the previous page and try again.",
		"error.not_found":    "This page does not exist.",
		"error.conflict":     "This action conflicts with another one. Try again.",
		"error.forbidden":    "This request was refused. If you used a form from another site, come back to this page and try again.",
		"error.too_large":    "The form sent is too large. Go back to the previous page and try again.",
		"error.too_many":     "Too many attempts. Try again in %s.",
		"error.too_many.t":   "Too many attempts",
		"error.not_found.t":  "Page not found",
		"error.unavailable":  "The service is busy right now. Try again in a moment.",
		"error.internal":     "Something went wrong on our side. Try again in a moment; if it keeps happening, contact your hoster.",
		"error.next":         "Back to the forgotten password page",
		"nav.forgot":         "Forgotten password",
		"nav.home":           "Sesame home",
		"home.title":         "Your access",
		"home.intro":         "Sesame is the one account that opens your organisation's services: files and calendar (Nextcloud), website (WordPress), membership (Paheko)…",
		"home.how":           "To log in, open the service you want to use and choose to log in with sesame: you will come here to enter your username and password, then go back to the service.",
		"home.forgot":        "Forgot your password?",
		"home.resend":        "Has your invitation link expired, or can you not find it?",
		"home.resend.link":   "Get a new activation link",
		"home.help":          "Any question? Your organisation's referent, or your hoster, can help.",
	},
}

// trimField normalises a form field: surrounding spaces removed.
func trimField(s string) string { return strings.TrimSpace(s) }
