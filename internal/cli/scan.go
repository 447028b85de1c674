package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/patchloop/patchloop/internal/ospkg"
	"github.com/patchloop/patchloop/internal/reportfmt"
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
	format         string
	ignoreFile     string
	ignoreUnfixed  bool
	timeout        time.Duration
	exitCode       int
	severities     []string
	reg            registryFlags
}

// Scan report formats (-f), as Trivy names them.
const (
	formatTable     = "table"
	formatJSON      = "json"
	formatSARIF     = "sarif"
	formatCycloneDX = "cyclonedx"
	formatSPDXJSON  = "spdx-json"
)

// scanFormats are the values -f takes; "text" is table's old name.
var scanFormats = []string{formatTable, formatJSON, formatSARIF, formatCycloneDX, formatSPDXJSON}

// isScanFormat reports whether s names a report format.
func isScanFormat(s string) bool { return s == "text" || slices.Contains(scanFormats, s) }

// checked is what scanFlags.check returns.
type checked struct {
	// format is one of scanFormats.
	format string
	// file is where the report goes; empty means stdout.
	file       string
	platform   *v1.Platform
	severities []vulndb.Severity
	// includeUnfixed adds the STATUS column to the table.
	includeUnfixed bool
}

func (f *scanFlags) check() (checked, error) {
	c := checked{includeUnfixed: f.includeUnfixed, format: f.format}
	if c.format == "text" {
		c.format = formatTable
	}
	if !slices.Contains(scanFormats, c.format) {
		return c, usagef("--format %q: must be one of %s", f.format, strings.Join(scanFormats, ", "))
	}
	switch {
	case f.output == "":
	case isScanFormat(f.output):
		// -o json and -o table name the format, as before.
		out := f.output
		if out == "text" {
			out = formatTable
		}
		if f.format != formatTable && f.format != out {
			return c, usagef("--output %q and --format %q disagree; use --format for the format and --output for the file", f.output, f.format)
		}
		c.format = out
	default:
		c.file = f.output
	}
	if f.ignoreUnfixed && f.includeUnfixed {
		return c, usagef("--ignore-unfixed and --include-unfixed contradict each other (--ignore-unfixed is the default)")
	}
	if f.timeout < 0 {
		return c, usagef("--timeout %s: must not be negative", f.timeout)
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
them as a table, as Trivy's JSON report (-f json), which Copa and the
patcher read, as SARIF 2.1.0 (-f sarif, for code-scanning dashboards) or as
a CycloneDX or SPDX SBOM of the OS packages (-f cyclonedx, -f spdx-json).
--output FILE writes the report to FILE instead of stdout; as before,
-o table and -o json name the format.

IMAGE is a registry reference (host/repo:tag, host/repo@sha256:…) or an OCI
image layout directory (oci:DIR, oci:DIR:TAG, or a directory holding an
oci-layout file). A multi-platform image is scanned once per Linux platform
(-f json then prints an array of reports; SARIF and the SBOMs are one
document covering every platform); --platform picks one.

By default only vulnerabilities with a fixed version are reported, as with
Trivy's --ignore-unfixed (accepted, and the default); --include-unfixed adds
the others with their vendor status. Vulnerability IDs listed in
./.trivyignore (or --ignorefile FILE; Trivy's format: one ID per line, '#'
comments, an optional exp:YYYY-MM-DD after the ID, from which date the line
no longer applies) are set aside: the table counts them ("Ignored: N") and
the JSON report lists them under each result's
"ExperimentalModifiedFindings", as Trivy does with --show-suppressed. Unless --db or --skip-db-update is given, the database in
<data-dir>/db is updated first (nothing is downloaded while it is current).
Package inventories are cached by layer in <data-dir>/cache, so rescanning
an image reads none of its layers.

Windows images and images without a recognisable OS are reported as not
scanned, which is not an error. A package whose installed version cannot be
parsed is not checked: a warning names it on stderr and, with -o json, in
the report's "Warnings" list. The exit code is 0 whether or not
vulnerabilities are found, unless --exit-code is given (ignored findings do
not count). Progress goes to stderr (-q silences it, not the warnings),
results to stdout or --output. --timeout bounds the whole command.`,
		Example: `  # Scan an image in a local registry
  patchloop scan localhost:5000/library/nginx:1.25

  # Trivy JSON for the arm64 image only, including unfixed vulnerabilities
  patchloop scan localhost:5000/app:1.0 --platform linux/arm64 --include-unfixed -o json

  # SARIF for GitHub code scanning, written to a file, with an ignore file
  patchloop scan localhost:5000/app:1.0 -f sarif -o app.sarif --ignorefile ci/.trivyignore

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
	fl.StringVarP(&f.format, "format", "f", formatTable, "report format: "+strings.Join(scanFormats, ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file (table and json here name the format, as before)")
	fl.StringVar(&f.ignoreFile, "ignorefile", scan.DefaultIgnoreFile, "ignore the vulnerability IDs listed in this file (Trivy's .trivyignore format)")
	fl.BoolVar(&f.ignoreUnfixed, "ignore-unfixed", false, "report only vulnerabilities with a fixed version (the default; for Trivy's users)")
	fl.DurationVar(&f.timeout, "timeout", 0, "give up after this long, for example 5m (default: no limit)")
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

func runScan(cmd *cobra.Command, s *streams, f *scanFlags, arg string) (err error) {
	c, err := f.check()
	if err != nil {
		return err
	}
	ignore, err := loadIgnoreFlag(cmd, f.ignoreFile)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, f.timeout, fmt.Errorf("scan: --timeout %s reached", f.timeout))
		defer cancel()
		cmd.SetContext(ctx)
		defer func() { err = timeoutCause(ctx, err) }()
	}
	progress := s.err
	if s.quiet { // -q, a flag of every command
		progress = io.Discard
	}
	client, err := f.reg.client(s, imageHost(arg))
	if err != nil {
		return err
	}
	dir := f.db
	if dir == "" {
		dir = dbDir(f.dataDir)
		if !f.skipDBUpdate {
			if err := updateDB(cmd, s, progress, dir, f.dbRepositories, false, false, client); err != nil {
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
	opts := scan.Options{IncludeUnfixed: f.includeUnfixed, Severities: c.severities, Cache: cache, Logger: stderrLogger(s), Ignore: ignore}
	reports := make([]*scan.Report, 0, len(targets))
	found := false
	for _, t := range targets {
		fmt.Fprintf(progress, "Scanning %s%s…\n", arg, inParens(t.Platform))
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
	if err := writeReportsTo(s, c, reports); err != nil {
		return err
	}
	if found && f.exitCode != 0 {
		return exitCodeError{code: f.exitCode}
	}
	return nil
}

// writeReportsTo writes the reports to stdout or, with --output FILE, to
// FILE: written in full to a temporary file beside it and renamed, so a
// failed scan never leaves half a report.
func writeReportsTo(s *streams, c checked, reports []*scan.Report) error {
	if c.file == "" {
		return writeReports(s.out, c, reports)
	}
	dir, base := filepath.Split(c.file)
	tmp, err := os.CreateTemp(dir, "."+base+".*")
	if err != nil {
		return fmt.Errorf("--output %s: %w", c.file, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if err := writeReports(tmp, c, reports); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("--output %s: %w", c.file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--output %s: %w", c.file, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("--output %s: %w", c.file, err)
	}
	if err := os.Rename(tmp.Name(), c.file); err != nil {
		return fmt.Errorf("--output %s: %w", c.file, err)
	}
	return nil
}

// writeReports writes the reports in the chosen format.
func writeReports(w io.Writer, c checked, reports []*scan.Report) error {
	tool := reportfmt.Tool{Name: "patchloop", Version: buildVersion().Version}
	switch c.format {
	case formatJSON:
		if len(reports) == 1 {
			return writeJSON(w, reports[0])
		}
		return writeJSON(w, reports)
	case formatSARIF:
		return reportfmt.WriteSARIF(w, reports, tool)
	case formatCycloneDX:
		return reportfmt.WriteCycloneDX(w, reports, tool, time.Now())
	case formatSPDXJSON:
		return reportfmt.WriteSPDX(w, reports, tool, time.Now())
	}
	return scan.WriteTable(w, reports, scan.TableOptions{Status: c.includeUnfixed, Severities: c.severities})
}

// loadIgnoreFlag reads --ignorefile; the default .trivyignore may be
// missing, a file named on the command line may not.
func loadIgnoreFlag(cmd *cobra.Command, path string) (*scan.Ignore, error) {
	optional := !cmd.Flags().Changed("ignorefile")
	if path == "" {
		return nil, nil
	}
	ig, err := scan.LoadIgnore(path, optional)
	if err != nil {
		return nil, usagef("--ignorefile: %v", err)
	}
	return ig, nil
}

// timeoutCause replaces a deadline error with the --timeout message.
func timeoutCause(ctx context.Context, err error) error {
	cause := context.Cause(ctx)
	if err != nil && cause != nil && !errors.Is(cause, context.DeadlineExceeded) && !errors.Is(err, cause) {
		return fmt.Errorf("%w: %w", cause, err)
	}
	return err
}

// inParens returns " (s)", or "" for an empty s.
func inParens(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
