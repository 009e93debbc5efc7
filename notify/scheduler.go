package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"sesame/internal/i18n"
	"sesame/internal/jobs"
	"sesame/internal/store"
	"sesame/onboarding"
)

// Defaults of the Scheduler.
const (
	// DefaultSchedulerInterval is how often the scheduler looks for
	// reminders and digests to send.
	DefaultSchedulerInterval = 15 * time.Minute
	// DefaultRemindBefore is how long before an activation link expires
	// its person gets the reminder.
	DefaultRemindBefore = 48 * time.Hour
	// digestHour is when, on Monday in the scheduler's time zone, the week's
	// digest becomes due.
	digestHour = 8
	// digestMax bounds the people a digest lists by name.
	digestMax = 50
)

// Scheduler sends the automatic reminders and the weekly digests: every
// Interval, it gives each invited person whose activation link expires
// within RemindBefore one reminder with a fresh link, and from Monday 08:00
// (Location) each structure's referents and contact the week's list of who
// has not activated. Both are skipped for a structure whose reminders are
// off (store.Settings).
//
// Exactly once, with any number of replicas: the decision is a row in the
// claims table (store.Claims), keyed "reminder:PERSON" or
// "digest:STRUCTURE:YEAR-Www" and inserted in the same transaction as the
// new token and the mail jobs. Of two schedulers racing, one commits the
// claim and its jobs; the other finds the key taken and enqueues nothing.
// The mail jobs then run once like any other (see the package comment).
type Scheduler struct {
	Store  store.Store
	Tokens *onboarding.Tokens
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location decides when Monday 08:00 is; nil means Europe/Paris.
	Location     *time.Location
	Interval     time.Duration // 0 means DefaultSchedulerInterval
	RemindBefore time.Duration // 0 means DefaultRemindBefore
	Logger       *slog.Logger
}

// ScheduleResult counts what one pass enqueued.
type ScheduleResult struct {
	Reminders int // people sent a reminder
	Digests   int // digest emails (one per recipient)
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Scheduler) location() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	if loc, err := time.LoadLocation("Europe/Paris"); err == nil {
		return loc
	}
	return time.UTC
}

// Run runs a pass every Interval (the first one Interval after the start,
// so that a restart loop sends nothing more), until ctx ends. A failed
// pass is logged and tried again at the next tick.
func (s *Scheduler) Run(ctx context.Context) error {
	every := cmp.Or(s.Interval, DefaultSchedulerInterval)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if res, err := s.RunOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.logger().Error("notify: scheduler pass failed", "err", err)
		} else if res.Reminders > 0 || res.Digests > 0 {
			s.logger().Info("notify: reminders queued", "reminders", res.Reminders, "digests", res.Digests)
		}
	}
}

// DigestPeriod names the week t falls in, in loc ("2026-W49"), and says
// whether that week's digest is due (from Monday 08:00).
func DigestPeriod(t time.Time, loc *time.Location) (period string, due bool) {
	local := t.In(loc)
	year, week := local.ISOWeek()
	days := (int(local.Weekday()) + 6) % 7 // since Monday
	monday := time.Date(local.Year(), local.Month(), local.Day()-days, digestHour, 0, 0, 0, loc)
	return fmt.Sprintf("%04d-W%02d", year, week), !local.Before(monday)
}

// RunOnce makes one pass over every structure.
func (s *Scheduler) RunOnce(ctx context.Context) (ScheduleResult, error) {
	var res ScheduleResult
	if s.Store == nil || s.Tokens == nil {
		return res, fmt.Errorf("%w: the scheduler needs a store and a token issuer", ErrConfig)
	}
	now := s.now()
	period, due := DigestPeriod(now, s.location())
	structures, err := s.Store.ListStructures(ctx)
	if err != nil {
		return res, fmt.Errorf("notify: scheduler: %w", err)
	}
	var errs []error
	for _, st := range structures {
		on, err := s.Store.RemindersEnabled(ctx, st.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: scheduler: %s: %w", st.Slug, err))
			continue
		}
		if !on {
			continue
		}
		n, err := s.remindStructure(ctx, st, now)
		res.Reminders += n
		if err != nil {
			errs = append(errs, err)
		}
		if due {
			n, err := s.digest(ctx, st, period, now)
			res.Digests += n
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return res, errors.Join(errs...)
}

// remindStructure sends a reminder to each invited member whose link
// expires soon and who has had none.
func (s *Scheduler) remindStructure(ctx context.Context, st store.Structure, now time.Time) (int, error) {
	before := cmp.Or(s.RemindBefore, DefaultRemindBefore)
	people, err := s.Store.ListPeople(ctx, store.PeopleFilter{StructureID: st.ID, State: store.StateInvited})
	if err != nil {
		return 0, fmt.Errorf("notify: scheduler: %s: %w", st.Slug, err)
	}
	if len(people) == 0 {
		return 0, nil
	}
	acts, err := s.Store.LatestActivations(ctx, st.ID)
	if err != nil {
		return 0, fmt.Errorf("notify: scheduler: %s: %w", st.Slug, err)
	}
	sent := 0
	for _, p := range people {
		a, ok := acts[p.ID]
		if !ok || !a.UsedAt.IsZero() || now.Before(a.ExpiresAt.Add(-before)) || !now.Before(a.ExpiresAt) {
			continue
		}
		var done bool
		err := s.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			done = false
			cur, err := tx.GetPerson(ctx, p.ID)
			if err != nil || cur.State != store.StateInvited {
				return err
			}
			claimed, err := tx.Claim(ctx, "reminder:"+p.ID, now)
			if err != nil || !claimed {
				return err
			}
			exp, err := s.Tokens.IssueWith(ctx, tx, p.ID, st.ID, store.PurposeActivate, jobs.KindMailReminder)
			if err != nil {
				return err
			}
			done = true
			return tx.AppendAudit(ctx, &store.AuditEntry{Time: now, Actor: auditActor, Action: "reminder.queued",
				Target: "person:" + p.ID, Details: map[string]any{"structure": st.Slug, "expires_at": exp.Format(time.RFC3339)}})
		})
		if err != nil {
			return sent, fmt.Errorf("notify: scheduler: reminder for %s: %w", p.ID, err)
		}
		if done {
			sent++
		}
	}
	return sent, nil
}

// digest claims the structure's digest of the period and enqueues one
// email per recipient, when someone has not activated.
func (s *Scheduler) digest(ctx context.Context, st store.Structure, period string, now time.Time) (int, error) {
	queued := 0
	err := s.Store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		queued = 0
		claimed, err := tx.Claim(ctx, "digest:"+st.ID+":"+period, now)
		if err != nil || !claimed {
			return err
		}
		pending, err := tx.ListPeople(ctx, store.PeopleFilter{StructureID: st.ID, State: store.StateInvited})
		if err != nil || len(pending) == 0 {
			return err
		}
		var recipients []jobs.DigestMail
		seen := map[string]bool{}
		ms, err := tx.ListMemberships(ctx, store.MembershipFilter{StructureID: st.ID})
		if err != nil {
			return err
		}
		for _, m := range ms {
			if !m.Referent {
				continue
			}
			p, err := tx.GetPerson(ctx, m.PersonID)
			if err != nil || p.State == store.StateDisabled || p.Email == "" {
				continue
			}
			seen[store.FoldEmail(p.Email)] = true
			recipients = append(recipients, jobs.DigestMail{StructureID: st.ID, Period: period, PersonID: p.ID})
		}
		if c := store.FoldEmail(st.Contact); c != "" && !seen[c] {
			recipients = append(recipients, jobs.DigestMail{StructureID: st.ID, Period: period, To: c})
		}
		for _, r := range recipients {
			payload, _ := json.Marshal(r)
			if _, err := tx.EnqueueJob(ctx, &store.Job{Kind: jobs.KindMailDigest, Payload: payload}); err != nil {
				return err
			}
			queued++
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{Time: now, Actor: auditActor, Action: "digest.queued",
			Target: "structure:" + st.Slug, Details: map[string]any{"period": period, "recipients": len(recipients), "pending": len(pending)}})
	})
	if err != nil {
		return 0, fmt.Errorf("notify: scheduler: digest of %s: %w", st.Slug, err)
	}
	return queued, nil
}

// pendingView is one person a digest lists.
type pendingView struct{ Name, Email, State string }

func (n *Notifier) handleDigest(ctx context.Context, job store.Job) error {
	var p jobs.DigestMail
	if err := json.Unmarshal(job.Payload, &p); err != nil || p.StructureID == "" || (p.PersonID == "" && p.To == "") {
		return jobs.Permanent(fmt.Errorf("notify: job %d: payload is not a digest: %q", job.ID, job.Payload))
	}
	return n.prepare(ctx, job, func(ctx context.Context, tx store.Tx, out *outgoing) error {
		if p.PersonID != "" {
			if err := n.person(ctx, tx, job, p.PersonID, out); err != nil || out.skip != "" {
				return err
			}
		} else {
			out.person = store.Person{Email: p.To, Language: "fr"}
			if known, err := tx.GetPersonByEmail(ctx, p.To); err == nil {
				out.person.Language, out.person.GivenName = known.Language, known.GivenName
				out.person.DisplayName = known.DisplayName
			}
		}
		st, err := tx.GetStructure(ctx, p.StructureID)
		if errors.Is(err, store.ErrNotFound) {
			out.skip = "the structure no longer exists"
			return nil
		}
		if err != nil {
			return fmt.Errorf("notify: job %d: structure: %w", job.ID, err)
		}
		pending, err := tx.ListPeople(ctx, store.PeopleFilter{StructureID: st.ID, State: store.StateInvited})
		if err != nil {
			return fmt.Errorf("notify: job %d: people: %w", job.ID, err)
		}
		if len(pending) == 0 {
			out.skip = "everybody has activated meanwhile"
			return nil
		}
		acts, err := tx.LatestActivations(ctx, st.ID)
		if err != nil {
			return fmt.Errorf("notify: job %d: activations: %w", job.ID, err)
		}
		out.email, out.data = emailDigest, n.baseData(out.person, st)
		if p.PersonID == "" && out.person.GivenName == "" {
			out.data.Name = ""
		}
		now := n.cfg.Now()
		lang := out.data.Lang
		for _, x := range pending {
			a := acts[x.ID]
			expired := onboarding.PersonExportState(x, a, now) == onboarding.ExportLinkExpired
			if expired {
				out.data.Expired++
			}
			if len(out.data.People) == digestMax {
				out.data.More++
				continue
			}
			v := pendingView{Name: cmp.Or(oneLine(x.DisplayName), oneLine(x.Username)), Email: oneLine(x.Email)}
			switch {
			case expired && a.ExpiresAt.IsZero() && lang == "en":
				v.State = "no valid link"
			case expired && a.ExpiresAt.IsZero():
				v.State = "aucun lien valable"
			case expired && lang == "en":
				v.State = "link expired on " + i18n.DateTime(a.ExpiresAt, n.loc, lang)
			case expired:
				v.State = "lien expiré le " + i18n.DateTime(a.ExpiresAt, n.loc, lang)
			case lang == "en":
				v.State = "link valid until " + i18n.DateTime(a.ExpiresAt, n.loc, lang)
			default:
				v.State = "lien valable jusqu'au " + i18n.DateTime(a.ExpiresAt, n.loc, lang)
			}
			out.data.People = append(out.data.People, v)
		}
		slices.SortStableFunc(out.data.People, func(a, b pendingView) int {
			return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		})
		out.data.Pending = len(pending)
		out.data.Link = n.publicURL + "/admin/structures/" + url.PathEscape(st.Slug)
		return nil
	})
}
