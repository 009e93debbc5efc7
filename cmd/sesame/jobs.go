package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sesame/internal/config"
	"sesame/internal/jobs"
	"sesame/internal/store"
)

func init() { commands = append(commands, newJobsCmd) }

// disabledJobSinks names the job sinks whose component the configuration
// leaves off: the store never queues their jobs (a queue nobody would ever
// run), and serve clears what an earlier configuration left pending.
func disabledJobSinks(cfg *config.Config) []string {
	var off []string
	if !cfg.LDAPEnabled() {
		off = append(off, jobs.SinkLDAP)
	}
	return off
}

// clearDisabledJobs deletes the jobs of disabled sinks that wait to run
// (left by a configuration where their component was on) and logs how many.
func clearDisabledJobs(ctx context.Context, cfg *config.Config, st store.Store, log *slog.Logger) error {
	for _, sink := range disabledJobSinks(cfg) {
		n, err := st.ClearPendingJobs(ctx, sink)
		if err != nil {
			return fmt.Errorf("clear the pending %s jobs: %w", sink, err)
		}
		if n > 0 {
			log.Warn(fmt.Sprintf("%s is off: cleared %d pending %s.* jobs that nothing would run; once %s is turned on, "+
				"`sesame %s sync` brings it up to date", sinkName[sink], n, sink, sinkName[sink], sink), "sink", sink, "cleared", n)
		}
	}
	return nil
}

// sinkName is how the logs name each sink's component.
var sinkName = map[string]string{jobs.SinkLDAP: "LDAP"}

func newJobsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "See the queue of background work (directory, emails, logouts) and retry what failed",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newJobsListCmd(a), newJobsRetryCmd(a))
	return cmd
}

// jobJSON is a job in "jobs list --format json" (the payload names people
// and structures by id; it never holds a secret).
type jobJSON struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	RunAfter  time.Time `json:"run_after"`
	LastError string    `json:"last_error,omitempty"`
	Payload   string    `json:"payload"`
	UpdatedAt time.Time `json:"updated_at"`
}

func newJobsListCmd(a *app) *cobra.Command {
	var state, kind, format string
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--state dead] [--kind K] [--format json]",
		Short: "List jobs, with how many there are in each state",
		Long: `List prints how many jobs are pending, running, done and dead, then the jobs themselves
(by default the dead ones: those that failed every attempt, with their last error). Kinds:
ldap.person, ldap.structure, mail.activate, mail.reset, mail.access, mail.password-changed,
oidc.backchannel-logout, oidc.end-sessions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			s := store.JobState(state)
			switch s {
			case store.JobPending, store.JobRunning, store.JobDone, store.JobDead:
			default:
				return exitWith(2, fmt.Errorf("--state must be pending, running, done or dead, not %q", state))
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			counts, err := st.CountJobs(ctx)
			if err != nil {
				return fmt.Errorf("count jobs: %w", err)
			}
			jobs, err := st.ListJobs(ctx, store.JobFilter{State: s, Kind: kind, Limit: limit})
			if err != nil {
				return fmt.Errorf("list jobs: %w", err)
			}
			if format == "json" {
				out := struct {
					Counts map[store.JobState]int `json:"counts"`
					Jobs   []jobJSON              `json:"jobs"`
				}{Counts: counts, Jobs: []jobJSON{}}
				for _, j := range jobs {
					out.Jobs = append(out.Jobs, jobJSON{ID: j.ID, Kind: j.Kind, State: string(j.State), Attempts: j.Attempts,
						RunAfter: j.RunAfter, LastError: j.LastError, Payload: string(j.Payload), UpdatedAt: j.UpdatedAt})
				}
				return a.writeJSON(out)
			}
			fmt.Fprintf(a.out, "pending %d, running %d, done %d, dead %d\n",
				counts[store.JobPending], counts[store.JobRunning], counts[store.JobDone], counts[store.JobDead])
			cfg, err := a.config()
			if err != nil {
				return err
			}
			for _, sink := range disabledJobSinks(cfg) {
				left, err := st.ListJobs(ctx, store.JobFilter{State: store.JobPending, Sink: sink, Limit: 1})
				if err != nil {
					return fmt.Errorf("list jobs: %w", err)
				}
				if len(left) > 0 {
					fmt.Fprintf(a.out, "Pending %s.* jobs will not run: %s is off. 'sesame serve' clears them when it starts; "+
						"once %s is on, 'sesame %s sync' brings it up to date.\n", sink, sinkName[sink], sinkName[sink], sink)
				}
			}
			if len(jobs) == 0 {
				fmt.Fprintf(a.out, "No %s job%s.\n", s, map[bool]string{true: " of kind " + kind, false: ""}[kind != ""])
				return nil
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tATTEMPTS\tUPDATED\tPAYLOAD\tLAST ERROR")
			for _, j := range jobs {
				fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", j.ID, j.Kind, j.Attempts, j.UpdatedAt.UTC().Format("2006-01-02 15:04"),
					string(j.Payload), dashIfEmpty(oneLine(j.LastError, 200)))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&state, "state", string(store.JobDead), "Jobs in this state: pending, running, done or dead.")
	cmd.Flags().StringVar(&kind, "kind", "", "Only jobs of this kind, e.g. oidc.backchannel-logout.")
	cmd.Flags().IntVar(&limit, "limit", 100, "At most this many jobs (the oldest first).")
	cmd.Flags().StringVar(&format, "format", "text", "Output format: text or json.")
	return cmd
}

// oneLine shortens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func newJobsRetryCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "retry ID [ID...]",
		Short: "Give dead jobs a fresh set of attempts, once their cause is fixed",
		Long: `Retry makes dead jobs pending again, due now, with their attempts counted from zero; the
running server picks them up. Only dead jobs can be retried.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			ids := make([]int64, len(args))
			for i, arg := range args {
				id, err := strconv.ParseInt(arg, 10, 64)
				if err != nil || id <= 0 {
					return exitWith(2, fmt.Errorf("%q is not a job id (see sesame jobs list)", arg))
				}
				ids[i] = id
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			var failed []error
			for _, id := range ids {
				err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					if err := tx.RequeueJob(ctx, id); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, &store.AuditEntry{Actor: cliActor(), Action: "job.retry",
						Target: "job:" + strconv.FormatInt(id, 10)})
				})
				switch {
				case err == nil:
					fmt.Fprintf(a.out, "Job %d will run again.\n", id)
				case errors.Is(err, store.ErrNotFound):
					failed = append(failed, fmt.Errorf("job %d: no such job", id))
				case errors.Is(err, store.ErrConflict):
					failed = append(failed, fmt.Errorf("job %d: only dead jobs can be retried", id))
				default:
					return err
				}
			}
			if len(failed) > 0 {
				return exitWith(1, errors.Join(failed...))
			}
			return nil
		},
	}
}
