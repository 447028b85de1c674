package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/scan"
	"github.com/patchloop/patchloop/internal/vulndb"
)

// scanFlags are the flags of `patchloop scan`.
type scanFlags struct {
	db             string
	skipDBUpdate   bool
	dbRepositories []string
	dataDir        string
	includeUnfixed bool
	platform       string
	output         string
	exitCode       int
	severities     []string
	reg            registryFlags
}

// checked is what scanFlags.check returns.
type checked struct {
	format     outputFormat
	platform   *v1.Platform
	severities []vulndb.Severity
	// includeUnfixed adds the STATUS column to the table.
	includeUnfixed bool
}

func (f *scanFlags) check() (checked, error) {
	c := checked{includeUnfixed: f.includeUnfixed}
	switch f.output {
	case "table", "text":
		c.format = outputText
	case "json":
		c.format = outputJSON
	default:
		return c, usagef("--output %q: must be table or json", f.output)
	}
	if f.platform != "" {
		p, err := v1.ParsePlatform(f.platform)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return c, usagef("--platform %q: want os/arch[/variant], for example linux/arm64", f.platform)
		}
		c.platform = p
	}
	for _, s := range f.severities {
		sev, ok := vulndb.ParseSeverity(strings.ToUpper(strings.TrimSpace(s)))
		if !ok {
			return c, usagef("--severity %q: want UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL", s)
		}
		c.severities = append(c.severities, sev)
	}
	if f.exitCode < 0 || f.exitCode > 125 {
		return c, usagef("--exit-code %d: must be between 0 and 125", f.exitCode)
	}
	if f.db != "" && len(f.dbRepositories) > 0 {
		return c, usagef("--db-repository has no effect with --db, which uses a database as it is")
	}
	return c, nil
}

func newScanCommand(s *streams) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan IMAGE",
		Short: "Find the OS-package vulnerabilities of an image, as Trivy does",
		Long: `Scan finds the vulnerabilities of an image's OS packages (dpkg, apk, rpm)
with Trivy's vulnerability database and Trivy's matching rules, and prints
them as a table or as Trivy's JSON report (-o json), which Copa and the
patcher read.

IMAGE is a registry reference (host/repo:tag, host/repo@sha256:…) or an OCI
image layout directory (oci:DIR, oci:DIR:TAG, or a directory holding an
oci-layout file). A multi-platform image is scanned once per Linux platform
(-o json then prints an array of reports); --platform picks one.

By default only vulnerabilities with a fixed version are reported, as with
Trivy's --ignore-unfixed; --include-unfixed adds the others with their
vendor status. Unless --db or --skip-db-update is given, the database in
<data-dir>/db is updated first (nothing is downloaded while it is current).
Package inventories are cached by layer in <data-dir>/cache, so rescanning
an image reads none of its layers.

Windows images and images without a recognisable OS are reported as not
scanned, which is not an error. A package whose installed version cannot be
parsed is not checked: a warning names it on stderr and, with -o json, in
the report's "Warnings" list. The exit code is 0 whether or not
vulnerabilities are found, unless --exit-code is given. Progress goes to
stderr, results to stdout.`,
		Example: `  # Scan an image in a local registry
  patchloop scan localhost:5000/library/nginx:1.25

  # Trivy JSON for the arm64 image only, including unfixed vulnerabilities
  patchloop scan localhost:5000/app:1.0 --platform linux/arm64 --include-unfixed -o json

  # Fail a pipeline on fixable HIGH or CRITICAL vulnerabilities
  patchloop scan oci:./build/layout:latest --severity HIGH,CRITICAL --exit-code 1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd, s, &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "use the database in this directory as it is (no update)")
	fl.BoolVar(&f.skipDBUpdate, "skip-db-update", false, "do not update the database in <data-dir>/db first")
	fl.StringSliceVar(&f.dbRepositories, "db-repository", nil, "database artifact repositories to update from, in order (repeatable)")
	fl.StringVar(&f.dataDir, "data-dir", defaultDataDir, "directory holding the database (in db/) and the scan cache (in cache/)")
	fl.BoolVar(&f.includeUnfixed, "include-unfixed", false, "also report vulnerabilities that have no fixed version yet")
	fl.StringVar(&f.platform, "platform", "", "scan only this platform of a multi-platform image: os/arch[/variant]")
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table or json (Trivy's JSON report)")
	fl.IntVar(&f.exitCode, "exit-code", 0, "exit code when vulnerabilities are reported")
	fl.StringSliceVar(&f.severities, "severity", nil, "report only these severities, comma-separated (default: all)")
	f.reg.register(cmd)
	return cmd
}

// imageHost is the registry host of a registry reference, "" otherwise.
func imageHost(arg string) string {
	if strings.HasPrefix(arg, "oci:") {
		return ""
	}
	r, err := name.ParseReference(arg)
	if err != nil {
		return ""
	}
	return r.Context().RegistryStr()
}

func runScan(cmd *cobra.Command, s *streams, f *scanFlags, arg string) error {
	c, err := f.check()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	client, err := f.reg.client(s, imageHost(arg))
	if err != nil {
		return err
	}
	dir := f.db
	if dir == "" {
		dir = dbDir(f.dataDir)
		if !f.skipDBUpdate {
			if err := updateDB(cmd, s, s.err, dir, f.dbRepositories, false, false, client); err != nil {
				return fmt.Errorf("%w (use --skip-db-update to scan with the installed database)", err)
			}
		}
	}
	db, err := vulndb.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	cache, err := ospkg.NewDirCache(cacheDir(f.dataDir))
	if err != nil {
		return err
	}

	targets, err := scan.Resolve(ctx, client, arg, c.platform)
	if errors.Is(err, scan.ErrNoPlatform) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	opts := scan.Options{IncludeUnfixed: f.includeUnfixed, Severities: c.severities, Cache: cache, Logger: stderrLogger(s)}
	reports := make([]*scan.Report, 0, len(targets))
	found := false
	for _, t := range targets {
		fmt.Fprintf(s.err, "Scanning %s%s…\n", arg, inParens(t.Platform))
		rep, err := scan.Scan(ctx, t.Image, db, t.Options(opts))
		if err != nil {
			return err
		}
		switch {
		case !rep.Supported():
			fmt.Fprintf(s.err, "Not scanned: %s%s: %s\n", arg, inParens(t.Platform), rep.Unsupported)
		case rep.Metadata.OS != nil && rep.Metadata.OS.EOSL:
			fmt.Fprintf(s.err, "Warning: %s %s has reached its end of service life; the distribution may no longer publish fixes\n",
				rep.Metadata.OS.Family, rep.Metadata.OS.Name)
		}
		for _, w := range rep.Warnings {
			fmt.Fprintf(s.err, "Warning: %s%s: %s\n", arg, inParens(t.Platform), w.Message)
		}
		found = found || len(rep.Vulnerabilities()) > 0
		reports = append(reports, rep)
	}
	if err := writeReports(s, c, reports); err != nil {
		return err
	}
	if found && f.exitCode != 0 {
		return exitCodeError{code: f.exitCode}
	}
	return nil
}

// writeReports prints the reports in the chosen format.
func writeReports(s *streams, c checked, reports []*scan.Report) error {
	if c.format == outputJSON {
		if len(reports) == 1 {
			return writeJSON(s.out, reports[0])
		}
		return writeJSON(s.out, reports)
	}
	return scan.WriteTable(s.out, reports, scan.TableOptions{Status: c.includeUnfixed, Severities: c.severities})
}

// inParens returns " (s)", or "" for an empty s.
func inParens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
