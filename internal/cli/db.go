package cli

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/redact"
	"github.com/patchloop/patchloop/internal/registry"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// defaultDataDir holds the vulnerability database (db/) and the inventory
// cache (cache/) unless --data-dir says otherwise.
const defaultDataDir = "patchloop-data"

// dbDir and cacheDir are the subdirectories of the data directory.
func dbDir(dataDir string) string    { return filepath.Join(dataDir, "db") }
func cacheDir(dataDir string) string { return filepath.Join(dataDir, "cache") }

// stderrLogger logs warnings and errors of the libraries to stderr, and
// with -v their info lines too.
func stderrLogger(s *streams) *slog.Logger {
	level := slog.LevelWarn
	if s.verbose {
		level = slog.LevelInfo
	}
	return slog.New(redact.Handler(slog.NewTextHandler(s.err, &slog.HandlerOptions{Level: level})))
}

// dbRepositoryHost is the registry host of the first database repository,
// for --username; empty when there is none.
func dbRepositoryHost(repos []string) string {
	if len(repos) == 0 {
		return ""
	}
	r, err := name.ParseReference(repos[0])
	if err != nil {
		return ""
	}
	return r.Context().RegistryStr()
}

func newDBCommand(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Download and inspect the vulnerability database",
		Long: `The vulnerability database is Trivy's (schema 2), downloaded as an OCI
artifact from mirror.gcr.io/aquasec/trivy-db:2, then ghcr.io/aquasecurity/trivy-db:2,
or the repositories given with --db-repository. It lives in <data-dir>/db.
Without internet access, db import loads a copy from a file or directory.`,
	}
	cmd.AddCommand(newDBUpdateCommand(s), newDBImportCommand(s), newDBStatusCommand(s))
	return cmd
}

// updateDB runs vulndb.Update and reports on w what it did (a skipped
// download only when verbose).
func updateDB(cmd *cobra.Command, s *streams, w io.Writer, dir string, repos []string, force, verbose bool, client *registry.Client) error {
	res, err := vulndb.Update(cmd.Context(), dir, vulndb.UpdateOptions{
		Repositories: repos,
		Force:        force,
		Registry:     client,
		Logger:       stderrLogger(s),
	})
	if err != nil {
		return err
	}
	if res.Updated {
		fmt.Fprintf(w, "Downloaded the vulnerability database from %s (%s), built %s\n",
			res.Source.Repository, res.Source.Digest, res.Metadata.UpdatedAt.UTC().Format(time.RFC3339))
	} else if verbose {
		fmt.Fprintf(w, "The vulnerability database in %s is up to date: %s\n", dir, res.Reason)
	}
	return nil
}

func newDBUpdateCommand(s *streams) *cobra.Command {
	var (
		dataDir string
		repos   []string
		force   bool
		reg     registryFlags
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download the vulnerability database if a newer one is due",
		Long: `Update downloads the vulnerability database into <data-dir>/db, unless the
installed one is still current (its NextUpdate is in the future, or it was
downloaded less than an hour ago). --force downloads anyway. Repositories are
tried in order; a failed download leaves the installed database untouched.`,
		Example: `  # Update from the default repositories
  patchloop db update

  # Update from a mirror in your own registry
  patchloop db update --db-repository registry.example.com/mirror/trivy-db:2 --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := reg.client(s, dbRepositoryHost(repos))
			if err != nil {
				return err
			}
			return updateDB(cmd, s, s.out, dbDir(dataDir), repos, force, true, client)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dataDir, "data-dir", defaultDataDir, "directory holding the database (in db/) and the scan cache (in cache/)")
	fl.StringSliceVar(&repos, "db-repository", nil, "database artifact repositories to try in order (repeatable; default: mirror.gcr.io/aquasec/trivy-db:2, ghcr.io/aquasecurity/trivy-db:2)")
	fl.BoolVar(&force, "force", false, "download even if the installed database is current")
	reg.register(cmd)
	return cmd
}

func newDBImportCommand(s *streams) *cobra.Command {
	var dataDir, ref string
	cmd := &cobra.Command{
		Use:   "import SOURCE",
		Short: "Install the vulnerability database from a local file or directory (offline)",
		Long: `Import installs the vulnerability database into <data-dir>/db from SOURCE,
without a network. SOURCE is one of:

  - the database artifact's layer, a gzipped tar of trivy.db and metadata.json
    (db.tar.gz, as "oras pull ghcr.io/aquasecurity/trivy-db:2" saves it);
  - an OCI image layout directory holding the artifact (as "oras copy
    --to-oci-layout" or "crane pull --format oci" write it); its layer is
    checked against the manifest's digest. --ref picks one of several;
  - a database directory holding trivy.db and metadata.json (Trivy's cache,
    ~/.cache/trivy/db), or the path of that trivy.db.

The database is checked as a download is, and replaces the installed one
only once it is complete. Scans then use it as they would a download: the
service tries an update only once its NextUpdate has passed and an hour
after the import (serve --skip-db-update never does).`,
		Example: `  # On a machine with internet access
  oras pull ghcr.io/aquasecurity/trivy-db:2        # writes db.tar.gz

  # On the offline machine
  patchloop db import db.tar.gz
  patchloop db import ./trivy-db-layout --ref 2
  patchloop db import ~/.cache/trivy/db --data-dir /var/lib/patchloop`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := dbDir(dataDir)
			res, err := vulndb.Import(cmd.Context(), dir, args[0], vulndb.ImportOptions{Ref: ref, Logger: stderrLogger(s)})
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "Imported the vulnerability database from %s (%s) into %s, built %s\n",
				args[0], res.Source.Digest, dir, res.Metadata.UpdatedAt.UTC().Format(time.RFC3339))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dataDir, "data-dir", defaultDataDir, "directory holding the database (in db/)")
	fl.StringVar(&ref, "ref", "", "the artifact to import from an OCI layout holding several: its org.opencontainers.image.ref.name (for example 2) or manifest digest")
	return cmd
}

// dbStatusJSON is `db status -o json`.
type dbStatusJSON struct {
	Dir          string         `json:"dir"`
	Present      bool           `json:"present"`
	Version      int            `json:"version,omitempty"`
	UpdatedAt    *time.Time     `json:"updatedAt,omitempty"`
	NextUpdate   *time.Time     `json:"nextUpdate,omitempty"`
	DownloadedAt *time.Time     `json:"downloadedAt,omitempty"`
	Age          string         `json:"age,omitempty"`
	AgeSeconds   int64          `json:"ageSeconds,omitempty"`
	Stale        bool           `json:"stale"`
	Size         int64          `json:"size,omitempty"`
	Source       *vulndb.Source `json:"source,omitempty"`
}

// timePtr returns nil for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func statusJSON(r vulndb.StatusReport) dbStatusJSON {
	j := dbStatusJSON{Dir: r.Dir, Present: r.Present}
	if !r.Present {
		return j
	}
	j.Version, j.Stale, j.Size = r.Metadata.Version, r.Stale, r.Size
	j.UpdatedAt, j.NextUpdate, j.DownloadedAt = timePtr(r.Metadata.UpdatedAt), timePtr(r.Metadata.NextUpdate), timePtr(r.Metadata.DownloadedAt)
	j.Age, j.AgeSeconds = r.Age.Round(time.Second).String(), int64(r.Age/time.Second)
	if r.Source.Repository != "" {
		j.Source = &r.Source
	}
	return j
}

func newDBStatusCommand(s *streams) *cobra.Command {
	var dataDir, db, output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the installed vulnerability database's version, age and source",
		Long: `Status describes the database in <data-dir>/db (or --db): schema version,
when it was built (UpdatedAt) and is due to be replaced (NextUpdate), when it
was downloaded, its age, whether it is stale, and the repository and digest
it came from. It exits with 1 when there is no database.`,
		Example: `  patchloop db status
  patchloop db status --db ~/.cache/trivy/db -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseOutput(output)
			if err != nil {
				return err
			}
			dir := db
			if dir == "" {
				dir = dbDir(dataDir)
			}
			r, err := vulndb.Status(cmd.Context(), dir, time.Now())
			if err != nil {
				return err
			}
			if format == outputJSON {
				if err := writeJSON(s.out, statusJSON(r)); err != nil {
					return err
				}
			} else if r.Present {
				writeStatusText(s.out, statusJSON(r))
			}
			if !r.Present {
				return exitCodeError{code: ExitError, err: fmt.Errorf("no vulnerability database in %s; run `patchloop db update`, or `patchloop db import FILE` without internet access", dir)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dataDir, "data-dir", defaultDataDir, "directory holding the database (in db/)")
	fl.StringVar(&db, "db", "", "database directory to describe instead of <data-dir>/db")
	fl.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// writeStatusText prints the status as aligned "Key: value" lines.
func writeStatusText(w io.Writer, j dbStatusJSON) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	ts := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	stale := "no"
	if j.Stale {
		stale = "yes (NextUpdate has passed; run `patchloop db update`)"
	}
	source := "-"
	if j.Source != nil {
		source = strings.TrimSpace(j.Source.Repository + " " + j.Source.Digest)
	}
	fmt.Fprintf(tw, "Directory:\t%s\n", j.Dir)
	fmt.Fprintf(tw, "Version:\t%d\n", j.Version)
	fmt.Fprintf(tw, "UpdatedAt:\t%s\n", ts(j.UpdatedAt))
	fmt.Fprintf(tw, "NextUpdate:\t%s\n", ts(j.NextUpdate))
	fmt.Fprintf(tw, "DownloadedAt:\t%s\n", ts(j.DownloadedAt))
	fmt.Fprintf(tw, "Age:\t%s\n", j.Age)
	fmt.Fprintf(tw, "Stale:\t%s\n", stale)
	fmt.Fprintf(tw, "Size:\t%d bytes\n", j.Size)
	fmt.Fprintf(tw, "Source:\t%s\n", source)
	_ = tw.Flush()
}
