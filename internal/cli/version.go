package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/vulndb"
)

// versionJSON is the output of patchloop version -o json.
type versionJSON struct {
	Version    string       `json:"version"`
	Commit     string       `json:"commit,omitempty"`
	CommitTime string       `json:"commitTime,omitempty"`
	Modified   bool         `json:"modified,omitempty"`
	GoVersion  string       `json:"goVersion"`
	VulnDB     dbStatusJSON `json:"vulnDB"`
}

// buildVersion reads the module version and VCS stamp the Go toolchain put
// into the binary.
func buildVersion() versionJSON {
	v := versionJSON{Version: "(devel)", GoVersion: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if info.Main.Version != "" {
		v.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// versionReport is the build's version and the database's in dir.
func versionReport(ctx context.Context, dir string) (versionJSON, error) {
	v := buildVersion()
	r, err := vulndb.Status(ctx, dir, time.Now())
	if err != nil {
		return v, err
	}
	v.VulnDB = statusJSON(r)
	return v, nil
}

func writeVersionText(w io.Writer, v versionJSON) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "Version:\t%s\n", v.Version)
	commit := v.Commit
	switch {
	case commit == "":
		commit = "unknown (built without VCS information)"
	case v.Modified:
		commit += " (with uncommitted changes)"
	}
	if v.CommitTime != "" {
		commit += " " + v.CommitTime
	}
	fmt.Fprintf(tw, "Commit:\t%s\n", commit)
	fmt.Fprintf(tw, "Go:\t%s\n", v.GoVersion)
	db := v.VulnDB
	if !db.Present {
		fmt.Fprintf(tw, "Vulnerability DB:\tnot downloaded (%s; run `patchloop db update`)\n", db.Dir)
	} else {
		built := "unknown"
		if db.UpdatedAt != nil {
			built = db.UpdatedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "Vulnerability DB:\tschema %d, built %s, %s old (%s)\n", db.Version, built, db.Age, db.Dir)
	}
	_ = tw.Flush()
}

func newVersionCommand(s *streams) *cobra.Command {
	var dataDir, db, output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show Patchloop's version, commit and Go version, and the vulnerability database's",
		Long: `Version prints the version and commit Patchloop was built from, the Go
version, and the version and age of the vulnerability database in
<data-dir>/db (or --db), or "not downloaded". patchloop --version prints the
same for the default data directory.`,
		Example: `  patchloop version
  patchloop version --data-dir /var/lib/patchloop -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return err
			}
			v, err := versionReport(cmd.Context(), dirOr(db, dataDir))
			if err != nil {
				return err
			}
			if format == outputJSON {
				return writeJSON(s.out, v)
			}
			writeVersionText(s.out, v)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dataDir, "data-dir", defaultDataDir, "directory holding the vulnerability database (in db/)")
	fl.StringVar(&db, "db", "", "vulnerability database directory to describe instead of <data-dir>/db")
	fl.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// dirOr is db when set, else the database directory of dataDir.
func dirOr(db, dataDir string) string {
	if db != "" {
		return db
	}
	return dbDir(dataDir)
}

// setVersionFlag gives root a --version flag printing what version prints
// for the default data directory.
func setVersionFlag(root *cobra.Command) {
	root.Version = buildVersion().Version
	root.SetVersionTemplate("{{patchloopVersion}}")
	// cobra keeps template functions in one global map: register ours once,
	// not per command tree (trees are built concurrently in tests).
	addVersionTemplateFunc.Do(func() {
		cobra.AddTemplateFunc("patchloopVersion", func() string {
			var b strings.Builder
			v, err := versionReport(context.Background(), dbDir(defaultDataDir))
			if err != nil {
				return fmt.Sprintf("Version: %s\nVulnerability DB: %v\n", v.Version, err)
			}
			writeVersionText(&b, v)
			return b.String()
		})
	})
}

// addVersionTemplateFunc registers the --version template function once.
var addVersionTemplateFunc sync.Once
