// Package notify owns the emails sesame sends and the job handlers that
// send them: activation, password reset, "you now have access to ...",
// "your password was changed", the activation reminder and the referents'
// weekly digest, each an HTML + text template pair in French and English,
// embedded and parsed when the Notifier is made (a missing or broken
// template stops start-up). Its Scheduler decides when reminders and
// digests are due and queues them exactly once across replicas (see
// Scheduler).
//
// A handler loads what the email needs from the store (the person, their
// structure and services, the token behind a link), renders it in the
// person's language (French by default), and hands it to a mail.Sender. The
// link of an activation or reset email is derived again from the job's nonce
// (onboarding.Tokens.Secret), so a retried job sends the same link; an email
// whose token was used, replaced or has expired is not sent at all. Every
// link in an email points to the configured public URL; values are escaped
// by html/template, and header values are stripped of line breaks by
// internal/mail.
//
// Not sending twice: each email's Message-ID is derived from its job
// (<job-ID.KIND@public-host>). Once the SMTP server has accepted a message,
// the handler appends an audit entry (action "mail.sent", target
// "mail:MESSAGE-ID"); before sending, it looks that entry up and, when
// present, completes the job without sending. The one remaining window is a
// crash (or a store failure) between the server's acceptance of the message
// and that audit write: the job then runs again and the person receives the
// same email (same link, same Message-ID) twice. A retry after such a
// window is logged as a warning (the job has earlier attempts but no
// recorded error).
package notify
