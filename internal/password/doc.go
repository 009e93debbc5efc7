// Package password owns how sesame stores and judges passwords.
//
// Hashing is argon2id (golang.org/x/crypto/argon2) with the parameters of
// DefaultParams (m=19 MiB, t=2, p=1), written as a PHC string
// ("$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH", unpadded standard base64), the
// format OpenLDAP's argon2 module reads after its "{ARGON2}" scheme prefix, so
// the store and the directory hold the same value. A Hasher bounds how many
// hashes run at once (each one holds m KiB of memory, allocated only once
// the slot is held). In front of the slots a short queue (as many callers as
// slots, DefaultMaxWait each at most) absorbs bursts; a caller that finds the
// queue full gets ErrBusy at once, one that queued in vain after the wait
// bound, and answers 429 or 503 rather than letting latency and memory grow
// with the load.
//
// The policy (Policy.Check) has no composition rules. It asks for a minimum
// length counted in runes, refuses a password that is one of the common
// passwords or French words embedded from the @zxcvbn-ts/language-common and
// @zxcvbn-ts/language-fr packages (also after stripping digits and symbols at
// the ends and undoing common leet substitutions), and asks zxcvbn for a
// minimum score, with the person's names, email, username and structure as
// its own dictionary. Each refusal is a Problem carrying a plain, helpful
// sentence in French and in English. Passwords are never truncated: long
// passphrases of any characters, up to MaxLength runes, are hashed whole.
//
// The policy costs nothing until it is used: the embedded lists and zxcvbn's
// dictionaries (together about 9 MiB of live heap, some 45 ms of work) are
// built by the first Check, not when the program starts. zxcvbn is a copy of
// github.com/trustelem/zxcvbn in internal/third_party/zxcvbn for that reason.
package password
