package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"sesame/idp"
	"sesame/internal/store"
)

func init() { commands = append(commands, newKeysCmd) }

func newKeysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the OpenID Connect provider's signing keys",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newKeysRotateCmd(a), newKeysListCmd(a))
	return cmd
}

// keyManager builds the idp key manager from the configuration.
func (a *app) keyManager(cmd *cobra.Command) (*idp.KeyManager, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	st, err := a.store(cmd.Context())
	if err != nil {
		return nil, err
	}
	master, err := a.masterKey(cfg)
	if err != nil {
		return nil, err
	}
	return &idp.KeyManager{Store: st, MasterKey: master}, nil
}

func newKeysRotateCmd(a *app) *cobra.Command {
	var delay, keep time.Duration
	cmd := &cobra.Command{
		Use:   "rotate [--publish-delay 10m] [--keep 360h]",
		Short: "Publish new signing keys (RS256 and ES256) that take over after a delay",
		Long: `Rotate creates one new key per algorithm. The new keys are published in the JWKS at once and
start signing after --publish-delay (longer than the servers' key reload interval, replicas.key_reload: one minute by default, and
than the relying parties' JWKS cache); the keys they replace stay published for --keep after that
(15 days: tokens live an hour, but WordPress sends its login's ID token as the logout hint up to
14 days later), and are then removed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The key manager takes a duration that is not positive for its
			// default: a hoster asking for 0 (a key to replace at once)
			// would be told it signs now while the old one signs 10 more
			// minutes.
			if delay <= 0 || keep <= 0 {
				return exitWith(2, fmt.Errorf("--publish-delay and --keep must be positive durations (got %s and %s); "+
					"for a key that signs almost at once, give --publish-delay 1s (relying parties that cached the keys "+
					"before it refuse its tokens until they fetch them again)", delay, keep))
			}
			km, err := a.keyManager(cmd)
			if err != nil {
				return err
			}
			km.PublishDelay, km.KeepAfter = delay, keep
			kids, err := km.Rotate(cmd.Context())
			if err != nil {
				return fmt.Errorf("rotate keys: %w", err)
			}
			// Said from the stored keys: the first key of an algorithm
			// signs at once, not after the delay.
			keys, err := km.Store.ListSigningKeys(cmd.Context())
			if err != nil {
				return fmt.Errorf("list keys: %w", err)
			}
			from := map[string]time.Time{}
			for _, k := range keys {
				from[k.KID] = k.NotBefore
			}
			for _, k := range kids {
				fmt.Fprintf(a.out, "New key %s published; it signs from %s.\n", k, from[k].UTC().Format(time.RFC3339))
			}
			// Recorded once the keys are stored (the key manager writes
			// them in its own transaction): a failure here is reported, the
			// keys stay.
			if err := km.Store.AppendAudit(cmd.Context(), &store.AuditEntry{Actor: cliActor(), Action: "keys.rotate",
				Target: "keys", Details: map[string]any{"keys": kids, "publish_delay": delay.String()}}); err != nil {
				return fmt.Errorf("keys rotated (%s), but the audit entry failed: %w", strings.Join(kids, ", "), err)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&delay, "publish-delay", 10*time.Minute, "How long the new keys are published before they sign.")
	cmd.Flags().DurationVar(&keep, "keep", idp.DefaultKeyKeep, "How long the replaced keys stay published once the new ones sign (WordPress sends old ID tokens as logout hints).")
	return cmd
}

func newKeysListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the signing keys and when they sign and retire",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			keys, err := st.ListSigningKeys(cmd.Context())
			if err != nil {
				return fmt.Errorf("list keys: %w", err)
			}
			tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KID\tALG\tSIGNS FROM\tRETIRES")
			for _, k := range keys {
				retire := "-"
				if !k.RetireAfter.IsZero() {
					retire = k.RetireAfter.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.KID, k.Alg, k.NotBefore.UTC().Format(time.RFC3339), retire)
			}
			return tw.Flush()
		},
	}
}
