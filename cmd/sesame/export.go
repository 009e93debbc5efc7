package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"sesame/internal/store"
	"sesame/onboarding"
)

func init() { commands = append(commands, newExportCmd) }

func newExportCmd(a *app) *cobra.Command {
	var output, lang string
	cmd := &cobra.Command{
		Use:   "export STRUCTURE [-o FILE] [--lang fr|en]",
		Short: "Write a structure's people, rights and states as a spreadsheet (CSV)",
		Long: `Export writes a structure's members as a CSV file that Excel and LibreOffice open as they are
(UTF-8 with a byte order mark, ";" separated): names, email, username, language, quota, rights
(as the import reads them), state (invited, link expired, active, disabled), referent, link
expiry and creation date. A cell a spreadsheet would run as a formula (starting with "=", "+",
"-", "@", a tab or a carriage return) is written with a leading "'"; the import removes it, so an
export can be imported again as it is. Without -o, the file goes to standard output; a file
written with -o is readable by its owner only (it holds personal data).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if lang != "fr" && lang != "en" {
				return exitWith(2, fmt.Errorf("--lang must be fr or en, not %q", lang))
			}
			if !cmd.Flags().Changed("lang") {
				lang = localeLang()
			}
			ctx := cmd.Context()
			if output != "" && output != "-" {
				cfg, err := a.config()
				if err != nil {
					return err
				}
				if f := sesameFile(cfg, output); f != "" {
					return exitWith(2, fmt.Errorf("-o %s is %s: the export must go to another file. Nothing was written", output, f))
				}
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			var rows []onboarding.ExportRow
			var structure store.Structure
			err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				var err error
				structure, rows, err = onboarding.ExportPeople(ctx, tx, args[0], time.Now())
				return err
			})
			if errors.Is(err, onboarding.ErrUnknownStructure) {
				return exitWith(2, fmt.Errorf("no structure %q (see sesame structure list)", args[0]))
			}
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := onboarding.WriteExportCSV(&buf, rows, lang); err != nil {
				return err
			}
			if err := st.AppendAudit(ctx, &store.AuditEntry{Actor: cliActor(), Action: "structure.export",
				Target: "structure:" + structure.Slug, Details: map[string]any{"rows": len(rows)}}); err != nil {
				return err
			}
			if output == "" || output == "-" {
				_, err := a.out.Write(buf.Bytes())
				return err
			}
			if err := writePrivateFile(output, buf.Bytes()); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			a.logger.Info("export written", "structure", structure.Slug, "file", output, "people", len(rows))
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to this file (mode 0600) instead of standard output.")
	cmd.Flags().StringVar(&lang, "lang", "fr", "Language of the headers and states: fr or en (default: en when the locale is English, else fr).")
	return cmd
}

// writePrivateFile writes data to path with mode 0600 whatever was there
// before: into a new file next to it, then renamed over it, so that an
// existing file's wider mode is not kept and a symbolic link at path is
// replaced, not followed.
func writePrivateFile(path string, data []byte) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type()&(os.ModeNamedPipe|os.ModeDevice|os.ModeCharDevice) != 0 {
		// A pipe or a device (a reader, /dev/null) is written into, as
		// before: renaming over it would replace it by a file of the data.
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sesame-export-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone already once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
