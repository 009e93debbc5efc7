package i18n

// Keys of the password policy's refusals (package internal/password).
var (
	PasswordTooShort = key("password.too_short")
	PasswordTooLong  = key("password.too_long")
	PasswordInvalid  = key("password.invalid")
	PasswordCommon   = key("password.common")
	PasswordPersonal = key("password.personal")
	PasswordWeak     = key("password.weak")
)

// passwordTexts say why a password was refused, and how to choose a better
// one.
var passwordTexts = map[Key]Text{
	PasswordTooShort: {
		FR: "Ce mot de passe est trop court : il faut au moins %d caractères. Une petite phrase de quelques mots est facile à retenir et difficile à deviner.",
		EN: "This password is too short: it needs at least %d characters. A short sentence of a few words is easy to remember and hard to guess."},
	PasswordTooLong: {
		FR: "Ce mot de passe est trop long : %d caractères au plus.",
		EN: "This password is too long: %d characters at most."},
	PasswordInvalid: {
		FR: "Ce mot de passe contient des caractères invalides. Retapez-le, sans le copier d'un document.",
		EN: "This password contains invalid characters. Type it again rather than pasting it from a document."},
	PasswordCommon: {
		FR: "Ce mot de passe fait partie des plus utilisés : il serait deviné en quelques secondes. Choisissez plutôt une phrase de quelques mots que vous seul·e connaissez.",
		EN: "This password is one of the most common ones: it would be guessed in seconds. Choose a sentence of a few words that only you know instead."},
	PasswordPersonal: {
		FR: "Ce mot de passe ressemble trop à votre nom, à votre adresse e-mail, à votre identifiant ou au nom de votre structure. Choisissez autre chose, par exemple une phrase de quelques mots.",
		EN: "This password is too close to your name, email address, username or organisation's name. Choose something else, for example a sentence of a few words."},
	PasswordWeak: {
		FR: "Ce mot de passe serait trop facile à deviner. Ajoutez quelques mots, ou choisissez une phrase plus longue et moins prévisible.",
		EN: "This password would be too easy to guess. Add a few words, or choose a longer and less predictable sentence."},
}
