package jobs

// The kinds of the automatic reminders (notify.Scheduler enqueues them).
const (
	// KindMailReminder sends an invited person a fresh activation link
	// before the old one expires. Payload: TokenMail.
	KindMailReminder = "mail.reminder"
	// KindMailDigest sends one of a structure's referents (or its contact)
	// the weekly list of who has not activated. Payload: DigestMail.
	KindMailDigest = "mail.digest"
)

// DigestMail is the payload of KindMailDigest: the structure, the period
// it covers ("2026-W49"), and the recipient, a person (PersonID) or the
// structure's contact address (To).
type DigestMail struct {
	StructureID string `json:"structure_id"`
	Period      string `json:"period"`
	PersonID    string `json:"person_id,omitempty"`
	To          string `json:"to,omitempty"`
}
