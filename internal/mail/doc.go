// Package mail owns how sesame hands email to the outside world, and nothing
// about what the emails say.
//
// A Sender delivers Messages. The SMTP sender (NewSMTP, built on
// github.com/wneessen/go-mail) speaks STARTTLS, implicit TLS, or plain SMTP
// to a loopback relay only; authenticates when given a username; and keeps
// its connections open between calls, so a burst of jobs (an import of two
// hundred people) reuses one connection rather than dialling two hundred
// times. The file sender (NewFileSender) is the embedded default: it writes
// each message as an .eml file and logs the file's path (never the message's
// links, which open accounts), so sesame runs without any SMTP server and a
// newcomer can still open the activation links from the files.
//
// Every message is multipart/alternative (text, then HTML), carries the
// Message-ID it was given (stable per job, so a retry is recognisable),
// a Date and "Auto-Submitted: auto-generated". Header values are stripped of
// line breaks, so no value can add a header.
//
// Errors say whether trying again later may help: IsPermanent is true when
// the server refused this very message (a 5xx answer to RCPT TO or to the
// message data) or the message cannot be built (an invalid address), and
// false for everything a retry may cure (connection refused, timeouts, 4xx
// answers, and server-wide refusals such as a failed login, which an
// administrator fixes without the message being lost). MaybeDelivered is
// true when the message's data went out to its end but the server's answer
// was lost (the connection dropped or timed out after the final "."): the
// server may hold the message, so a retry may deliver it twice.
package mail
